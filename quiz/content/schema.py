"""JSON Schemas of the content files, for editors that validate and complete YAML."""
from __future__ import annotations

import json
from pathlib import Path

from .model import Case, QuestionBank

SCHEMAS = {"case.schema.json": Case, "questions.schema.json": QuestionBank}


def render() -> dict[str, str]:
    """File name -> schema text, deterministic so a test can compare it with the committed copy."""
    out = {}
    for name, model in SCHEMAS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
