"""The reasoning trace and the progress CSV show the pad, certainty and the one-liner (AppTest, real app)."""
from __future__ import annotations

import csv
import io

import pytest
from streamlit.testing.v1 import AppTest

import streamlit as st
from quiz import store as store_module
from quiz.content import loader
from quiz.play import differential
from quiz.ui.text import plain

from apptest_support import answer_stage, as_learner, assert_no_exception, click, fresh_app, page_text
from conftest import REPO

CONTENT = loader.load_content(REPO / "content")
CASES = CONTENT.cases
CATALOGUE = CONTENT.catalogue
CASE_ID = "neck-pain-left-arm-numbness"
ONELINER = "45 year old man, prior leiomyosarcoma, 5 months of progressive cervical pain"

#: The dashboard run with a spy on st.download_button: the data each button would send is kept.
DASHBOARD = """
import streamlit as st
_real = st.download_button
def _spy(label, data, *args, **kwargs):
    st.session_state.setdefault("_downloads", {})[label] = data
    return _real(label, data, *args, **kwargs)
st.download_button = _spy
try:
    from quiz.ui import dashboard
    dashboard.render()
finally:
    st.download_button = _real
"""


pytestmark = pytest.mark.usefixtures("database")  # conftest.py: a fresh SQLite file per test


def widget(items, suffix):
    return next(w for w in items if w.key and w.key.startswith("play-") and w.key.endswith(suffix))


def label(diagnosis):
    return CATALOGUE[diagnosis].label


def picks_at(case, index):
    """The pad kept at a stage: the expert's top three, the last one flagged must-not-miss, the second leading."""
    return [e.diagnosis for e in differential.expert(case.stages[index])][:3]


def certainty_at(index):
    return "moderate" if index == 0 else "high"


def play_stage(at, case, index):
    number = index + 1
    picks = picks_at(case, index)
    at = widget(at.multiselect, f"-pad-{number}").set_value(picks).run()
    # flags carry over from the stage before: only the last pick keeps one
    at = widget(at.toggle, f"-pad-details-{number}").set_value(True).run()
    widget(at.multiselect, f"-pad-mnm-{number}").set_value([picks[-1]])
    widget(at.selectbox, f"-pad-lead-{number}").set_value(picks[1])
    at = at.run()
    assert_no_exception(at)
    for question in case.stages[index].questions:
        if question.kind == "diagnosis":
            widget(at.radio, f"-{number}-{question.id}-certainty").set_value(certainty_at(index))
    for box in at.text_input:
        if box.key and box.key.endswith(f"-oneliner-{number}"):
            box.set_value(ONELINER)
    at = answer_stage(at, case, index, lambda q: q.answer)
    assert_no_exception(at)
    return at


def dashboard(learner):
    st.cache_data.clear()
    store_module.forget_stores()
    at = as_learner(AppTest.from_string(DASHBOARD, default_timeout=60), learner).run()
    assert_no_exception(at)
    return at


def after_started(url) -> str:
    from quiz.store import Store
    from learner_support import learner_of

    db = Store(url)
    return db.attempts(learner_of(db, "Ada"))[0].started_at.strftime("%Y-%m-%d %H:%M")


def stage_lines(at) -> str:
    """The markdown of the trace's stage-by-stage part, each element once, in page order."""
    values = [m.value for m in at.markdown]
    start = values.index("##### Your reasoning, stage by stage") + 1
    return "\n".join(v for v in values[start:] if v.startswith("**") and "Differential:" in v)


def expected_line(case, index):
    """What the trace says of a stage's pad, as the page writes it."""
    picks = picks_at(case, index)
    return ", ".join(f"{rank}. {label(d)}" + (" (**leading**)" if d == picks[1] else "")
                     + (" ⚠️ must not miss" if d == picks[-1] else "") for rank, d in enumerate(picks, 1))


def test_the_reveal_trace_and_the_csv_show_the_pad_certainty_and_one_liner(database):
    case = CASES[CASE_ID]
    total = len(case.stages)
    at = fresh_app(case=case.id, learner="Ada")
    at = play_stage(at, case, 0)

    # Mid-case, "My progress" traces the committed stage only, and nothing of the expert's list.
    mid = dashboard("Ada")
    text = page_text(mid)
    assert "Reasoning trace of an attempt" in text
    assert mid.selectbox(key="progress-trace-attempt").options[0].endswith(", in progress)")
    assert "1. " + case.stages[0].heading in text and f"2. {case.stages[1].heading}" not in text
    assert expected_line(case, 0) in text and "Certainty: Moderate" in text
    assert f"Problem representation: “{plain(ONELINER)}”" in text
    assert "Differential score:" not in text
    for stage in case.stages:
        for entry in stage.differential:
            assert entry.reason not in text
        if stage.problem_representation:
            assert stage.problem_representation.summary not in text
    for stage in case.stages[1:]:
        for question in stage.questions:
            assert question.prompt not in text

    at = click(at, "Continue to stage 2")
    for index in range(1, total):
        at = play_stage(at, case, index)
        at = click(at, f"Continue to stage {index + 2}" if index + 1 < total else "See what the authors did")
        assert_no_exception(at)

    text = page_text(at)
    assert "Your reasoning trace" in text and "Your reasoning, stage by stage" in text
    trace = stage_lines(at)
    for index, stage in enumerate(case.stages):
        assert f"**{index + 1}. {stage.heading}**" in trace
        assert expected_line(case, index) in trace
    assert trace.count("Certainty: Moderate") == 1 and trace.count("Certainty: High") == total - 1
    assert trace.count(f"Problem representation: “{plain(ONELINER)}”") == 2
    assert trace.count("Differential score:") == total

    after = dashboard("Ada")
    downloads = after.session_state["_downloads"]
    rows = list(csv.DictReader(io.StringIO(downloads["Download my answers (CSV)"])))
    assert len(rows) == sum(len(s.questions) for s in case.stages)
    for row in rows:
        index = int(row["stage_number"]) - 1
        picks = picks_at(case, index)
        assert row["differential"] == " > ".join(label(d) for d in picks)
        assert row["leading"] == label(picks[1]) and row["must_not_miss"] == label(picks[-1])
        kind = row["question_kind"]
        assert row["certainty"] == (certainty_at(index) if kind == "diagnosis" else "")
        assert row["problem_representation"] == (ONELINER if index in (0, total - 1) else "")
    assert after.selectbox(key="progress-trace-attempt").options == [
        f"{case.title} (started {after_started(database)} UTC)"]
    assert stage_lines(after).count("Differential score:") == total
