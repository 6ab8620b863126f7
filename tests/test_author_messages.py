"""The messages a new author met (shared/reviews/new-author.md), now with advice: exact texts."""
from __future__ import annotations

import factories
from quiz.content import loader

CATALOGUE = factories.catalogue_entries()


def problems(text: str) -> list[str]:
    parsed = loader.parse_case(text.encode(), f"{factories.CASE_ID}.yaml", CATALOGUE, stem=factories.CASE_ID)
    return [str(p) for p in parsed.problems if p.severity == "error"]


def test_an_unquoted_colon_in_text_says_to_quote_it():
    text = factories.minimal_case().replace("heading: Presentation", "heading: Site: the thigh")
    assert problems(text) == [
        f"{factories.CASE_ID}.yaml:19:18: YAML syntax: mapping values are not allowed in this context; an unquoted "
        "': ' inside text ends the key's value early: put the whole text in quotes, or write it on the next lines "
        "after '>-'"]


def test_indentation_off_by_one_says_to_align_with_the_line_above():
    text = factories.minimal_case().replace("    heading: Presentation", "     heading: Presentation")
    assert problems(text) == [
        f"{factories.CASE_ID}.yaml:19:13: YAML syntax: mapping values are not allowed in this context; this line is "
        "indented 5 spaces and the line above 4 spaces: align the key with the keys it belongs beside"]


def test_an_unclosed_quote_names_the_line_it_opened_on():
    from quiz.content import yaml_reader

    try:
        yaml_reader.read('id: x\ntitle: "A lump\nsummary: text\n')
    except yaml_reader.YamlProblem as problem:
        assert problem.message == ("YAML syntax: found unexpected end of stream; "
                                   "the quotation mark opened on line 2 is never closed")
    else:
        raise AssertionError("an unclosed quote was read")


def test_an_answer_that_is_not_an_option_lists_the_options():
    text = factories.minimal_case().replace("        answer: mri\n", "        answer: pet-ct\n")
    assert problems(text) == [
        f"{factories.CASE_ID}.yaml:52:17: stages[0].questions[1].answer: 'pet-ct' is not one of the options "
        "(mri, core-biopsy, excision, observation)"]


def test_a_misspelt_option_id_is_the_one_to_fix_not_the_answer():
    text = factories.minimal_case().replace("          - id: core-biopsy\n", "          - id: core-biopsi\n")
    text = text.replace("        answer: mri\n", "        answer: core-biopsy\n")
    found = problems(text)
    assert (f"{factories.CASE_ID}.yaml:52:17: stages[0].questions[1].answer: 'core-biopsy' is not one of the "
            "options (mri, core-biopsi, excision, observation); option 'core-biopsi' looks like a misspelling of it: "
            "correct stages[0].questions[1].options[1].id") in found


def _stage_kinds(text: str, first: str, second: str) -> str:
    """The minimal case with a second stage after the presentation, and a third."""
    import yaml

    data = yaml.safe_load(text)
    stage = data["stages"][0]
    data["stages"] = [stage] + [
        {**stage, "id": kind, "kind": kind, "heading": kind.capitalize(),
         "questions": [{**q, "id": f"{kind}-{q['id']}"} for q in stage["questions"]]}
        for kind in (first, second)]
    return yaml.safe_dump(data, sort_keys=False)


def test_an_ihc_only_pathology_stage_is_allowed_but_stains_before_morphology_are_not():
    def warnings(text):
        parsed = loader.parse_case(text.encode(), f"{factories.CASE_ID}.yaml", CATALOGUE, stem=factories.CASE_ID)
        return [p.message for p in parsed.problems if p.field.endswith(".kind")]

    assert warnings(_stage_kinds(factories.minimal_case(), "imaging", "ihc")) == []
    assert warnings(_stage_kinds(factories.minimal_case(), "ihc", "histology")) == [
        "'ihc' stage comes before a 'histology' stage; describe the tissue first"]
