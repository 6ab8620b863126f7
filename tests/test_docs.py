"""docs/authoring.md stays true: the field reference is current and the worked example exists."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from quiz import cli
from quiz.content import docgen
from quiz.content import model as content_model

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "authoring.md"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_field_reference_is_current() -> None:
    assert docgen.current_block(doc_text()) == docgen.render_field_reference(), (
        "docs/authoring.md is out of date: run python -m quiz docs"
    )


def test_docs_check_command_passes(capsys) -> None:
    assert cli.main(["docs", "--check"]) == cli.EXIT_OK


def test_every_model_field_is_in_the_reference() -> None:
    reference = docgen.render_field_reference()
    models = [m for m in vars(content_model).values()
              if isinstance(m, type) and issubclass(m, content_model.Strict) and m is not content_model.Strict]
    assert len(models) >= 10
    for model in models:
        assert f"### {model.__name__}\n" in reference, model.__name__
        section = reference.split(f"### {model.__name__}\n", 1)[1].split("\n### ", 1)[0]
        for name in model.model_fields:
            assert f"| `{name}` |" in section, f"{model.__name__}.{name}"


def test_required_column_follows_the_model() -> None:
    reference = docgen.render_field_reference()
    for model in (content_model.Case, content_model.Question, content_model.Source):
        section = reference.split(f"### {model.__name__}\n", 1)[1].split("\n### ", 1)[0]
        for name, info in model.model_fields.items():
            row = next(line for line in section.splitlines() if line.startswith(f"| `{name}` |"))
            required = row.split(" | ")[2]
            assert (required == "yes") == info.is_required(), row


def worked_example_files() -> set[str]:
    """Case files named in the guide's "Worked example" section."""
    section = doc_text().split("### Worked example", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"content/cases/([a-z0-9][a-z0-9_-]*\.yaml)", section))


def test_doc_names_existing_case_files_as_worked_example() -> None:
    named = worked_example_files()
    assert named, "the guide's worked example names no vignette in content/cases"
    for name in named:
        assert (REPO / "content" / "cases" / name).is_file(), f"docs/authoring.md names missing content/cases/{name}"


def test_quoted_yaml_matches_the_worked_example() -> None:
    """Every line of the guide's YAML excerpts (other than the skeleton's) is in a named case file."""
    text = doc_text()
    files = worked_example_files()
    lines = {
        line.strip()
        for name in files if (REPO / "content" / "cases" / name).is_file()
        for line in (REPO / "content" / "cases" / name).read_text(encoding="utf-8").splitlines()
    }
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    excerpts = [b for b in blocks if "TODO" not in b]
    assert excerpts
    for block in excerpts:
        for line in block.splitlines():
            if line.strip():
                assert line.strip() in lines, f"not in the worked example: {line.strip()!r}"


def test_update_rewrites_only_the_marked_block(tmp_path: Path, capsys) -> None:
    stale = f"# Guide\n\nintro\n\n{docgen.START}\nold table\n{docgen.END}\n\noutro\n"
    path = tmp_path / "guide.md"
    path.write_text(stale, encoding="utf-8")
    assert cli.main(["docs", "--check", "--file", str(path)]) == cli.EXIT_INVALID
    assert path.read_text(encoding="utf-8") == stale
    assert cli.main(["docs", "--file", str(path)]) == cli.EXIT_OK
    fresh = path.read_text(encoding="utf-8")
    assert fresh.startswith("# Guide\n\nintro\n\n") and fresh.endswith(f"{docgen.END}\n\noutro\n")
    assert docgen.current_block(fresh) == docgen.render_field_reference()
    assert docgen.update(fresh) == fresh
    assert cli.main(["docs", "--check", "--file", str(path)]) == cli.EXIT_OK


def test_missing_markers_are_a_usage_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "guide.md"
    path.write_text("# Guide without markers\n", encoding="utf-8")
    assert cli.main(["docs", "--file", str(path)]) == cli.EXIT_USAGE
    assert "markers" in capsys.readouterr().err
    with pytest.raises(docgen.MarkerError):
        docgen.current_block("no markers here")


def test_reference_renders_types_in_words() -> None:
    reference = docgen.render_field_reference()
    assert "| `minutes` | integer from 1 to 240 | yes |" in reference
    assert "| `origin` | one of `primary`, `metastatic`, `unknown` | yes |" in reference
    assert "list of [Stage](#stage), 1 to 30 items" in reference
    assert "list of [Image](#image), at most 12 items" in reference
    assert "mapping of option id to number between 0 and 1 (exclusive)" in reference
    assert isinstance(content_model.Case, type) and issubclass(content_model.Case, BaseModel)
