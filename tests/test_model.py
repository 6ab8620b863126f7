"""The content model on its own: shapes, limits, and nothing silently dropped."""
from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

import factories
from quiz.content import model
from quiz.content.model import Case, CatalogueEntry, Option, Question, QuestionBank, Source, Tags


def case_data() -> dict:
    return factories.case_dict()


def errors_of(cls, data) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as info:
        cls.model_validate(data)
    return [(tuple(e["loc"]), e["type"]) for e in info.value.errors()]


def question(**changes) -> dict:
    data = {"id": "q", "kind": "diagnosis", "prompt": "Which?", "answer": "a",
            "options": [{"id": "a"}, {"id": "b"}]}
    data.update(changes)
    return data


def test_the_fixture_vignette_is_valid():
    case = Case.model_validate(case_data())
    assert case.id == factories.CASE_ID and len(case.stages) == 3
    assert case.stages[0].questions[0].acceptable == {"schwannoma": 0.5}
    assert case.stages[0].images == [] and case.reveal.discrepancies == []


def test_models_are_frozen():
    case = Case.model_validate(case_data())
    with pytest.raises(ValidationError, match="frozen"):
        case.title = "Another"  # type: ignore[misc]


def test_unknown_fields_are_errors_at_every_level():
    data = case_data()
    data["titel"] = "x"
    data["stages"][1]["questions"][0]["options"][0]["explenation"] = "x"
    assert sorted(errors_of(Case, data)) == [
        (("stages", 1, "questions", 0, "options", 0, "explenation"), "extra_forbidden"),
        (("titel",), "extra_forbidden"),
    ]


@pytest.mark.parametrize("slug", ["neck-mass", "a", "stage_2", "x1-y2", "a" * 80])
def test_valid_slugs(slug):
    assert Option(id=slug).id == slug


@pytest.mark.parametrize("slug", ["", "Neck", "-a", "a-", "a--b", "a b", "neck.mass", "é", "a" * 81])
def test_invalid_slugs(slug):
    [(loc, kind)] = errors_of(Option, {"id": slug})
    assert loc == ("id",) and kind in ("string_pattern_mismatch", "string_too_short", "string_too_long")


def test_text_is_stripped_and_must_not_be_blank():
    assert Option(id="a", label="  Label \n").label == "Label"
    assert errors_of(Option, {"id": "a", "label": "   "}) == [(("label",), "string_too_short")]


def test_quotes_need_three_characters():
    assert errors_of(model.Finding, {"text": "x", "evidence": ["ab"]}) == [(("evidence", 0), "string_too_short")]


def test_title_length_limit():
    data = case_data()
    data["title"] = "x" * 121
    assert errors_of(Case, data) == [(("title",), "string_too_long")]


def test_option_count_limits():
    assert errors_of(Question, question(options=[{"id": "a"}])) == [(("options",), "too_short")]
    many = [{"id": f"o{i}"} for i in range(13)]
    assert errors_of(Question, question(options=many)) == [(("options",), "too_long")]
    assert len(Question.model_validate(question(options=many[:12])).options) == 12


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.2])
def test_partial_credit_is_strictly_between_0_and_1(value):
    [(loc, _)] = errors_of(Question, question(acceptable={"b": value}))
    assert loc == ("acceptable", "b")


def test_partial_credit_keys_are_slugs():
    assert Question.model_validate(question(acceptable={"b": 0.5})).acceptable == {"b": 0.5}
    [(loc, kind)] = errors_of(Question, question(acceptable={"Not A Slug": 0.5}))
    assert loc == ("acceptable", "Not A Slug", "[key]") and kind == "string_pattern_mismatch"


@pytest.mark.parametrize("field, value", [("minutes", 0), ("minutes", 241), ("difficulty", "hard")])
def test_case_limits(field, value):
    data = case_data()
    data[field] = value
    [(loc, _)] = errors_of(Case, data)
    assert loc == (field,)


def test_source_year_and_tags_origin():
    assert Source(title="t", year=2020).year == 2020
    assert errors_of(Source, {"title": "t", "year": 1700}) == [(("year",), "greater_than_equal")]
    tags = {"region": ["neck"], "origin": "secondary", "specialty": ["x"]}
    assert errors_of(Tags, tags) == [(("origin",), "literal_error")]
    assert errors_of(Tags, {"region": [], "origin": "primary", "specialty": ["x"]}) == [(("region",), "too_short")]


def test_stages_need_findings_and_questions_and_the_reveal_its_parts():
    data = case_data()
    data["stages"][0]["findings"] = []
    data["stages"][1]["questions"] = []
    data["reveal"]["teaching_points"] = []
    assert sorted(errors_of(Case, data)) == [
        (("reveal", "teaching_points"), "too_short"),
        (("stages", 0, "findings"), "too_short"),
        (("stages", 1, "questions"), "too_short"),
    ]
    data = case_data()
    data["stages"] = []
    assert errors_of(Case, data) == [(("stages",), "too_short")]


def test_numbers_are_not_silently_turned_into_text():
    data = case_data()
    data["title"] = 12
    assert errors_of(Case, data) == [(("title",), "string_type")]


def test_question_bank():
    bank = QuestionBank.model_validate(factories.bank_dict())
    assert bank.review == [] and isinstance(bank.catalogue[0], CatalogueEntry)
    assert QuestionBank.model_validate({**factories.bank_dict(), "review": None}).review == []
    assert errors_of(QuestionBank, {"catalogue": []}) == [(("catalogue",), "too_short")]
    review = factories.review_question()
    assert QuestionBank.model_validate(factories.bank_dict(review=[review])).review[0].cases == [factories.CASE_ID]
    bad = copy.deepcopy(review)
    bad["cases"] = []
    assert errors_of(QuestionBank, factories.bank_dict(review=[bad])) == [(("review", 0, "cases"), "too_short")]


def test_known_stage_order_and_core_question_kinds():
    assert model.STAGE_ORDER[0] == "presentation"
    assert model.STAGE_ORDER.index("histology") < model.STAGE_ORDER.index("ihc")
    assert model.CORE_QUESTION_KINDS == ("diagnosis", "next_step")
