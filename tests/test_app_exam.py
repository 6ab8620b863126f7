"""Exam mode in the real app (AppTest): no key before hand-in, the full review after, a resumed clock."""
from __future__ import annotations

from datetime import timedelta

import pytest

from apptest_support import (answer_stage, as_learner, assert_no_exception, click, flat, key_texts, learner_of,
                             page_app, page_text, texts_of_stage)
from conftest import REPO
from quiz import classroom, store as store_module
from quiz.content import loader
from quiz.play import exam
from study_support import best, withheld_texts, wrong

CASES = loader.load_content(REPO / "content").cases


pytestmark = pytest.mark.usefixtures("database")  # conftest.py: a fresh SQLite file per test


def two_cases():
    return [CASES[c] for c in sorted(CASES)[:2]]


def choose_and_start(at, chosen):
    at.multiselect(key="exam-chosen").set_value([c.id for c in chosen])
    at.run()
    return click(at, "Start the exam")


def test_the_set_up_lists_titles_never_a_diagnosis_or_the_origin():
    at = page_app("exam", learner="Ana")
    assert_no_exception(at)
    picker = at.multiselect(key="exam-chosen")
    shown = list(picker.options)  # as the page formats them
    assert set(shown) == {c.title for c in CASES.values()}
    text = page_text(at)
    for case in CASES.values():
        assert case.reveal.diagnosis not in text
        assert case.tags.origin not in text.lower()


def test_an_exam_end_to_end_holds_every_key_back_until_hand_in(database):
    chosen = two_cases()
    at = choose_and_start(page_app("exam", learner="Ana"), chosen)
    assert_no_exception(at)
    assert "Time left" in page_text(at)
    hidden = set().union(*(withheld_texts(c) for c in chosen))
    first, second = chosen
    for index in range(len(first.stages)):  # the first case wrong at every stage, the second right but one stage
        at = answer_stage(at, first, index, wrong)
        assert_no_exception(at)
        text = page_text(at)
        leaked = [t for t in hidden if t in text]
        assert not leaked, leaked
        assert "Correct" not in text and "best answer" not in text.lower()
    assert "Every stage of this case is committed" in page_text(at)
    at = click(at, "Next case")
    at = answer_stage(at, second, 0, best)
    text = page_text(at)
    assert not [t for t in hidden if t in text]
    db = store_module.open_store(database)
    assert exam.open_exam(db, CASES, learner_of(db, "Ana")) is not None  # still running: one case not finished

    at.checkbox(key=next(c.key for c in at.checkbox if c.key.endswith("-sure"))).check()
    at = click(at.run(), "Hand in the exam")
    assert_no_exception(at)
    text = page_text(at)
    assert "Your results" in text and "Time per stage" in text
    assert first.reveal.diagnosis in text  # the finished case is reviewed in full, reveal included
    assert any(o.explanation in text for q in first.stages[0].questions for o in q.options if o.explanation)
    assert second.reveal.diagnosis not in text  # the unfinished one keeps its outcome for a later play
    assert "outcome stays hidden" in text
    assert exam.open_exam(db, CASES, learner_of(db, "Ana")) is None
    frame = at.dataframe[0].value
    assert len(frame) == len(first.stages) + 1  # a row per committed stage


def test_a_restart_resumes_the_running_exam_from_stored_times(database):
    db = store_module.open_store(database)
    learner = learner_of(db, "Ana")
    chosen = two_cases()
    started = store_module.now() - timedelta(minutes=3)
    exam.start(db, CASES, learner, [c.id for c in chosen], time_limit=timedelta(minutes=10), now=started)
    at = page_app("exam", learner="Ana")  # a new session, as after a reload or a server restart
    assert_no_exception(at)
    left = next(m for m in at.metric if m.label == "Time left").value
    minutes, seconds = map(int, left.split(":"))
    assert 6 * 60 + 50 <= minutes * 60 + seconds <= 7 * 60
    assert chosen[0].stages[0].heading in page_text(at)


def test_an_exam_whose_time_ran_out_shows_its_results(database):
    db = store_module.open_store(database)
    learner = learner_of(db, "Ana")
    chosen = two_cases()
    exam.start(db, CASES, learner, [c.id for c in chosen], time_limit=timedelta(minutes=5),
               now=store_module.now() - timedelta(minutes=6))
    at = page_app("exam", learner="Ana")
    assert_no_exception(at)
    assert "Time left" not in page_text(at)  # it ended at its deadline; nothing to play
    [ended] = exam.exams_of(db, learner)
    assert ended.finished_at == ended.deadline
    at.selectbox(key="exam-past").set_value(ended.id)
    at = click(at.run(), "Show its results")
    assert "Time ran out" in page_text(at)


NAVIGATION = """
import streamlit as st
from quiz.ui import dashboard, exam
st.navigation([st.Page(dashboard.render, title="My progress", url_path="progress", default=True), exam.page()]).run()
"""


def test_the_weakest_area_button_on_my_progress_starts_an_exam_of_it(database):
    from streamlit.testing.v1 import AppTest

    from quiz.play import progress
    from study_support import T0, play

    db = store_module.open_store(database)
    learner = learner_of(db, "Weak")
    for case in CASES.values():  # every case played: wrong throughout on one, right on the rest
        play(db, learner, case, wrong if case.id == sorted(CASES)[0] else best, T0)
    frame = progress.history_frame(db.answer_history(learner), CASES)
    area = progress.weakest_area(frame)
    assert area is not None
    store_module.forget_stores()
    at = AppTest.from_string(NAVIGATION, default_timeout=60)
    as_learner(at, "Weak")
    at.run()
    assert_no_exception(at)
    text = page_text(at)
    assert "Weak areas" in text and "Your weakest area" in text
    [weak] = [f for f in at.dataframe if f.value is not None and "Accuracy (%)" in f.value.columns]
    # played without certainty: those cells are empty, and shown as a dash, not the word "None"
    assert weak.value["Mean certainty (%)"].isna().all() and weak.proto.placeholder == "—"
    at = click(at, "Start an exam of this area")
    assert_no_exception(at)
    running = exam.open_exam(db, CASES, learner)
    assert running is not None
    [record] = [r for r in exam.exams_of(db, learner) if r.id == running]
    assert set(record.case_ids) <= set(progress.cases_in_area(CASES, area)) and record.case_ids
    text = page_text(at)  # now on the exam page, the first case open, the reason said
    assert "Time left" in text and CASES[record.case_ids[0]].title in text
    assert "Your weakest area" in text


def test_committing_the_last_stage_ends_the_exam_and_shows_the_results(database):
    case = CASES[sorted(CASES)[0]]
    at = choose_and_start(page_app("exam", learner="Ana"), [case])
    for index in range(len(case.stages)):
        at = answer_stage(at, case, index, best)
        assert_no_exception(at)
    text = page_text(at)
    assert "Your results" in text and case.reveal.diagnosis in text
    # The page keeps the scroll position of the last stage, far below the score: a toast tells the score.
    [toast] = at.toast
    assert "Exam ended" in toast.value and "100%" in toast.value
    assert next(m for m in at.metric if m.label == "Score").value == "100%"


def test_a_late_commit_is_refused_and_the_page_shows_the_results(database, monkeypatch):
    case = CASES[sorted(CASES)[0]]
    at = choose_and_start(page_app("exam", learner="Ana"), [case])
    db = store_module.open_store(database)
    [record] = exam.exams_of(db, learner_of(db, "Ana"))
    later = record.deadline + timedelta(seconds=1)
    monkeypatch.setattr(exam, "server_now", lambda: later)  # the server's clock, past the deadline
    at = answer_stage(at, case, 0, best)
    assert_no_exception(at)
    text = page_text(at)
    assert "Time is up" in text and "not saved" in text
    assert "Your results" in text and "Time ran out" in text
    assert db.committed_choices(exam.load(db, CASES, record.id, record.learner_id).attempt_ids[case.id]) == []


def test_a_diagnosis_asks_how_sure_the_learner_is_and_the_exam_stores_it(database):
    """As in tutor mode: the certainty is committed with the stage and rates the review card after the exam."""
    case, index = next((c, i) for c in (CASES[k] for k in sorted(CASES)) for i, s in enumerate(c.stages)
                       if any(q.kind == "diagnosis" for q in s.questions))
    diagnosis = next(q for q in case.stages[index].questions if q.kind == "diagnosis")
    at = choose_and_start(page_app("exam", learner="Una"), [case])
    for i in range(index):
        at = answer_stage(at, case, i, best)
    sure = next(r for r in at.radio if r.key.endswith(f"-{index + 1}-{diagnosis.id}-certainty"))
    assert sure.label == "How sure are you of this diagnosis?" and sure.value is None
    sure.set_value("low")
    at = answer_stage(at, case, index, best)
    assert_no_exception(at)
    db = store_module.open_store(database)
    learner = learner_of(db, "Una")
    state = exam.load(db, CASES, exam.open_exam(db, CASES, learner), learner)
    assert db.stage_reasoning(state.attempt_ids[case.id])[index]["certainty"] == {diagnosis.id: "low"}


# --- a case a live class is playing (issue 10 item 7, live-class.md S1) ------------------------------

PASSCODE = "a long enough passcode here"


def class_plays(database, case):
    """An instructor opens a class on ``case`` with the default "hide from self-study" on."""
    db = store_module.open_store(database)
    host = classroom.create_session(db, case, passcode=PASSCODE, configured=PASSCODE)
    assert case.id in classroom.cases_in_class(db)
    return host


def class_ends(database, case, host):
    db = store_module.open_store(database)
    classroom.act(db, host, "end", expect=(0, "lobby"), total=len(case.stages))
    assert case.id not in classroom.cases_in_class(db)


def sure_and_hand_in(at):
    at.checkbox(key=next(c.key for c in at.checkbox if c.key.endswith("-sure"))).check()
    return click(at.run(), "Hand in the exam")


def test_a_case_a_live_class_plays_cannot_be_chosen_drawn_or_started(database):
    """S1 through the Exam page: the audit started an exam of the class's case and read its stage-1 keys."""
    case = CASES["abnormal-liver-tests-abdominal-discomfort"]  # the only case of the region "abdomen"
    class_plays(database, case)
    at = page_app("exam", learner="Spy")
    assert_no_exception(at)
    assert case.title not in at.multiselect(key="exam-chosen").options
    assert "In use by a live class" in page_text(at) and case.title in page_text(at)
    at.radio(key="exam-how").set_value("Random cases").run()
    at.multiselect(key="exam-region").set_value(["abdomen"]).run()  # a filter only the class's case matches
    assert_no_exception(at)
    assert at.button(key="exam-start").disabled
    assert "In use by a live class" in " ".join(i.value for i in at.info)
    at.multiselect(key="exam-region").set_value([]).run()
    at.number_input(key="exam-count").set_value(len(CASES)).run()  # every case there is
    at = click(at, "Start the exam")
    assert_no_exception(at)
    db = store_module.open_store(database)
    [record] = exam.exams_of(db, learner_of(db, "Spy"))
    assert set(record.case_ids) == set(CASES) - {case.id}
    with pytest.raises(exam.InClass, match="In use by a live class"):  # the core refuses it whoever asks
        exam.start(db, CASES, learner_of(db, "Spy"), [case.id], hidden=classroom.cases_in_class(db))


def test_a_running_exam_holds_back_a_case_a_class_starts_playing_until_the_reveal(database):
    """An exam started before the class: its case stops where it was, and the results wait for the reveal."""
    case, other = two_cases()
    at = choose_and_start(page_app("exam", learner="Early"), [case, other])
    at = answer_stage(at, case, 0, wrong)
    assert_no_exception(at)
    host = class_plays(database, case)
    at.run()  # the next rerun of the page, e.g. a click anywhere
    assert_no_exception(at)
    text = page_text(at)
    assert "A live class is playing this case now" in text
    assert not [b for b in at.button if b.label == "Commit answers"]
    assert not [t for t in texts_of_stage(case, 1) if t in flat(text)], "the class has not reached stage 2"
    db = store_module.open_store(database)
    learner = learner_of(db, "Early")
    running = exam.open_exam(db, CASES, learner)
    with pytest.raises(exam.InClass):  # a form on screen from before the class started is refused too
        exam.commit(db, CASES, running, learner, case.id, 1, {q.id: q.answer for q in case.stages[1].questions},
                    hidden=classroom.cases_in_class(db))
    at = sure_and_hand_in(at)
    assert_no_exception(at)
    text = page_text(at)
    assert "wait for the class's final reveal" in text
    leaked = [t for t in (*key_texts(case, 0), *withheld_texts(case), *withheld_texts(other)) if t in text]
    assert not leaked, leaked
    assert not [m for m in at.metric if m.label == "Score"]
    assert exam.open_exam(db, CASES, learner) is None  # handed in: the clock has stopped
    class_ends(database, case, host)
    at = click(at, "Check again")
    assert_no_exception(at)
    text = page_text(at)
    assert "Your results" in text and next(m for m in at.metric if m.label == "Score")
    assert any(t in text for t in key_texts(case, 0))  # the stage committed before the class is reviewed now


def test_the_weakest_area_exam_leaves_out_the_cases_classes_play(database):
    from streamlit.testing.v1 import AppTest

    from quiz.play import progress
    from study_support import T0, play

    db = store_module.open_store(database)
    learner = learner_of(db, "Weak")
    for case in CASES.values():  # right diagnoses, wrong next steps: the weakest area is in every case
        play(db, learner, case, lambda q: best(q) if q.kind == "diagnosis" else wrong(q), T0)
    frame = progress.history_frame(db.answer_history(learner), CASES)
    area = progress.weakest_area(frame)
    assert set(progress.cases_in_area(CASES, area)) == set(CASES)
    free, *played = sorted(CASES)
    for case_id in played:  # four classes at once, each keeping its case hidden
        class_plays(database, CASES[case_id])
    hidden = classroom.cases_in_class(db)
    for seed in "abcdef":  # the core draw never offers them, whatever the seed
        assert exam.plan_weakest(frame, CASES, seed=seed, hidden=hidden).case_ids == (free,)
    store_module.forget_stores()
    at = AppTest.from_string(NAVIGATION, default_timeout=60)
    as_learner(at, "Weak")
    at.run()
    [label] = [b.label for b in at.button if b.label.startswith("Start an exam of this area")]
    assert label.endswith("(1 case(s))"), label  # the label counts only what the exam will hold
    at = click(at, "Start an exam of this area")
    assert_no_exception(at)
    db = store_module.open_store(database)
    running = exam.open_exam(db, CASES, learner)
    assert running is not None
    [record] = [r for r in exam.exams_of(db, learner) if r.id == running]
    assert record.case_ids == (free,)


# --- a random draw by the filters (issue 12 part 1) -------------------------------------------------

@pytest.mark.parametrize("filters, count", [
    ({"exam-region": ["spine"], "exam-difficulty": ["intermediate"]}, 2),
    ({"exam-region": ["neck"], "exam-specialty": ["neurosurgery"]}, 3),  # fewer match than asked for
])
def test_a_random_exam_is_drawn_from_the_cases_the_filters_match(database, filters, count):
    def matches(case):
        return all(set(values) & set({"exam-region": case.tags.region, "exam-specialty": case.tags.specialty,
                                      "exam-difficulty": [case.difficulty]}[key]) for key, values in filters.items())

    matching = {c for c, case in CASES.items() if matches(case)}
    assert 0 < len(matching) < len(CASES)
    at = page_app("exam", learner="Dee")
    at.radio(key="exam-how").set_value("Random cases").run()
    for key, values in filters.items():
        at.multiselect(key=key).set_value(values).run()
    at.number_input(key="exam-count").set_value(count).run()
    assert_no_exception(at)
    drawn = min(count, len(matching))
    assert f"{drawn} case(s) drawn" in page_text(at)
    assert not [c for c in CASES.values() if c.title in page_text(at)], "titles only once the exam starts"
    at = click(at, "Start the exam")
    assert_no_exception(at)
    db = store_module.open_store(database)
    [record] = exam.exams_of(db, learner_of(db, "Dee"))
    assert len(record.case_ids) == drawn and set(record.case_ids) <= matching
    assert "Time left" in page_text(at) and CASES[record.case_ids[0]].title in page_text(at)


def test_the_results_show_the_certainty_given_at_each_stage_and_the_exam_never_does_before(database):
    """Issue 11 item 7 in exam mode: the reasoning trace (here the certainty of each diagnosis committed)
    appears in each case's review once the exam is over, and nowhere while it runs."""
    case = next(CASES[k] for k in sorted(CASES)
                if sum(any(q.kind == "diagnosis" for q in s.questions) for s in CASES[k].stages) >= 2)
    asked = [i for i, s in enumerate(case.stages) if any(q.kind == "diagnosis" for q in s.questions)]
    levels = {index: ("low", "high", "moderate")[n % 3] for n, index in enumerate(asked)}
    at = choose_and_start(page_app("exam", learner="Ida"), [case])
    for index in range(len(case.stages)):
        if index in levels:
            radios = [r for r in at.radio if r.key.endswith("-certainty")]  # only the open stage asks
            assert radios, index
            for radio in radios:
                radio.set_value(levels[index])
        text = page_text(at)
        assert "Your reasoning, stage by stage" not in text and "Certainty:" not in text
        at = answer_stage(at, case, index, best)
        assert_no_exception(at)
    text = page_text(at)
    assert "Your results" in text and "Your reasoning, stage by stage" in text
    words = {"low": "Low", "moderate": "Moderate", "high": "High"}
    for index, level in levels.items():
        line = next(m.value for m in at.markdown if m.value.startswith(f"**{index + 1}. {case.stages[index].heading}**"))
        assert f"Certainty: {words[level]}" in line, line
        assert "Differential" not in line, "an exam offers no pad: its trace does not say 'none kept'"
    skipped = [i for i in range(len(case.stages)) if i not in levels]
    for index in skipped:  # no diagnosis asked: nothing to show for that stage
        assert not any(m.value.startswith(f"**{index + 1}. {case.stages[index].heading}**") for m in at.markdown)
