"""Weak areas on My progress (AppTest): accuracy and calibration by area, as a chart and a table."""
from __future__ import annotations

import json

import pytest

from apptest_support import assert_no_exception, page_app, page_text
from learner_support import learner_of
from conftest import REPO
from quiz import store as store_module
from quiz.content import loader
from quiz.play import progress
from study_support import T0, best, play, wrong

CASES = loader.load_content(REPO / "content").cases


pytestmark = pytest.mark.usefixtures("database")  # conftest.py: a fresh SQLite file per test


def charts(at):
    return [json.loads(c.proto.spec) for c in (at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart"))]


def fields(spec) -> set[str]:
    """Every field a chart (or any of its layers) draws."""
    found = set()
    for layer in [spec, *spec.get("layer", [])]:
        for channel in (layer.get("encoding") or {}).values():
            if isinstance(channel, dict) and "field" in channel:
                found.add(channel["field"])
    return found


def test_weak_areas_chart_accuracy_and_calibration_by_area(database):
    """Diagnoses right but said unsure, next steps wrong but said sure: both show, by area, in one chart."""
    db = store_module.open_store(database)
    learner = learner_of(db, "Calibrated")
    for case_id in sorted(CASES)[:2]:
        play(db, learner, CASES[case_id], lambda q: best(q) if q.kind == "diagnosis" else wrong(q), T0,
             certainty=lambda q: "low" if q.kind == "diagnosis" else "high")
    at = page_app("dashboard", learner="Calibrated")
    assert_no_exception(at)
    assert "Weak areas" in page_text(at)
    [spec] = [s for s in charts(at) if {"accuracy", "certainty"} <= fields(s)]  # one chart shows both
    table = next(f.value for f in at.dataframe if f.value is not None and "Calibration gap (points)" in f.value.columns)
    rows = table.set_index("Area")
    diagnosis, next_step = rows.loc["Question kind: Diagnosis"], rows.loc["Question kind: Next step"]
    assert (diagnosis["Accuracy (%)"], diagnosis["Mean certainty (%)"]) == (100.0, 33.0)
    assert diagnosis["Calibration gap (points)"] == -67.0  # right while unsure: under-confident
    assert (next_step["Accuracy (%)"], next_step["Calibration gap (points)"]) == (0.0, 100.0)  # sure and wrong
    assert {"Stage kind", "Region", "Specialty", "Question kind"} == {a.split(":")[0] for a in rows.index}
    frame = progress.with_reasoning(progress.history_frame(db.answer_history(learner), CASES),
                                    db.reasoning_history(learner), loader.load_content(REPO / "content").catalogue)
    assert len(rows) == len(progress.weak_areas(frame))
