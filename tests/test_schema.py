"""The committed JSON Schemas match the model, and every field carries its description (editor hover help)."""
from __future__ import annotations

from quiz import model as content_model
from quiz import schema

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
