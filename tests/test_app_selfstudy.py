"""The resident's path through the real app (AppTest): library, every vignette to its reveal, progress."""
from __future__ import annotations

import pytest

from quiz.play import engine
from quiz import store as store_module

from apptest_support import (answer_stage, page_app, assert_no_exception, click, finish_case, flat, fresh_app,
                              key_texts, page_text, reveal_texts, texts_of_stage)
from conftest import REPO
from quiz.content import loader
from learner_support import learner_of

CASES = loader.load_content(REPO / "content").cases


pytestmark = pytest.mark.usefixtures("database")  # conftest.py: a fresh SQLite file per test


def best(question):
    return question.answer


def worst(question):
    """An option earning no credit (a wrong answer)."""
    return next(o.id for o in question.options if engine.credit(question, o.id) == 0)


def assert_hidden(text: str, hidden: list[str], where: str) -> None:
    for secret in hidden:
        assert secret not in text, f"{where}: shown too early: {secret[:80]!r}"


def play_case(case, choose, learner="Ada"):
    at = fresh_app(case=case.id, learner=learner)
    assert_no_exception(at)
    total = len(case.stages)
    for index in range(total):
        text = page_text(at)
        for finding in case.stages[index].findings:
            assert flat(finding.text) in text, f"stage {index + 1} finding missing"
        later = [t for j in range(index + 1, total) for t in texts_of_stage(case, j)]
        later = [t for t in later if t not in {x for k in range(index + 1) for x in texts_of_stage(case, k)}]
        assert_hidden(text, later + list(key_texts(case, index)) + list(reveal_texts(case)), f"before commit {index + 1}")
        assert f"Stage {index + 1} of {total}" in text
        at = answer_stage(at, case, index, choose)
        assert_no_exception(at)
        text = page_text(at)
        assert "Feedback" in text
        for question in case.stages[index].questions:
            chosen = choose(question)
            explanation = next(o.explanation for o in question.options if o.id == chosen)
            assert explanation in text
            if chosen == question.answer:
                assert "✅" in text and "Correct" in text
            else:
                assert "❌" in text and "Not the best answer" in text
                best_option = next(o for o in question.options if o.id == question.answer)
                assert best_option.explanation in text  # the best answer's explanation appears too
        if index + 1 < total:
            assert_hidden(text, list(texts_of_stage(case, index + 1)) + list(reveal_texts(case)), f"feedback {index + 1}")
            at = click(at, f"Continue to stage {index + 2}")
        else:
            assert_hidden(text, list(reveal_texts(case)), "last feedback")
            at = click(at, "See what the authors did")
        assert_no_exception(at)
    return at


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_best_answers_reach_the_reveal_with_full_score(case_id):
    case = CASES[case_id]
    at = play_case(case, best)
    text = page_text(at)
    for part in reveal_texts(case):
        assert part in text
    assert any(m.value == "100%" for m in at.metric)
    trace = at.dataframe[0].value
    assert len(trace) == sum(len(s.questions) for s in case.stages)
    assert (trace["Credit"] == 1).all()


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_wrong_answers_get_feedback_and_a_low_score(case_id):
    case = CASES[case_id]
    at = play_case(case, worst)
    assert any(m.value == "0%" for m in at.metric)
    trace = at.dataframe[0].value
    assert (trace["Result"] == "❌ missed").all()


def test_deep_link_opens_at_first_unanswered_stage_after_restart():
    case = CASES[sorted(CASES)[0]]
    at = fresh_app(case=case.id, learner="Grace")
    at = answer_stage(at, case, 0, best)
    # A server restart: new session, stores dropped, same database file.
    at = fresh_app(case=case.id, learner="Grace")
    assert_no_exception(at)
    text = page_text(at)
    assert "Stage 1 of" in text and "Feedback" in text  # the newest feedback shown again once
    at = click(at, "Continue to stage 2")
    text = page_text(at)
    assert f"Stage 2 of {len(case.stages)}" in text
    assert any(b.label == "Commit answers" for b in at.button)
    if len(case.stages) > 2:
        assert_hidden(text, list(texts_of_stage(case, 2)), "resume")


def test_double_commit_counts_once(database):
    case = CASES[sorted(CASES)[0]]
    at = fresh_app(case=case.id, learner="Lin")
    for question in case.stages[0].questions:
        next(r for r in at.radio if r.key.endswith(f"-1-{question.id}")).set_value(question.answer)
    button = next(b for b in at.button if b.label == "Commit answers")
    button.click()
    at.run()
    # The same stale form submitted again (a double click) changes nothing.
    store = store_module.open_store(database)
    learner = learner_of(store, "Lin")
    attempt = store.current_attempt(learner, case.id)
    before = store.committed_choices(attempt.id)
    assert store.record_stage(attempt.id, 0, "presentation", engine.results(case, engine.replay(case, before, attempt.seed), 0)) is False
    assert store.committed_choices(attempt.id) == before
    assert len(store.answer_history(learner)) == len(case.stages[0].questions)


def test_library_cards_never_name_the_diagnosis():
    at = fresh_app()
    assert_no_exception(at)
    text = page_text(at)
    for case in CASES.values():
        assert case.title in text
        for secret in (case.reveal.diagnosis, case.source.title, "leiomyosarcoma", "Leiomyosarcoma"):
            assert secret not in text
        assert f"open-{case.id}" in [b.key for b in at.button]


def test_library_search_and_filters():
    at = fresh_app()
    case = CASES[sorted(CASES)[0]]
    at.text_input(key="library-search").set_value(case.title.split()[0]).run()
    assert f"open-{case.id}" in [b.key for b in at.button]
    at.text_input(key="library-search").set_value("zzzz-no-such-case").run()
    assert not [b for b in at.button if b.key.startswith("open-")]


def test_unknown_case_link_gives_a_clear_message():
    at = fresh_app(case="no-such-case", learner="Ada")
    assert_no_exception(at)
    assert "no playable case" in page_text(at)


def test_progress_survives_restart_and_shows_on_dashboard(tmp_path):
    case = CASES[sorted(CASES)[0]]
    play_case(case, best, learner="Mae")
    at = fresh_app(learner="Mae")
    assert "Completed" in page_text(at) and "best 100%" in page_text(at)
    dashboard = page_app("dashboard", learner="Mae")
    assert_no_exception(dashboard)
    assert [m.value for m in dashboard.metric][:2] == ["1", "100%"]
    assert "Download my answers (CSV)" in [b.label for b in dashboard.get("download_button")]
    dashboard.checkbox(key="reset-confirm").check().run()
    dashboard.button(key="reset-progress").click().run()
    assert page_app("dashboard", learner="Mae").metric[0].value == "0"


def test_corrupted_database_gives_a_clear_message(tmp_path, monkeypatch):
    bad = tmp_path / "broken.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("QUIZ_DATABASE_URL", f"sqlite:///{bad}")
    case = CASES[sorted(CASES)[0]]
    at = fresh_app(case=case.id, learner="Ada")
    assert_no_exception(at)
    assert any("damaged" in e.value for e in at.error)


def test_quick_fire_review_question_gives_feedback(database):
    for case in CASES.values():  # a review question opens once its cases are finished
        finish_case(database, "Rev", case, best)
    at = page_app("review", learner="Rev")
    assert_no_exception(at)
    radio = next(r for r in at.radio if r.key.startswith("rq-"))
    bank = loader.load_content(REPO / "content").bank
    question = next(q for q in bank.review if radio.key.startswith(f"rq-{q.id}-"))
    for option in question.options:  # nothing of the key before "Check answer"
        assert option.explanation not in page_text(at)
    radio.set_value(question.answer)
    at.button(key=radio.key.replace("-choice", "-check")).click()
    at.run()
    text = page_text(at)
    assert "Correct: this is the best answer." in text
    assert all(o.explanation in text for o in question.options)
    assert any(b.label == "Next question →" for b in at.button)


def test_the_review_page_lists_what_was_missed():
    case = CASES[sorted(CASES)[0]]
    play_case(case, worst, learner="Miss")
    at = page_app("review", learner="Miss")
    assert_no_exception(at)
    text = page_text(at)
    total = sum(len(s.questions) for s in case.stages)
    assert f"{total} item(s) due today" in text and "Missed, still to learn" in text
    for question in (q for s in case.stages for q in s.questions):
        assert question.prompt in text


def test_locked_database_gives_a_clear_message(tmp_path, monkeypatch):
    import sqlite3

    path = tmp_path / "locked.sqlite3"
    monkeypatch.setenv("QUIZ_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    store_module.open_store(f"sqlite:///{path}")  # create the tables
    store_module.forget_stores()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        case = CASES[sorted(CASES)[0]]
        at = fresh_app(case=case.id, learner="Locked Out")  # opening the case writes nothing yet...
        assert_no_exception(at)
        at = answer_stage(at, case, 0, best)  # ...the first answer does
        assert_no_exception(at)
        assert any("locked by another program" in e.value for e in at.error), [e.value for e in at.error]
        assert not at.get("success") and "Feedback" not in page_text(at)
    finally:
        other.rollback()
        other.close()
    at = fresh_app(case=case.id, learner="Locked Out")  # once the lock is gone the case opens
    assert any(b.label == "Commit answers" for b in at.button)
