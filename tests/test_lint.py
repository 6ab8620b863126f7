"""The item-cue lint: each rule fires on a small bad example, at its line, and not on a good one.

Bad examples are built from the test factories by changing one thing; the good examples are
the near misses a rule must leave alone (a tie, an explanation, a generic step).
"""
from __future__ import annotations

import copy

import pytest

import factories
from quiz.content import loader
from quiz.content.model import CatalogueEntry


@pytest.fixture(autouse=True)
def fresh_caches():
    loader._file_cache.clear()
    loader._content_cache.clear()
    yield
    loader._file_cache.clear()
    loader._content_cache.clear()


def lint_text(text: str, catalogue: dict | None = None) -> list[str]:
    parsed = loader.parse_case(text.encode(), "thigh-lump.yaml", catalogue or factories.catalogue_entries(),
                               stem=factories.CASE_ID)
    return [str(p) for p in parsed.problems]


def lint(case: dict, catalogue: dict | None = None) -> list[str]:
    return lint_text(factories.dump(case), catalogue)


def where(case: dict, loc: tuple) -> str:
    """``thigh-lump.yaml:LINE:COL`` of a field of a factory case, as the loader places it."""
    parsed = loader.parse_case(factories.dump(case).encode(), "thigh-lump.yaml", factories.catalogue_entries(),
                               stem=factories.CASE_ID)
    line, column = parsed.document.position(loc)
    return f"thigh-lump.yaml:{line}:{column}"


def lint_bank(review: list[dict]) -> list[str]:
    text = factories.dump(factories.bank_dict(review=review), schema_line=False)
    return [str(p) for p in loader.parse_bank(text.encode(), "questions.yaml").problems]


def minimal(*replacements: tuple[str, str]) -> str:
    text = factories.minimal_case()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_the_factory_vignettes_have_no_cue():
    for stages in (1, 2, 3):
        assert lint(factories.case_dict(stages=stages)) == []
    assert lint_text(factories.minimal_case()) == []
    assert lint_bank([factories.review_question()]) == []


# --- a. the key is the longest option in more than half of a file's questions ---------

LONG_MRI = ("          - id: mri\n", "          - id: mri\n            label: MRI of the whole thigh with contrast\n")


def test_longest_key_in_most_questions_is_reported_once_at_the_first():
    assert lint_text(minimal(LONG_MRI)) == [
        "thigh-lump.yaml:37:17: stages[0].questions[0].answer: warning: the best answer is the longest option "
        "in 2 of 2 questions (this is the first); learners soon pick the longest: shorten the keys or lengthen "
        "the distractors"]


def test_longest_key_in_half_the_questions_or_by_a_hair_is_no_cue():
    # The minimal case: the key is longest in 1 of 2. The three-stage factory: 3 of 6, and at
    # stage 3 "Wide local excision" beats "Core-needle biopsy" by one character, which no reader sees.
    assert lint_text(factories.minimal_case()) == []
    assert lint(factories.case_dict()) == []


def review(qid: str, key_label: str, prompt: str = "Which lump needs imaging first?", others=None) -> dict:
    question = factories.review_question(qid)
    question["prompt"] = prompt
    labels = [key_label, *(others or ["Option b", "Option c", "Option d"])]
    question["options"] = [{"id": f"opt-{i}", "label": label, "explanation": f"Because {i}."}
                           for i, label in zip("abcd", labels)]
    return question


def test_longest_key_in_the_review_bank():
    long = "Option a, much the longest of the four"
    assert lint_bank([review("r1", "Option a"), review("r2", long), review("r3", long)]) == [
        "questions.yaml:81:11: review[1].answer: warning: the best answer is the longest option in 2 of 3 "
        "questions (this is the first); learners soon pick the longest: shorten the keys or lengthen the distractors"]
    assert lint_bank([review("r1", "Option a"), review("r2", long)]) == []


# --- b. absolute words only in distractors ---------------------------------------------

def test_absolute_words_only_in_distractors():
    text = minimal(("          - id: observation\n", "          - id: observation\n            label: Observation only\n"))
    assert lint_text(text) == [
        "thigh-lump.yaml:51:20: stages[0].questions[1].options[3].label: warning: absolute wording ('only') only "
        "in distractors, in 1 of 3; test-wise learners rule such options out: qualify them as a clinician would"]


def test_absolute_words_in_the_key_too_or_in_explanations_are_no_cue():
    # The minimal case's excision explanation says "Never before a diagnosis": explanations are
    # read after the commit, so they count for nothing.
    assert "Never before a diagnosis." in factories.minimal_case()
    assert lint_text(factories.minimal_case()) == []
    both = minimal(("          - id: observation\n", "          - id: observation\n            label: Observation only\n"),
                   LONG_MRI[:1] + ("          - id: mri\n            label: MRI of the thigh, always first\n",))
    assert not [p for p in lint_text(both) if "absolute" in p]
    # "small" and "install" hold "all" but are no absolute words.
    assert lint_bank([review("r1", "Small needle", others=["A small lump", "Install a drain", "Wait"])]) == []


def test_absolute_words_in_review_distractors():
    question = review("r1", "Usually, but not in every case", others=["Always", "Option c", "It does not occur in any patient"])
    assert lint_bank([question]) == []  # "every" in the key
    question = review("r1", "Usually", others=["Always", "Option c", "It does not occur in any patient"])
    assert lint_bank([question]) == [
        "questions.yaml:53:12: review[0].options[1].label: warning: absolute wording ('always', 'does not occur') "
        "only in distractors, in 2 of 3; test-wise learners rule such options out: qualify them as a clinician would"]


# --- c. the prompt repeats words of the key's label ------------------------------------

def test_prompt_echoing_the_key_is_reported_at_the_prompt():
    text = minimal(("        prompt: What next?", "        prompt: Which imaging of the thigh comes first?"))
    assert lint_text(text) == [
        "thigh-lump.yaml:42:17: stages[0].questions[1].prompt: warning: repeats words of the best answer's label "
        "(thigh) more than any other option's; a learner can match the words instead of reasoning: reword the "
        "prompt or the key"]


def test_prompt_echo_that_does_not_single_out_the_key_is_no_cue():
    # A tie: the prompt names the key's "thigh" and the distractor's "biopsy".
    tie = minimal(("        prompt: What next?", "        prompt: Imaging of the thigh, or a biopsy?"))
    assert lint_text(tie) == []
    # A word every option shares points at none ("Option" in each review label).
    assert lint_bank([review("r1", "Option a", prompt="Which option is right?")]) == []
    # Stop-words and the question's frame ("best", "next", "diagnosis") are no echo.
    assert lint_bank([review("r1", "The best next step", prompt="What is the best next step?",
                             others=["Biopsy", "Excision", "Observation of the lump"])]) == []
    frame = review("r1", "Leading diagnosis is an abscess", prompt="What is the leading diagnosis?",
                   others=["Lipoma", "Schwannoma", "Haematoma after an injury long ago"])
    assert lint_bank([frame]) == []


# --- d. a case-specific option of an earlier stage is the key of a later question -------

AMPUTATION = {"id": "amputation", "label": "Amputation", "explanation": "EXPLAIN amputation early."}


def early_amputation() -> dict:
    """The factory case with its inline ``amputation`` offered at stage 2 and keyed at stage 3."""
    case = factories.case_dict()
    case["stages"][1]["questions"][1]["options"].append(copy.deepcopy(AMPUTATION))
    case["stages"][2]["questions"][1]["answer"] = "amputation"
    return case


def test_inline_option_offered_before_it_is_keyed():
    case = early_amputation()
    assert lint(case) == [
        f"{where(case, ('stages', 1, 'questions', 1, 'options', 4))}: stages[1].questions[1].options[4]: warning: "
        "'amputation' is the best answer of the later stages[2].questions[1]; offered here, a step only this case "
        "offers gives away what the team went on to do: offer another plausible step"]


def test_generic_steps_offered_early_and_keyed_later_are_no_cue():
    # "excision" is offered at stages 1 and 2 and keyed at stage 3; the catalogue shares it.
    case = factories.case_dict()
    assert "excision" in [o["id"] for o in case["stages"][0]["questions"][1]["options"]]
    assert case["stages"][2]["questions"][1]["answer"] == "excision"
    assert lint(case) == []
    # A case-specific option (the inline amputation) keyed where it is first offered is fine too.
    case["stages"][2]["questions"][1]["answer"] = "amputation"
    assert lint(case) == []


def with_antibiotics_early(case_id: str) -> dict:
    """A case offering the catalogue's ``antibiotics`` at stage 1 and keying it at stage 2."""
    case = factories.case_dict(case_id)
    case["stages"][0]["questions"][1]["options"].append(
        {"id": "antibiotics", "explanation": "EXPLAIN antibiotics early."})
    case["stages"][1]["questions"][1]["options"].append(
        {"id": "antibiotics", "explanation": "EXPLAIN antibiotics later."})
    case["stages"][1]["questions"][1]["answer"] = "antibiotics"
    return case


def test_catalogue_entry_only_one_case_offers_is_case_specific(tmp_path):
    root = factories.write_content(tmp_path, {"one": with_antibiotics_early("one"), "two": factories.case_dict("two")})
    content = loader.load_content(root)
    [problem] = content.problems
    assert (problem.file.endswith("one.yaml"), problem.severity, problem.field) == (True, "warning", "stages[0].questions[1].options[4]")
    assert problem.message == (
        "'antibiotics' is the best answer of the later stages[1].questions[1]; offered here, a step only this case "
        "offers gives away what the team went on to do: offer another plausible step")


def test_catalogue_entry_two_cases_offer_is_generic(tmp_path):
    two = factories.case_dict("two")
    two["stages"][0]["questions"][1]["options"].append({"id": "antibiotics", "explanation": "EXPLAIN antibiotics."})
    root = factories.write_content(tmp_path, {"one": with_antibiotics_early("one"), "two": two})
    assert loader.load_content(root).problems == []
    # One case alone gives no basis to tell generic from specific, and a subset of files neither.
    alone = factories.write_content(tmp_path / "alone", {"one": with_antibiotics_early("one")})
    assert loader.load_content(alone).problems == []
    assert loader.load_content(root, case_paths=[root / "cases" / "one.yaml"]).problems == []


# --- e. the final diagnosis or a later stage's markers named too early ------------------

def test_final_diagnosis_in_the_findings_of_the_stage_that_asks_for_it():
    case = factories.case_dict()
    case["stages"][0]["findings"][0]["text"] = "A 50-year-old man with a lump in the thigh, probably a soft-tissue sarcoma."
    assert lint(case) == [
        f"{where(case, ('stages', 0, 'findings', 0, 'text'))}: stages[0].findings[0].text: warning: names the final "
        "diagnosis ('Soft-tissue sarcoma'), which stages[0] asks for; the learner reads this before answering: keep it "
        "for that stage's explanations or the reveal"]


def test_final_diagnosis_in_an_earlier_explanation_of_another_option():
    case = factories.case_dict()
    first = case["stages"][0]["questions"][0]
    first["answer"], first["acceptable"] = "lipoma", {}
    first["options"][3]["explanation"] = "EXPLAIN: an abscess is unlikely; soft-tissue sarcomas grow like this."
    assert lint(case) == [
        f"{where(case, ('stages', 0, 'questions', 0, 'options', 3, 'explanation'))}: "
        "stages[0].questions[0].options[3].explanation: warning: names the final diagnosis ('Soft-tissue sarcoma'), "
        "which stages[1] asks for; the learner reads this before answering: keep it for that stage's explanations "
        "or the reveal"]


def test_final_diagnosis_where_the_learner_may_read_it():
    case = factories.case_dict()
    first = case["stages"][0]["questions"][0]
    first["answer"], first["acceptable"] = "lipoma", {}
    # its own option's explanation, the next-step explanations of the stage that asks, later findings
    first["options"][0]["explanation"] = "EXPLAIN: a soft-tissue sarcoma is possible, but the lump is small."
    case["stages"][1]["questions"][1]["options"][0]["explanation"] = "EXPLAIN: image a suspected soft-tissue sarcoma."
    case["stages"][2]["findings"][0]["text"] = "LATER finding: a pleomorphic soft-tissue sarcoma."
    assert lint(case) == []


CATALOGUE_WITH_RECURRENCE = {
    **factories.catalogue_entries(),
    "recurrent-sarcoma": CatalogueEntry(id="recurrent-sarcoma", kind="diagnosis",
                                        label="Metastatic or recurrent soft-tissue sarcoma",
                                        description="Spread or recurrence of a known sarcoma."),
}


def recurrence_case(history: str) -> dict:
    case = factories.case_dict()
    case["stages"][0]["findings"][0]["text"] = history
    case["reveal"]["diagnosis_id"] = "recurrent-sarcoma"
    for stage in case["stages"][1:]:
        stage["questions"][0]["options"][0]["id"] = "recurrent-sarcoma"
        stage["questions"][0]["answer"] = "recurrent-sarcoma"
    return case


def test_a_history_naming_the_primary_tumour_is_no_spoiler():
    # The final diagnosis is a recurrence; the history rightly names the tumour once resected.
    case = recurrence_case("A 50-year-old man whose soft-tissue sarcoma was resected last year has a new lump.")
    assert lint(case, CATALOGUE_WITH_RECURRENCE) == []


def test_each_reading_of_an_either_or_label_is_the_diagnosis():
    case = recurrence_case("A 50-year-old man with a lump; a metastatic soft-tissue sarcoma is feared.")
    [problem] = lint(case, CATALOGUE_WITH_RECURRENCE)
    assert problem.endswith("stages[0].findings[0].text: warning: names the final diagnosis ('Metastatic soft-tissue "
                            "sarcoma'), which stages[1] asks for; the learner reads this before answering: keep it for "
                            "that stage's explanations or the reveal")


def desmin_case() -> dict:
    case = factories.case_dict()
    case["stages"][2]["findings"].append({"text": "LATER finding: the cells are **desmin** and SMA positive, CD34 negative.",
                                          "evidence": ["desmin and SMA positive"]})
    return case


def test_later_markers_in_the_objectives():
    case = desmin_case()
    case["objectives"] = ["Read a desmin and CD34 panel on a spindle-cell lump."]
    assert lint(case) == [
        f"{where(case, ('objectives', 0))}: objectives[0]: warning: names 'desmin', 'CD34', which the findings first "
        "show at stages[2] (histology); the learner reads this before then"]


def test_later_markers_in_an_earlier_explanation_that_states_a_result():
    case = desmin_case()
    option = case["stages"][1]["questions"][0]["options"][0]
    option["explanation"] = "EXPLAIN: a sarcoma of this kind is usually SMA positive."
    assert lint(case) == [
        f"{where(case, ('stages', 1, 'questions', 0, 'options', 0, 'explanation'))}: "
        "stages[1].questions[0].options[0].explanation: warning: names 'SMA', which the findings first show at "
        "stages[2] (histology); the learner reads this before then"]


def test_later_markers_where_they_give_nothing_away():
    case = desmin_case()
    # an explanation naming the panel one would order, without a result
    case["stages"][1]["questions"][1]["options"][0]["explanation"] = "EXPLAIN: a biopsy allows desmin and CD34 stains."
    # the prompt of the stage that shows the markers, and spinal levels, which look like markers
    case["stages"][2]["questions"][0]["prompt"] = "Desmin and SMA positive: what is the diagnosis?"
    case["stages"][0]["findings"][0]["text"] = "A 50-year-old man with a growing lump in the thigh and C5 pain."
    case["stages"][2]["findings"][0]["text"] = "LATER finding: spindle cells; the C5 vertebra is normal."
    assert lint(case) == []


# --- f. two options that differ only by a qualifier the prompt does not ask ---------------

RECURRENT = ("          - id: abscess\n            explanation: No fever or redness.\n",
             "          - id: recurrent-sarcoma\n            label: Recurrent soft-tissue sarcoma\n"
             "            explanation: No earlier tumour.\n")


def test_options_differing_only_by_a_qualifier():
    assert lint_text(minimal(RECURRENT)) == [
        "thigh-lump.yaml:36:20: stages[0].questions[0].options[3].label: warning: 'recurrent-sarcoma' differs from "
        "'soft-tissue-sarcoma' only by 'recurrent', which the prompt does not ask about; both can be right: ask it "
        "in the prompt, or make the options differ in substance"]


def test_a_qualifier_the_prompt_asks_about_or_a_real_difference_is_no_cue():
    asks = minimal(RECURRENT, ("        prompt: What is the leading diagnosis?",
                               "        prompt: Is this a primary tumour, and of what kind?"))
    assert lint_text(asks) == []
    # "Chemotherapy and radiotherapy" adds a treatment, not a qualifier, to "Radiotherapy".
    question = review("r1", "Chemotherapy and radiotherapy", prompt="Which treatment was given?",
                      others=["Radiotherapy", "Surgery", "Observation with imaging at three-monthly intervals"])
    assert lint_bank([question]) == []
    qualified = review("r1", "Postoperative radiotherapy", prompt="Which treatment was given?",
                       others=["Radiotherapy", "Surgery", "Observation with imaging at intervals"])
    assert lint_bank([qualified]) == [
        "questions.yaml:50:12: review[0].options[0].label: warning: 'opt-a' differs from 'opt-b' only by "
        "'postoperative', which the prompt does not ask about; both can be right: ask it in the prompt, or make the "
        "options differ in substance"]


# --- severity ---------------------------------------------------------------------------

def test_cues_are_warnings_and_the_case_still_plays():
    parsed = loader.parse_case(minimal(LONG_MRI).encode(), "thigh-lump.yaml", factories.catalogue_entries(),
                               stem=factories.CASE_ID)
    assert parsed.model is not None
    assert [p.severity for p in parsed.problems] == ["warning"]
