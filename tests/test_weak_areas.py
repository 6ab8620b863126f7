"""Weak areas: accuracy and calibration by stage kind, region, specialty and question kind, from real played history."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from quiz.play import progress
from quiz.store import Store

from study_support import T0, best, play, wrong
from learner_support import learner_of


@pytest.fixture
def history(tmp_path, cases):
    """Two real cases played: every diagnosis right, every next step wrong."""
    store = Store(f"sqlite:///{tmp_path / 'weak.sqlite3'}")
    learner = learner_of(store, "weak-learner")
    ids = sorted(cases)[:2]
    for case_id in ids:
        play(store, learner, cases[case_id], lambda q: best(q) if q.kind == "diagnosis" else wrong(q), T0)
    return progress.history_frame(store.answer_history(learner), cases), ids


def test_accuracy_by_area(history, cases):
    frame, ids = history
    table = progress.weak_areas(frame)
    assert set(table["area"]) == {"stage kind", "region", "specialty", "question kind"}
    kinds = table[table["area"] == "question kind"].set_index("value")
    questions = [q for c in ids for s in cases[c].stages for q in s.questions]
    assert kinds.loc["diagnosis", "accuracy"] == 100.0
    assert kinds.loc["next_step", "accuracy"] == 0.0
    assert kinds.loc["next_step", "answers"] == sum(q.kind == "next_step" for q in questions)
    regions = table[table["area"] == "region"].set_index("value")
    assert set(regions.index) == {r for c in ids for r in cases[c].tags.region}  # origin is never an area
    for region, row in regions.iterrows():
        mine = [q for c in ids if region in cases[c].tags.region for s in cases[c].stages for q in s.questions]
        assert row["answers"] == len(mine)
        assert row["accuracy"] == round(100 * sum(q.kind == "diagnosis" for q in mine) / len(mine), 1)
    specialties = table[table["area"] == "specialty"].set_index("value")  # a list tag, counted like region
    assert set(specialties.index) == {t for c in ids for t in cases[c].tags.specialty}
    for specialty, row in specialties.iterrows():
        mine = [q for c in ids if specialty in cases[c].tags.specialty for s in cases[c].stages for q in s.questions]
        assert row["answers"] == len(mine)
        assert row["accuracy"] == round(100 * sum(q.kind == "diagnosis" for q in mine) / len(mine), 1)
    assert table.iloc[0]["value"] == "next_step"  # weakest first
    assert math.isnan(table.iloc[0]["certainty"]) and table.iloc[0]["rated"] == 0  # no certainty given


def test_weakest_area_and_the_cases_that_exercise_it(history, cases):
    frame, _ids = history
    area = progress.weakest_area(frame)
    assert (area.area, area.value, area.accuracy) == ("question kind", "next_step", 0.0)
    assert progress.cases_in_area(cases, area) == sorted(
        c for c, case in cases.items() if any(q.kind == "next_step" for s in case.stages for q in s.questions))
    spine = progress.WeakArea("region", "spine", 0.0, 5)
    assert progress.cases_in_area(cases, spine) == sorted(c for c, case in cases.items() if "spine" in case.tags.region)
    surgery = progress.WeakArea("specialty", "neurosurgery", 0.0, 5)
    assert progress.cases_in_area(cases, surgery) == sorted(
        c for c, case in cases.items() if "neurosurgery" in case.tags.specialty)
    assert progress.cases_in_area(cases, surgery)  # the seed cases have it
    assert progress.weakest_area(frame, min_answers=1000) is None
    assert progress.weakest_area(frame[frame["question_kind"] == "diagnosis"]) is None  # all right: nothing weak
    assert progress.weakest_area(frame.iloc[0:0]) is None


def test_calibration_with_certainty(history):
    frame, _ids = history
    # Certainty as the calibration helper will store it: levels, numbers, or none.
    certainty = ["high" if k == "next_step" else None for k in frame["question_kind"]]
    first_diagnosis = list(frame["question_kind"]).index("diagnosis")
    certainty[first_diagnosis] = 60  # a number on the 0-100 scale, on one right answer
    table = progress.calibration_by(frame.assign(certainty=certainty), "question_kind").set_index("question_kind")
    next_step = table.loc["next_step"]
    assert next_step["rated"] == next_step["answers"]
    assert next_step["certainty"] == 100.0  # "high" counts as 100%, as in the calibration section
    assert next_step["gap"] == 100.0  # sure and always wrong: over-confident by that much
    diagnosis = table.loc["diagnosis"]
    assert diagnosis["rated"] == 1 and diagnosis["accuracy"] == 100.0
    assert diagnosis["certainty"] == 60 and diagnosis["gap"] == -40.0  # right while 60% sure: under-confident


def test_history_keeps_an_optional_certainty(cases):
    row = {c: None for c in progress.HISTORY_COLUMNS} | {
        "case_id": sorted(cases)[0], "credit": 1.0, "option_id": "a", "best_id": "a", "answered_at": T0,
        "stage_kind": "presentation", "question_kind": "diagnosis", "stage_index": 0, "question_id": "q"}
    assert "certainty" not in progress.history_frame([row], cases)
    frame = progress.history_frame([row | {"certainty": "low"}], cases)
    assert list(frame["certainty"]) == ["low"]
    assert progress.certainty_percent("low") == pytest.approx(33) and progress.certainty_percent(None) is None
    assert progress.weak_areas(pd.DataFrame(columns=progress.HISTORY_COLUMNS)).empty


def test_an_exam_of_a_weak_specialty_draws_only_cases_of_that_specialty(cases):
    from quiz.play import exam

    area = progress.WeakArea("specialty", "neurosurgery", 20.0, 6)
    members = {c for c, case in cases.items() if "neurosurgery" in case.tags.specialty}
    plan = exam.plan_for_area(cases, area, seed="s", count=3)
    assert plan.case_ids and set(plan.case_ids) <= members
    hidden = sorted(members)[:1]
    assert not set(exam.plan_for_area(cases, area, seed="s", hidden=hidden).case_ids) & set(hidden)
