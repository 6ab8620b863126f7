"""Option order in the real app (AppTest): drawn per attempt, kept on reload, and an honest double-commit notice."""
from __future__ import annotations

import pytest

from apptest_support import answer_stage, assert_no_exception, click, fresh_app, page_text
from conftest import REPO
from quiz import store as store_module
from quiz.content import loader
from quiz.play import engine
from learner_support import learner_of

CASES = loader.load_content(REPO / "content").cases
CASE = CASES[sorted(CASES)[0]]


pytestmark = pytest.mark.usefixtures("database")  # conftest.py: a fresh SQLite file per test


def shown(at, stage_number: int = 1) -> dict[str, list[str]]:
    """Each open question's option labels, top to bottom, as the page lists them."""
    return {q.id: list(r.options) for q in CASE.stages[stage_number - 1].questions
            for r in at.radio if r.key.endswith(f"-{stage_number}-{q.id}")}


def expected(seed: str, stage_index: int = 0) -> dict[str, list[str]]:
    return {q.id: [o.label for o in engine.ask(q, seed).options] for q in CASE.stages[stage_index].questions}


def attempt_seed(url: str, learner: str) -> str:
    db = store_module.open_store(url)
    return db.current_attempt(learner_of(db, learner), CASE.id).seed


def test_the_page_shows_the_attempts_order_and_a_reload_keeps_it(database):
    learner_of(store_module.open_store(database), "Ord")  # a learner with a record (a first visit: test_app_identity)
    at = fresh_app(case=CASE.id, learner="Ord")
    assert_no_exception(at)
    seed = attempt_seed(database, "Ord")
    assert shown(at) == expected(seed)
    assert fresh_app(case=CASE.id, learner="Ord").radio and shown(fresh_app(case=CASE.id, learner="Ord")) == expected(seed)
    at = answer_stage(at, CASE, 0, lambda q: q.answer)
    at = click(at, "Continue to stage 2")
    assert shown(at, 2) == {q.id: [o.label for o in engine.ask(q, seed).options] for q in CASE.stages[1].questions}


def test_playing_again_draws_a_new_order(database):
    at = fresh_app(case=CASE.id, learner="Again")
    for index in range(len(CASE.stages)):
        at = answer_stage(at, CASE, index, lambda q: q.answer)
        at = click(at, "See what the authors did" if index + 1 == len(CASE.stages) else f"Continue to stage {index + 2}")
    first = attempt_seed(database, "Again")
    at = click(at, "Play this case again")
    assert_no_exception(at)
    second = attempt_seed(database, "Again")
    assert second != first
    assert shown(at) == expected(second)


def test_question_labels_are_plain_text_for_screen_readers():
    at = fresh_app(case=CASE.id, learner="Reader")
    radios = [r for r in at.radio if r.key.startswith("play-") and not r.key.endswith("-certainty")]
    assert len(radios) == len(CASE.stages[0].questions)
    markdown = [m.value for m in at.markdown]
    for radio, question in zip(radios, CASE.stages[0].questions):
        assert "*" not in radio.label and question.prompt in radio.label
        assert any(question.prompt in m and m.startswith("**") for m in markdown)  # the visible heading


def test_the_losing_tab_of_a_double_commit_is_told_the_other_answers_stand():
    first_tab = fresh_app(case=CASE.id, learner="Two Tabs")
    second_tab = fresh_app(case=CASE.id, learner="Two Tabs")
    first_tab = answer_stage(first_tab, CASE, 0, lambda q: q.answer)
    assert "already committed in another tab" not in page_text(first_tab)
    wrong = {q.id: next(o.id for o in q.options if o.id != q.answer) for q in CASE.stages[0].questions}
    second_tab = answer_stage(second_tab, CASE, 0, lambda q: wrong[q.id])
    assert_no_exception(second_tab)
    [notice] = [w.value for w in second_tab.warning if "already committed in another tab" in w.value]
    for question in CASE.stages[0].questions:
        mine = next(o.label for o in question.options if o.id == wrong[question.id])
        best = next(o.label for o in question.options if o.id == question.answer)
        assert mine in notice  # what this tab picked, named as not the answer that counts
        assert f"You chose **{best}**" in page_text(second_tab)  # the feedback is for the stored answers
    # The notice goes with that stage's feedback.
    second_tab = click(second_tab, "Continue to stage 2")
    assert not [w for w in second_tab.warning if "already committed in another tab" in w.value]


def test_the_same_answers_committed_twice_give_no_notice():
    """A double click (or a second tab with the same picks): the stored answers are this page's own."""
    first_tab = fresh_app(case=CASE.id, learner="Double")
    second_tab = fresh_app(case=CASE.id, learner="Double")
    answer_stage(first_tab, CASE, 0, lambda q: q.answer)
    second_tab = answer_stage(second_tab, CASE, 0, lambda q: q.answer)
    assert_no_exception(second_tab)
    assert "Feedback" in page_text(second_tab)
    assert not [w for w in second_tab.warning if "already committed" in w.value]
