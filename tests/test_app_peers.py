"""Peer statistics in the real app (AppTest): after the commit, hidden below 5 first attempts; the library's band filter."""
from __future__ import annotations

import pytest

from apptest_support import answer_stage, assert_no_exception, page_app, page_text
from conftest import REPO
from quiz import store as store_module
from quiz.content import loader
from quiz.play import peers
from study_support import T0, best, play, wrong
from learner_support import learner_of

CASES = loader.load_content(REPO / "content").cases
CASE = CASES[sorted(CASES)[0]]


pytestmark = pytest.mark.usefixtures("database")  # conftest.py: a fresh SQLite file per test


def others_played(url, count, pick):
    db = store_module.open_store(url)
    for n in range(count):
        play(db, learner_of(db, f"Peer {n}"), CASE, pick, T0, stages=1)


def commit_first_stage(learner="Viewer"):
    at = page_app("library", learner=learner, case=CASE.id)
    assert_no_exception(at)
    assert "How others answered" not in page_text(at)  # nothing of it before the commit
    assert not [t for t in at.toggle if t.label == "How others answered"]
    at = answer_stage(at, CASE, 0, best)
    assert_no_exception(at)
    assert "First attempts on this server" not in page_text(at)  # the figures are shown when asked for
    at = next(t for t in at.toggle if t.key and t.key.endswith("-peers-1")).set_value(True).run()
    assert_no_exception(at)
    return at


def test_with_four_first_attempts_the_figures_stay_hidden(database):
    others_played(database, 3, wrong)  # three colleagues and the viewer: four first attempts
    at = commit_first_stage()
    shown = [m.value for m in at.markdown if f"shown once {peers.MIN_N} learners" in m.value]
    assert len(shown) == 1 and "%" not in shown[0]
    assert "first attempts on this server" not in page_text(at)


def test_with_five_first_attempts_each_option_share_is_shown_with_n(database):
    others_played(database, 4, wrong)  # four colleagues chose a wrong option, the viewer the best one
    at = commit_first_stage()
    text = page_text(at)
    assert "first attempts on this server, n = 5" in text
    for question in CASE.stages[0].questions:
        best_label = next(o.label for o in question.options if o.id == question.answer)
        wrong_label = next(o.label for o in question.options if o.id == wrong(question))
        assert f"- {best_label} (best): 20%" in text
        assert f"- {wrong_label}: 80%" in text
    assert "difficulty: harder" in text  # p = 0.2


def test_the_library_filters_by_peer_difficulty_band(database):
    others_played(database, 5, wrong)  # the first stage of CASE is "harder" for the learners here
    at = page_app("library", learner="Viewer")
    assert_no_exception(at)
    at.multiselect(key="f-band").set_value(["harder"]).run()
    text = page_text(at)
    assert CASE.title in text
    assert not [c.title for c in CASES.values() if c.id != CASE.id and c.title in text]  # no band yet: not harder
    at.multiselect(key="f-band").set_value(["easier"]).run()
    assert CASE.title not in page_text(at)
