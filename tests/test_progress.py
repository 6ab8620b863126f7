"""Progress figures from stored answers, computed in the core."""
from __future__ import annotations

import pytest

from class_support import BACKENDS, database_url
from quiz.play import engine, progress
from quiz.store import Store
from learner_support import learner_of


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    """The self-study store on SQLite, and on PostgreSQL when a server is given."""
    return database_url(request.param, tmp_path)


def play(store, learner, case, pick):
    learner_id = learner_of(store, learner)
    record = store.current_attempt(learner_id, case.id)
    attempt = engine.start(case, record.seed)
    for index, stage in enumerate(case.stages):
        attempt = engine.commit(case, attempt, index, {q.id: pick(q) for q in stage.questions})
        done = engine.score(case, attempt) if engine.is_finished(case, attempt) else None
        store.record_stage(record.id, index, stage.kind, engine.results(case, attempt, index),
                           finished=(done.earned, done.possible) if done else None)
    return learner_id


def test_accuracy_status_and_mistakes(url, cases):
    store = Store(url)
    first, second = sorted(cases)[:2]
    wrong = lambda q: next(o.id for o in q.options if engine.credit(q, o.id) == 0)  # noqa: E731
    learner = play(store, "Ada", cases[first], lambda q: q.answer)
    play(store, "Ada", cases[second], wrong)
    frame = progress.history_frame(store.answer_history(learner), cases)
    assert len(frame) == sum(len(s.questions) for c in (first, second) for s in cases[c].stages)
    by_stage = progress.accuracy_by(frame, "stage_kind").set_index("stage_kind")
    assert by_stage.loc["presentation", "accuracy"] == 50.0
    assert set(progress.accuracy_by_tag(frame)["tag"]) >= set(cases[first].tags.region)
    assert progress.accuracy_over_time(frame)["answers"].sum() == len(frame)
    missed = progress.mistakes(frame)
    assert set(missed["case_id"]) == {second}
    records = store.attempts(learner)
    status = progress.case_status(cases[first], records, {})
    assert status.label == "Completed" and status.best_percent == 100.0
    csv = progress.to_csv(frame)
    assert csv.splitlines()[0].startswith("answered_at,case_id")
    store.reset_learner(learner)
    assert store.answer_history(learner) == [] and store.attempts(learner) == []


def test_resume_and_new_attempt(url, cases):
    store = Store(url)
    case = cases[sorted(cases)[0]]
    learner_id, record, choices = store.resume(learner_of(store, "Bo"), case.id)
    assert choices == []
    attempt = engine.commit(case, engine.start(case, record.seed), 0, {q.id: q.answer for q in case.stages[0].questions})
    assert store.record_stage(record.id, 0, "presentation", engine.results(case, attempt, 0))
    again = Store(url)  # another process on the same database
    same_learner, same_record, stored = again.resume(learner_of(again, "Bo"), case.id)
    assert (same_learner, same_record.id) == (learner_id, record.id)
    assert same_record.seed == record.seed  # the option order survives a restart
    assert engine.replay(case, stored, same_record.seed) == attempt
    fresh = again.new_attempt(learner_id, case.id)
    assert fresh.seed != record.seed  # a new attempt draws a new order
    assert fresh.id != record.id and again.resume(learner_of(again, "Bo"), case.id)[2] == []
