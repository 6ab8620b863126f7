"""The rules of play: commit stage by stage, never change a commit, see nothing early."""
from __future__ import annotations

import dataclasses

import pytest

import factories
from quiz.play import engine
from quiz.play.engine import AlreadyCommitted, EngineError

CASE = factories.load_case()  # 3 stages, 2 questions each; markers LATER/EXPLAIN/KEYNOTE/REVEALED

BEST = [
    {"s1-diagnosis": "soft-tissue-sarcoma", "s1-next-step": "mri"},
    {"s2-diagnosis": "soft-tissue-sarcoma", "s2-next-step": "core-biopsy"},
    {"s3-diagnosis": "soft-tissue-sarcoma", "s3-next-step": "excision"},
]
#: 0.5 + 0.25 | 1 + 0.5 | 0 + 0 = 2.25 of 6
PARTIAL = [
    {"s1-diagnosis": "schwannoma", "s1-next-step": "core-biopsy"},
    {"s2-diagnosis": "soft-tissue-sarcoma", "s2-next-step": "excision"},
    {"s3-diagnosis": "lipoma", "s3-next-step": "amputation"},
]
SECRETS = ("LATER", "EXPLAIN", "KEYNOTE", "REVEALED")
SEED = "test-seed"


def play(choices: list[dict], seed: str = SEED) -> engine.Attempt:
    attempt = engine.start(CASE, seed)
    for index, stage_choices in enumerate(choices):
        attempt = engine.commit(CASE, attempt, index, stage_choices)
    return attempt


def leaked(view: engine.View) -> list[str]:
    text = repr(view)
    return [marker for marker in SECRETS if marker in text]


# --- what a learner may see ---------------------------------------------------

def test_a_new_attempt_shows_only_the_first_stage_without_keys():
    attempt = engine.start(CASE)
    assert (attempt.case_id, attempt.committed) == (CASE.id, ())
    assert len(attempt.seed) == 32 and attempt.seed != engine.start(CASE).seed  # a fresh order per attempt
    assert attempt.stage_index == 0
    view = engine.view(CASE, attempt)
    assert (view.case_id, view.title, view.total_stages, view.finished) == (CASE.id, CASE.title, 3, False)
    assert [s.number for s in view.stages] == [1]
    [stage] = view.stages
    assert stage.heading == "Presentation" and stage.results is None
    assert [q.id for q in stage.questions] == ["s1-diagnosis", "s1-next-step"]
    assert view.score is None and view.reveal is None and view.source is None and view.trace == ()
    assert leaked(view) == []


def test_an_asked_question_carries_no_key_and_no_explanation():
    assert {f.name for f in dataclasses.fields(engine.AskedQuestion)} == {"id", "kind", "prompt", "options"}
    assert {f.name for f in dataclasses.fields(engine.AskedOption)} == {"id", "label"}
    question = engine.view(CASE, engine.start(CASE)).stages[0].questions[0]
    assert sorted((o.id, o.label) for o in question.options) == [
        ("abscess", "Abscess"), ("lipoma", "Lipoma"), ("schwannoma", "Schwannoma"),
        ("soft-tissue-sarcoma", "Soft-tissue sarcoma")]  # labels filled from the catalogue


@pytest.mark.parametrize("committed", [0, 1, 2])
def test_view_never_holds_later_stages_results_or_reveal_before_their_commit(committed):
    attempt = play(BEST[:committed])
    view = engine.view(CASE, attempt)
    assert [s.number for s in view.stages] == list(range(1, committed + 2))
    for stage in view.stages[:committed]:
        assert stage.results is not None and len(stage.results) == 2
    assert view.stages[committed].results is None  # the open stage: no key yet
    assert not view.finished
    assert view.score is None and view.reveal is None and view.source is None and view.trace == ()
    later = [CASE.stages[i].heading for i in range(committed + 1, 3)]
    text = repr(view)
    assert all(heading not in text for heading in later)
    assert "REVEALED" not in text and f"KEYNOTE for stage {committed + 1}" not in text
    assert f"EXPLAIN soft-tissue-sarcoma at stage {committed + 1}" not in text
    if committed:  # a committed stage shows its explanations and teaching notes
        assert f"KEYNOTE for stage {committed}" in text and f"EXPLAIN lipoma at stage {committed}" in text


def test_play_through_with_best_answers():
    attempt = engine.start(CASE)
    for index, choices in enumerate(BEST):
        assert not engine.is_finished(CASE, attempt)
        attempt = engine.commit(CASE, attempt, index, choices)
        assert attempt.stage_index == index + 1
    assert engine.is_finished(CASE, attempt)
    view = engine.view(CASE, attempt)
    assert view.finished and len(view.stages) == 3
    assert all(s.results is not None for s in view.stages)
    assert view.score == engine.Score(6.0, 6) and view.score.percent == 100.0
    assert view.reveal == CASE.reveal and view.source == CASE.source
    assert "REVEALED diagnosis" in view.reveal.diagnosis
    assert all(r.correct and r.credit == 1.0 for s in view.stages for r in s.results)


def test_results_show_every_option_with_its_explanation_and_credit():
    attempt = play(PARTIAL[:1])
    first, second = engine.view(CASE, attempt).stages[0].results
    assert first.question_id == "s1-diagnosis" and first.prompt.startswith("Stage 1")
    chosen = first.chosen
    assert (chosen.id, chosen.credit, chosen.chosen, chosen.best) == ("schwannoma", 0.5, True, False)
    assert (first.best.id, first.best.credit, first.best.best) == ("soft-tissue-sarcoma", 1.0, True)
    assert not first.correct and first.credit == 0.5
    assert {o.id: o.credit for o in first.options} == {
        "soft-tissue-sarcoma": 1.0, "lipoma": 0.0, "schwannoma": 0.5, "abscess": 0.0}
    assert all(o.explanation.startswith("EXPLAIN") for o in first.options)
    assert first.teaching_note == "KEYNOTE for stage 1 diagnosis."
    assert second.chosen.id == "core-biopsy" and second.credit == 0.25


# --- the rules ----------------------------------------------------------------

def test_cannot_commit_a_stage_that_is_not_open():
    attempt = engine.start(CASE)
    with pytest.raises(EngineError, match="Stage 2 is not open yet; commit stage 1 first") as info:
        engine.commit(CASE, attempt, 1, BEST[1])
    assert not isinstance(info.value, AlreadyCommitted)
    with pytest.raises(EngineError, match="not open yet"):
        engine.commit(CASE, engine.commit(CASE, attempt, 0, BEST[0]), 2, BEST[2])


def test_cannot_change_a_committed_answer():
    attempt = play(BEST[:1])
    with pytest.raises(AlreadyCommitted, match="Stage 1 is already committed"):
        engine.commit(CASE, attempt, 0, {"s1-diagnosis": "lipoma", "s1-next-step": "observation"})
    with pytest.raises(AlreadyCommitted):  # the same answers again (a double click) are refused too
        engine.commit(CASE, attempt, 0, BEST[0])
    assert attempt.committed == (BEST[0],)  # attempts are values: nothing changed
    finished = play(BEST)
    with pytest.raises(AlreadyCommitted):
        engine.commit(CASE, finished, 2, BEST[2])


def test_cannot_commit_after_the_last_stage():
    with pytest.raises(EngineError, match="finished"):
        engine.commit(CASE, play(BEST), 3, {})


def test_commit_needs_an_answer_to_every_question():
    attempt = engine.start(CASE)
    with pytest.raises(EngineError, match="Answer every question"):
        engine.commit(CASE, attempt, 0, {"s1-diagnosis": "lipoma"})
    with pytest.raises(EngineError, match="Answer every question"):
        engine.commit(CASE, attempt, 0, {})


def test_commit_refuses_options_and_questions_that_do_not_exist():
    attempt = engine.start(CASE)
    with pytest.raises(EngineError, match="'amputation' is not an option"):  # an option of another stage
        engine.commit(CASE, attempt, 0, {"s1-diagnosis": "lipoma", "s1-next-step": "amputation"})
    with pytest.raises(EngineError, match="s2-diagnosis is not a question of this stage"):
        engine.commit(CASE, attempt, 0, {**BEST[0], "s2-diagnosis": "lipoma"})


def test_commit_refuses_an_attempt_of_another_case():
    other = factories.load_case({**factories.case_dict("other-case")})
    with pytest.raises(EngineError, match="belongs to case"):
        engine.commit(other, engine.start(CASE), 0, BEST[0])


def test_a_negative_stage_index_is_refused():
    with pytest.raises(EngineError):
        engine.commit(CASE, engine.start(CASE), -1, BEST[0])


def test_commit_copies_the_choices():
    choices = dict(BEST[0])
    attempt = engine.commit(CASE, engine.start(CASE), 0, choices)
    choices["s1-diagnosis"] = "lipoma"
    assert attempt.committed[0]["s1-diagnosis"] == "soft-tissue-sarcoma"
    with pytest.raises(dataclasses.FrozenInstanceError):
        attempt.committed = ()  # type: ignore[misc]


# --- scores, the trace, replay ---------------------------------------------------

def test_partial_credit_from_acceptable_answers():
    attempt = play(PARTIAL)
    score = engine.score(CASE, attempt)
    assert score == engine.Score(2.25, 6)
    assert score.percent == 37.5
    assert engine.view(CASE, attempt).score == score


def test_score_counts_unanswered_stages_as_possible_points():
    assert engine.score(CASE, play(BEST[:1])) == engine.Score(2.0, 6)
    assert engine.Score(0, 0).percent == 0.0


def test_trace_rows_put_each_choice_beside_the_best_answer():
    attempt = play(PARTIAL)
    rows = engine.view(CASE, attempt).trace
    assert rows == engine.trace(CASE, attempt)
    assert len(rows) == 6
    assert rows[0] == engine.TraceRow(1, "presentation", "Presentation", "s1-diagnosis", "diagnosis",
                                      "schwannoma", "Schwannoma", "soft-tissue-sarcoma", "Soft-tissue sarcoma", 0.5)
    last = rows[-1]
    assert (last.stage_number, last.stage_kind, last.question_kind) == (3, "histology", "next_step")
    assert (last.chosen_id, last.chosen_label, last.best_id, last.best_label, last.credit) == (
        "amputation", "Amputation", "excision", "Wide local excision", 0.0)  # inline option keeps its label
    assert [r.credit for r in rows] == [0.5, 0.25, 1.0, 0.5, 0.0, 0.0]


def test_replay_rebuilds_an_attempt_and_checks_it_again():
    attempt = play(PARTIAL)
    assert engine.replay(CASE, list(attempt.committed), SEED) == attempt
    assert engine.replay(CASE, PARTIAL[:2], SEED) == play(PARTIAL[:2])
    assert engine.replay(CASE, [], SEED) == engine.start(CASE, SEED)
    assert engine.view(CASE, engine.replay(CASE, PARTIAL[:1], SEED)) == engine.view(CASE, play(PARTIAL[:1]))
    tampered = [dict(PARTIAL[0], **{"s1-diagnosis": "not-an-option"}), *PARTIAL[1:]]
    with pytest.raises(EngineError, match="not an option"):
        engine.replay(CASE, tampered, SEED)
    with pytest.raises(EngineError, match="finished"):
        engine.replay(CASE, [*BEST, BEST[0]], SEED)


def test_grade_and_credit():
    question = CASE.stages[0].questions[0]
    assert engine.credit(question, "soft-tissue-sarcoma") == 1.0
    assert engine.credit(question, "schwannoma") == 0.5
    assert engine.credit(question, "lipoma") == 0.0
    result = engine.grade(question, "lipoma", SEED)
    assert result.chosen.id == "lipoma" and result.best.id == "soft-tissue-sarcoma" and result.credit == 0.0


def test_find_question_and_review_question():
    assert engine.find_question(CASE, "s2-next-step") == (1, CASE.stages[1].questions[1])
    assert engine.find_question(CASE, "nope") is None
    from quiz.content.model import ReviewQuestion

    review = ReviewQuestion.model_validate(factories.review_question())
    question = engine.review_question(review)
    assert question.kind == "review" and question.answer == "opt-a"
    assert engine.grade(question, "opt-b", SEED).best.label == "Option a"
