"""The field reference of docs/authoring.md, generated from the content model.

``render_field_reference()`` writes one markdown table per model (field, type,
required, description), walking from :class:`~quiz.content.model.Case` and
:class:`~quiz.content.model.QuestionBank` in field order. Types and limits come from the
JSON Schema pydantic derives (what validation really enforces); descriptions
from the model's ``Field(description=...)`` and class docstrings, the same text
the JSON Schema gives editors as hover help. ``python -m quiz docs`` rewrites
the block between the markers in the guide; ``--check`` only compares.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

from pydantic import BaseModel

from . import model as content_model
from ..settings import REPO

AUTHORING_DOC = REPO / "docs" / "authoring.md"
START = "<!-- field-reference:start -->"
END = "<!-- field-reference:end -->"

_SLUG_PATTERN = content_model.Slug.__metadata__[0].pattern  # type: ignore[attr-defined]

#: The two files' top-level models, with where they live.
ROOTS: tuple[tuple[type[BaseModel], str], ...] = (
    (content_model.Case, "a case file, `cases/<id>.yaml`"),
    (content_model.QuestionBank, "the question bank, `questions.yaml`"),
)


class MarkerError(ValueError):
    """The document lacks the field-reference markers (or has them out of order)."""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type(node: dict, defs: dict) -> str:
    """A schema node in words: ``id``, ``text``, ``list of [Finding](#finding), at least 1``."""
    if "anyOf" in node:
        variants = [v for v in node["anyOf"] if v.get("type") != "null"]
        return " or ".join(_type(v, defs) for v in variants)
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "enum" in node:
        return "one of " + ", ".join(f"`{value}`" for value in node["enum"])
    kind = node.get("type")
    if kind == "string":
        if node.get("pattern") == _SLUG_PATTERN:
            return "id"
        low, high = node.get("minLength"), node.get("maxLength")
        if (low, high) == (1, 20_000):
            return "text"
        return f"text of {low or 0}-{high} characters" if high else "text"
    if kind in ("integer", "number"):
        word = "integer" if kind == "integer" else "number"
        low = node.get("minimum", node.get("exclusiveMinimum"))
        high = node.get("maximum", node.get("exclusiveMaximum"))
        if low is not None and high is not None:
            if "exclusiveMinimum" in node or "exclusiveMaximum" in node:
                return f"{word} between {low} and {high} (exclusive)"
            return f"{word} from {low} to {high}"
        return word
    if kind == "array":
        out = "list of " + _type(node.get("items", {}), defs)
        low, high = node.get("minItems"), node.get("maxItems")
        if low and high:
            out += f", {low} to {high} items"
        elif low:
            out += f", at least {low}"
        elif high:
            out += f", at most {high} items"
        return out
    if kind == "object":
        values = node.get("additionalProperties") or next(iter(node.get("patternProperties", {}).values()), {})
        return f"mapping of option id to {_type(values, defs)}" if values else "mapping"
    return str(kind or "any")


def _default(value: object) -> str:
    if value in (None, [], {}):
        return "no"
    return f"no (default `{json.dumps(value)}`)"


def _walk(schema: dict) -> list[str]:
    """Names of the models reachable from ``schema``, depth first in field order."""
    defs = schema.get("$defs", {})
    seen: list[str] = []

    def refs(node: object):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"].rsplit("/", 1)[-1]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    def visit(props: dict) -> None:
        for prop in props.values():
            for name in refs(prop):
                if name not in seen:
                    seen.append(name)
                    visit(defs[name].get("properties", {}))

    visit(schema.get("properties", {}))
    return seen


def _table(name: str, node: dict, defs: dict) -> list[str]:
    doc = node.get("description") or ""
    cls = getattr(content_model, name, None)
    fields = cls.model_fields if isinstance(cls, type) and issubclass(cls, BaseModel) else {}
    lines = [f"### {name}", ""]
    if doc:
        lines += [_cell(inspect.cleandoc(doc).split("\n\n")[0]), ""]
    lines += ["| Field | Type | Required | Description |", "| --- | --- | --- | --- |"]
    required = set(node.get("required", []))
    for field, prop in node.get("properties", {}).items():
        info = fields.get(field)
        description = (info.description if info else None) or prop.get("description") or ""
        needed = "yes" if field in required else _default(prop.get("default"))
        lines.append(f"| `{field}` | {_cell(_type(prop, defs))} | {needed} | {_cell(description)} |")
    return lines + [""]


def render_field_reference() -> str:
    """Markdown tables of every content model, ending with a newline."""
    out = [
        "<!-- Generated from quiz/content/model.py by `python -m quiz docs`; do not edit by hand. -->",
        "",
        "Types: *id* is a slug of lower-case letters, digits and single hyphens or underscores (at most",
        "80 characters); *text* is a non-empty string (markdown where it is shown to learners).",
        "Unknown fields are errors.",
        "",
    ]
    for root, where in ROOTS:
        schema = root.model_json_schema()
        defs = schema.get("$defs", {})
        out += [f"The top level of {where} is a [{root.__name__}](#{root.__name__.lower()}).", ""]
        out += _table(root.__name__, schema, defs)
        for name in _walk(schema):
            out += _table(name, defs[name], defs)
    return "\n".join(out).rstrip("\n") + "\n"


def _split(text: str) -> tuple[str, str, str]:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0 or end < start:
        raise MarkerError(f"the markers {START} and {END} are missing or out of order")
    head_end = start + len(START)
    return text[:head_end], text[head_end:end], text[end:]


def current_block(text: str) -> str:
    """The generated part of the guide (between the markers, without the blank lines around it)."""
    return _split(text)[1].strip("\n") + "\n"


def update(text: str) -> str:
    """``text`` with the block between the markers replaced by a fresh field reference."""
    head, _, tail = _split(text)
    return f"{head}\n\n{render_field_reference()}\n{tail}"


def update_file(path: Path = AUTHORING_DOC, *, check: bool = False) -> bool:
    """Rewrite the field reference in ``path`` (unless ``check``); return whether it was out of date."""
    text = Path(path).read_text(encoding="utf-8")
    fresh = update(text)
    if fresh == text:
        return False
    if not check:
        Path(path).write_text(fresh, encoding="utf-8")
    return True
