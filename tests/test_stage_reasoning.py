"""The learner's pad, certainty and problem representation are stored with the stage's answers, all or nothing."""
from __future__ import annotations

import pytest

from class_support import BACKENDS, database_url
from quiz.play import differential, engine
from quiz.store import Store
from learner_support import learner_of


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    return database_url(request.param, tmp_path)


def test_reasoning_is_stored_with_the_answers_and_refused_with_them(url, cases, content):
    catalogue = content.catalogue
    case = cases[sorted(cases)[0]]
    store = Store(url)
    learner = learner_of(store, "Ada")
    record = store.current_attempt(learner, case.id)
    attempt = engine.commit(case, engine.start(case, record.seed), 0, {q.id: q.answer for q in case.stages[0].questions})
    eventual = case.reveal.diagnosis_id
    pad = differential.add(differential.EMPTY, eventual, catalogue)
    reasoning = {"pad": differential.pad_to_data(pad), "certainty": {case.stages[0].questions[0].id: "high"},
                 "problem_representation": "  a one-liner  "}

    def refuse(conn):
        raise RuntimeError("exam over")

    with pytest.raises(RuntimeError):
        store.record_stage(record.id, 0, "presentation", engine.results(case, attempt, 0), guard=refuse, reasoning=reasoning)
    assert store.stage_reasoning(record.id) == {} and store.committed_choices(record.id) == []

    assert store.record_stage(record.id, 0, "presentation", engine.results(case, attempt, 0), reasoning=reasoning)
    stored = store.stage_reasoning(record.id)[0]
    assert differential.pad_from_data(stored["pad"]) == pad
    assert stored["certainty"] == {case.stages[0].questions[0].id: "high"}
    assert stored["problem_representation"] == "a one-liner"
    # A double click stores neither the answers nor the reasoning twice.
    assert store.record_stage(record.id, 0, "presentation", engine.results(case, attempt, 0), reasoning=reasoning) is False
    history = store.reasoning_history(learner)
    assert [(h["case_id"], h["stage_index"]) for h in history] == [(case.id, 0)]
    store.reset_learner(learner)
    assert store.reasoning_history(learner) == []
