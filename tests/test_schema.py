"""The committed JSON Schemas match the model, and every field carries its description (editor hover help)."""
from __future__ import annotations

from quiz.content import model as content_model
from quiz.content import schema

from conftest import REPO


def test_committed_schemas_are_current() -> None:
    for name, text in schema.render().items():
        committed = (REPO / "content" / "schema" / name).read_text(encoding="utf-8")
        assert committed == text, f"content/schema/{name} is out of date: run python -m quiz schema"


def test_every_field_and_model_is_described() -> None:
    models = [m for m in vars(content_model).values()
              if isinstance(m, type) and issubclass(m, content_model.Strict) and m is not content_model.Strict]
    assert len(models) >= 10
    for model in models:
        assert model.__doc__, f"{model.__name__} has no docstring"
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"


def test_no_stale_schema_files() -> None:
    assert sorted(p.name for p in (REPO / "content" / "schema").glob("*.json")) == sorted(schema.render())


CASE_SCHEMA_LINE = "# yaml-language-server: $schema=../schema/case.schema.json"


def test_every_case_file_starts_with_the_schema_line() -> None:
    """The first line makes editors (VS Code's YAML extension) validate and complete the file."""
    paths = sorted((REPO / "content" / "cases").glob("*.y*ml"))
    assert paths
    wrong = [p.name for p in paths if p.read_text(encoding="utf-8").splitlines()[:1] != [CASE_SCHEMA_LINE]]
    assert wrong == [], f"first line must be {CASE_SCHEMA_LINE!r}"


def test_the_question_bank_starts_with_its_schema_line() -> None:
    first = (REPO / "content" / "questions.yaml").read_text(encoding="utf-8").splitlines()[:1]
    assert first == ["# yaml-language-server: $schema=schema/questions.schema.json"]
