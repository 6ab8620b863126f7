"""The item-analysis page through AppTest, over a database filled by the real player and classroom code.

Filled: ten self-study learners and one class session of four students answering stage 1 only.

* Six strong learners choose the key everywhere but ``s2-next-step``, where they choose excision
  (half credit): total 5.5 of 6.
* Four weak learners choose lipoma at the three diagnosis questions and the key elsewhere,
  ``s2-next-step`` included: total 3.
* In class, two students choose the key of ``s1-diagnosis``, two abscess; all four choose MRI (the key).

So ``s1-diagnosis``: everyone n = 14 with 8 right; the session alone n = 4 with 2 right (too few).
In self-study, the upper 3 (27% of 10) are strong learners and the lower 3 weak ones, so
``s2-next-step`` has D = 0 - 1 = -1 and its upper group prefers excision to the key: flagged.
"""
from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import factories
from apptest_support import page_text
from class_support import PASSCODE
from item_support import play_self_study, run_class
from quiz import classroom
from quiz import store as store_module
from quiz.ui import items

CASE = factories.load_case()
LEARNERS = [f"Zelda{i}" for i in range(10)]
NICKNAMES = ["Quokka", "Wombat", "Numbat", "Bilby"]


@pytest.fixture
def filled(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'items.sqlite3'}"
    monkeypatch.setenv("QUIZ_CONTENT_DIR", str(factories.write_content(tmp_path / "content")))
    monkeypatch.setenv("QUIZ_DATABASE_URL", url)
    monkeypatch.setenv("QUIZ_INSTRUCTOR_PASSCODE", PASSCODE)
    store_module.forget_stores()
    classroom.forget_polls()
    store = store_module.Store(url)
    for i, name in enumerate(LEARNERS):
        weak = {"s1-diagnosis": "lipoma", "s2-diagnosis": "lipoma", "s3-diagnosis": "lipoma"}
        play_self_study(store, CASE, name, {"s2-next-step": "excision"} if i < 6 else weak)
    picks = ["soft-tissue-sarcoma", "soft-tissue-sarcoma", "abscess", "abscess"]
    host = run_class(store, CASE, {n: {"s1-diagnosis": p, "s1-next-step": "mri"} for n, p in zip(NICKNAMES, picks)})
    st.cache_data.clear()
    yield host
    store_module.forget_stores()
    classroom.forget_polls()


def page() -> AppTest:
    at = AppTest.from_string("from quiz.ui import items\nitems.render()\n", default_timeout=60)
    return ok(at.run())


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def unlocked() -> AppTest:
    at = page()
    at.text_input(key="items-passcode-input").input(PASSCODE)
    at.button[0].click()
    return ok(at.run())


def table(at: AppTest):
    frame = next(d for d in at.dataframe if "Difficulty p" in d.value.columns).value
    return frame.set_index("Id")


def test_locked_without_the_passcode(filled, monkeypatch):
    at = page()
    assert not at.dataframe and not at.selectbox
    text = page_text(at)
    assert at.text_input(key="items-passcode-input").label == "Instructor passcode"
    assert "Respondents" not in text and not at.metric
    at.text_input(key="items-passcode-input").input("a guess")
    at.button[0].click()
    at = ok(at.run())
    assert "Wrong passcode." in page_text(at) and not at.dataframe
    monkeypatch.delenv("QUIZ_INSTRUCTOR_PASSCODE")
    at = page()
    assert "Item analysis is locked: no instructor passcode is set" in page_text(at) and not at.dataframe


def test_with_the_passcode_the_table_shows_the_figures(filled):
    at = unlocked()
    assert at.selectbox(key="items-scope").value == items.EVERYONE
    frame = table(at)
    assert list(frame.index) == [q.id for stage in CASE.stages for q in stage.questions]
    assert frame.loc["s1-diagnosis", "n"] == 14
    assert frame.loc["s1-diagnosis", "Difficulty p"] == pytest.approx(8 / 14)
    assert frame.loc["s1-diagnosis", "Key"] == "Soft-tissue sarcoma"
    assert frame.loc["s2-diagnosis", "n"] == 10 and frame.loc["s2-diagnosis", "Difficulty p"] == 0.6
    assert frame.loc["s2-next-step", "D (upper − lower)"] == -1.0
    assert frame.loc["s2-next-step", "Flags"].startswith("🚩 Negative discrimination (D = -1.00)")
    assert frame.loc["s1-next-step", "Flags"] == "" and frame.loc["s1-next-step", "Difficulty p"] == 1.0
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Respondents"], metrics["Answered every question"], metrics["Questions flagged"]) == ("14", "10", "1")
    warning = next(w.value for w in at.warning)
    assert "Stage 2 · Stage 2: what next?" in warning and "'Wide local excision' (100%)" in warning
    # Options of the first question: the key and the two distractors chosen, with their shares.
    options = next(d for d in at.dataframe if "Upper group" in d.value.columns).value.set_index("Option")
    assert options.loc["✓ Soft-tissue sarcoma", "Chosen"] == 8
    assert options.loc["Lipoma", "Chosen"] == 4 and options.loc["Abscess", "Chosen"] == 2
    assert options.loc["Schwannoma", "Share"] == 0.0
    text = page_text(at)
    assert not any(name in text for name in LEARNERS + NICKNAMES)
    assert any(b.label == "Download the item analysis (CSV)" for b in at.get("download_button"))
    assert len(at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")) == 2, "a chart of the questions and one of the options"
    # Difficulty side by side: self-study and the session.
    compare = next(d for d in at.dataframe if d.value.columns[0] == "Question").value.set_index("Question")
    assert list(compare.columns) == ["Self-study first attempts (n=10)", f"Session {filled.code} · {_session(at).split(' · ')[1]} (n=4)"]
    assert compare.loc["S1 s1-diagnosis"].tolist() == pytest.approx([0.6, 0.5])


def _session(at: AppTest) -> str:
    return next(o for o in at.selectbox(key="items-scope").options if o.startswith("Session "))


def test_one_session_alone_is_too_few_to_judge(filled):
    at = unlocked()
    label = _session(at)
    assert filled.code in label and "4 students" in label
    at = ok(at.selectbox(key="items-scope").set_value(label).run())
    frame = table(at)
    assert frame.loc["s1-diagnosis", "n"] == 4 and frame.loc["s1-diagnosis", "Difficulty p"] == 0.5
    assert frame.loc["s2-diagnosis", "n"] == 0
    assert "Only 4 respondents" in frame.loc["s1-diagnosis", "Flags"]
    assert {m.label: m.value for m in at.metric}["Questions flagged"] == "0"


def test_self_study_alone(filled):
    at = unlocked()
    at = ok(at.selectbox(key="items-scope").set_value(items.SELF_ONLY).run())
    frame = table(at)
    assert frame.loc["s1-diagnosis", "n"] == 10 and frame.loc["s1-diagnosis", "Difficulty p"] == 0.6
    # Upper: the six strong learners tie at 5.5 and share 3 places; lower: the four weak tie at 3 and share 3.
    assert frame.loc["s1-diagnosis", "D (upper − lower)"] == pytest.approx(1.0)
    assert frame.loc["s2-next-step", "D (upper − lower)"] == pytest.approx(-1.0)
    assert frame.loc["s2-next-step", "Mean credit"] == pytest.approx((6 * 0.5 + 4) / 10)
    at = ok(at.selectbox(key="items-question").set_value(
        next(o for o in at.selectbox(key="items-question").options if "(s2-next-step)" in o)).run())
    options = next(d for d in at.dataframe if "Upper group" in d.value.columns).value.set_index("Option")
    assert options.loc["Wide local excision", "Upper group"] == 1.0
    assert options.loc["✓ Core-needle biopsy", "Lower group"] == 1.0


def test_an_instructor_names_a_cohort_and_analyses_it(filled):
    at = unlocked()
    at.text_input(key="items-cohort-name").input("PGY-2 2025")
    at = ok(next(b for b in at.button if b.label == "Create cohort").click().run())
    chooser = next(m for m in at.multiselect if m.key.startswith("items-cohort-"))
    at = ok(chooser.set_value([filled.session_id]).run())
    at = ok(next(b for b in at.button if b.label == "Save sessions").click().run())
    scopes = at.selectbox(key="items-scope").options
    assert "Cohort: PGY-2 2025" in scopes
    at = ok(at.selectbox(key="items-scope").set_value("Cohort: PGY-2 2025").run())
    assert table(at).loc["s1-diagnosis", "n"] == 4
    at.text_input(key="items-cohort-name").input("pgy-2 2025")
    at = ok(next(b for b in at.button if b.label == "Create cohort").click().run())
    assert "There is already a cohort called 'PGY-2 2025'." in page_text(at)


def test_another_case_after_choosing_a_session(filled, tmp_path, monkeypatch):
    other = factories.case_dict("other-lump", stages=1)
    other["title"] = "Another lump"
    monkeypatch.setenv("QUIZ_CONTENT_DIR", str(factories.write_content(
        tmp_path / "two", {factories.CASE_ID: factories.case_dict(), "other-lump": other})))
    at = unlocked()
    at = ok(at.selectbox(key="items-scope").set_value(_session(at)).run())
    at = ok(at.selectbox(key="items-case").set_value("other-lump").run())
    assert at.selectbox(key="items-scope").value == items.EVERYONE
    assert "No answers to this case yet" in page_text(at)


def test_certainty_columns_appear_when_answers_carry_one():
    def script():
        import factories
        from quiz.play import item_analysis as ia
        from quiz.ui import items

        case = factories.load_case()
        rows = ia.grade(case, [("a", "s1-diagnosis", "soft-tissue-sarcoma", "high"),
                               ("b", "s1-diagnosis", "lipoma", "low")])
        items._table(case, ia.analyse(rows, ia.items_of(case)))

    at = ok(AppTest.from_function(script, default_timeout=30).run())
    frame = at.dataframe[0].value.set_index("Id")
    assert frame.loc["s1-diagnosis", "Certainty (mean)"] == pytest.approx((1.0 + 0.33) / 2)
    assert (frame.loc["s1-diagnosis", "… when right"], frame.loc["s1-diagnosis", "… when wrong"]) == (1.0, 0.33)
    assert frame.loc["s1-diagnosis", "Certainty n"] == 2


def test_no_certainty_column_without_certainty(filled):
    assert not any("Certainty (mean)" in d.value.columns for d in unlocked().dataframe)
