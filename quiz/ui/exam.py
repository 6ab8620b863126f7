"""Exam mode: a set of cases, optionally timed, with every result held back until it is handed in.

A thin shell over :mod:`quiz.play.exam`: while the exam runs the page renders only
``exam.ExamView`` (the learner's own choices, no key, no explanation, no reveal); the
report, with the full review of each case, exists only once the exam has ended. The clock
is the stored start time, so a reload or a restart of the server resumes it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from .. import classroom
from ..play import exam, peers, reasoning_trace
from ..play.engine import EngineError
from ..store import Store, StoreError, now as server_now
from . import common, components, pad
from .library import DIFFICULTIES

URL_PATH = "exam"
RESULTS_KEY = "exam-results"  # id of the ended exam whose results are on screen
NOTICE_KEY = "exam-notice"  # a message for the next run (e.g. "time is up, this answer was not saved")
CASE_KEY = "exam-case"  # which case of the running exam is on screen, by position
ERROR_KEY = "exam-store-error"  # a database failure met in a callback (a flag), shown on the next run
ENDED_KEY = "exam-ended"  # the exam has just ended on this screen: say the score wherever the page is scrolled


def page() -> st.Page:
    """The page as registered in ``app.py`` (other pages switch to it, e.g. "exam my weakest area")."""
    return st.Page(render, title="Exam", icon="⏱️", url_path=URL_PATH)


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "untimed"
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def render() -> None:
    current = common.content()
    st.title("Exam")
    store = common.store()
    if store is not None:
        try:  # study_learner says a failed read but goes on: here the set-up could then start an exam
            common.current_learner(store)  # (in a new file after a deletion) and its rerun hide the message
        except StoreError as error:
            st.error(f"Your progress cannot be read right now. {error}", icon="🛑")
            return
    learner_id = common.study_learner(store)
    if store is None:
        return
    cases = current.cases
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.warning(notice, icon="⏱️")
    failed = st.session_state.pop(ERROR_KEY, None)
    if failed:
        st.error(failed, icon="🛑")
    try:
        hidden = classroom.cases_in_class(store)
        running = exam.open_exam(store, cases, learner_id) if learner_id is not None else None
        if running is not None:
            _sit(store, cases, learner_id, running, hidden)
        elif learner_id is not None and st.session_state.get(RESULTS_KEY) is not None:
            _results(store, cases, learner_id, st.session_state[RESULTS_KEY], hidden)
        else:
            _setup(store, cases, learner_id, hidden)
    except exam.ExamError as error:
        st.error(str(error), icon="🛑")
        st.session_state.pop(RESULTS_KEY, None)
        if st.button("Back to exam set-up", key="exam-back"):
            st.rerun()
    except StoreError as error:  # said in words; nothing below it was stored (the page does not go on)
        st.error(str(error), icon="🛑")


# --- set-up -----------------------------------------------------------------------


def _setup(store: Store, cases, learner_id: int | None, hidden: set[str]) -> None:
    st.caption("Answer a set of cases stage by stage, as on the Cases page, but with no feedback until you hand "
               "the exam in or time runs out. Then you see your score, your time per stage and the full review.")
    if not cases:
        st.warning("No playable case in the content folder yet.")
        return
    held = sorted(cases[c].title for c in hidden if c in cases)
    if held:
        st.caption(f"🎓 In use by a live class, so not in an exam until the class's final reveal: {'; '.join(held)}.")
    how = st.radio("Cases", ["Choose the cases", "Random cases"], horizontal=True, key="exam-how")
    seed = None
    if how == "Choose the cases":
        # Titles only: no diagnosis, and not the origin tag (primary or metastatic is what the cases ask).
        offered = sorted((c for c in cases if c not in hidden), key=lambda c: cases[c].title)
        if any(c in hidden for c in st.session_state.get("exam-chosen", [])):  # a class started since the pick
            st.session_state["exam-chosen"] = [c for c in st.session_state["exam-chosen"] if c in offered]
        case_ids = st.multiselect("Cases, in the order you will see them", offered,
                                  format_func=lambda c: cases[c].title, key="exam-chosen",
                                  max_selections=exam.MAX_CASES)
    else:
        cols = st.columns(2)
        regions = cols[0].multiselect("Region", sorted({r for c in cases.values() for r in c.tags.region}),
                                      key="exam-region")
        specialties = cols[1].multiselect("Specialty", sorted({s for c in cases.values() for s in c.tags.specialty}),
                                          key="exam-specialty")
        cols = st.columns(2)
        difficulties = cols[0].multiselect("Difficulty", [d for d in DIFFICULTIES if any(c.difficulty == d for c in
                                                                                          cases.values())],
                                           key="exam-difficulty")
        band_filter = cols[1].multiselect("Peer difficulty", [name for name, _floor in peers.BANDS],
                                          key="exam-band", help="From first attempts on this server "
                                          f"(shown once {peers.MIN_N} learners answered)")
        count = st.number_input("Number of cases", min_value=1, max_value=min(exam.MAX_CASES, len(cases)),
                                value=min(3, len(cases)), key="exam-count")
        seed = st.session_state.setdefault("exam-seed", exam.secrets.token_hex(16))
        try:
            case_ids = list(exam.choose_cases(cases, seed=seed, count=int(count), regions=regions,
                                              specialties=specialties, difficulties=difficulties,
                                              bands=peers.library_bands(store, cases) if band_filter else None,
                                              band_filter=band_filter, hidden=hidden))
        except exam.ExamError as error:
            st.info(str(error))
            case_ids = []
        if case_ids:
            st.caption(f"{len(case_ids)} case(s) drawn; their titles appear when the exam starts.")
    timing = st.radio("Time limit", ["The cases' own times", "Minutes per case", "Untimed"], horizontal=True,
                      key="exam-timing")
    per_case = None
    if timing == "Minutes per case":
        per_case = int(st.number_input("Minutes per case", min_value=1, max_value=240, value=10, key="exam-minutes"))
    elif timing == "Untimed":
        per_case = 0
    limit = exam.time_limit_for(cases, case_ids, per_case) if case_ids else None
    if case_ids:
        st.caption(f"Time limit: {clock(limit.total_seconds()) if limit else 'none'}.")
    if st.button("Start the exam", type="primary", disabled=not case_ids, key="exam-start"):
        learner_id = common.current_learner(store, create=True)  # starting an exam is the first thing stored
        exam.start(store, cases, learner_id, case_ids, time_limit=limit, seed=seed, hidden=classroom.cases_in_class(store))
        st.session_state.pop("exam-seed", None)
        st.session_state[CASE_KEY] = 0
        st.rerun()
    _past_exams(store, cases, learner_id)


def start_plan(store: Store, cases, learner_id: int, plan: exam.ExamPlan) -> None:
    """Start a planned exam (e.g. of the weakest area) and open this page on it.

    A case a live class plays is swapped for a spare of the plan (or left out); :class:`exam.InClass`
    if none is left.
    """
    hidden = classroom.cases_in_class(store)
    plan = exam.without_hidden(cases, plan, hidden)
    exam.start(store, cases, learner_id, plan.case_ids, time_limit=plan.time_limit, seed=plan.seed, hidden=hidden)
    st.session_state[CASE_KEY] = 0
    st.session_state.pop(RESULTS_KEY, None)
    if plan.reason:
        st.session_state[NOTICE_KEY] = plan.reason


def _past_exams(store: Store, cases, learner_id: int | None) -> None:
    ended = [r for r in exam.exams_of(store, learner_id) if r.finished_at is not None] if learner_id else []
    if not ended:
        return
    st.subheader("Your past exams")
    labels = {r.id: f"{r.finished_at:%Y-%m-%d %H:%M} UTC · {len(r.case_ids)} case(s)" for r in ended}
    chosen = st.selectbox("Exam", list(labels), format_func=labels.__getitem__, key="exam-past")
    if st.button("Show its results", key="exam-show-past"):
        st.session_state[RESULTS_KEY] = chosen
        st.rerun()


# --- sitting the exam -------------------------------------------------------------------


@st.fragment(run_every=1)
def _countdown(exam_id: int, deadline: datetime) -> None:
    """The time left, from the stored deadline and server time; at zero the whole page reruns to the results.

    Only this small fragment reruns each second; the exam itself is read again only on a real rerun.
    """
    left = (deadline - server_now()).total_seconds()
    st.metric("Time left", clock(left))
    if left <= 0:
        st.session_state[RESULTS_KEY] = exam_id
        st.session_state[ENDED_KEY] = exam_id
        st.session_state[NOTICE_KEY] = "Time is up: the exam has ended. Stages not committed count as wrong."
        st.rerun()


def _sit(store: Store, cases, learner_id: int, exam_id: int, hidden: set[str]) -> None:
    state = exam.load(store, cases, exam_id, learner_id)
    shown = exam.exam_view(state, cases, server_now(), hidden)
    top = st.columns([1, 1, 2])
    if state.exam.deadline is not None:
        with top[0]:
            _countdown(exam_id, state.exam.deadline)
    else:
        top[0].metric("Time left", "untimed")
    top[1].metric("Stages committed", f"{shown.stages_committed} of {shown.stages_total}")
    with top[2]:
        left = shown.stages_total - shown.stages_committed
        sure = st.checkbox(f"I am done{f' ({left} stage(s) not committed count as wrong)' if left else ''}",
                           key=f"exam-{exam_id}-sure")
        if st.button("Hand in the exam", type="primary", disabled=not sure, key=f"exam-{exam_id}-hand-in"):
            exam.finish(store, cases, exam_id, learner_id)
            st.session_state[RESULTS_KEY] = exam_id
            st.session_state[ENDED_KEY] = exam_id
            st.rerun()
    st.caption("No feedback until you hand in: your score, the keys and the explanations come at the end.")

    labels = [f"{i + 1}. {c.title} ({c.committed_stages}/{c.total_stages})" for i, c in enumerate(shown.cases)]
    position = min(st.session_state.get(CASE_KEY, 0), len(labels) - 1)
    picked = 0 if len(labels) == 1 else st.radio("Case", range(len(labels)), index=position,
                                                   format_func=labels.__getitem__, horizontal=True,
                                                   key=f"exam-{exam_id}-case-pick")
    st.session_state[CASE_KEY] = picked
    if shown.flagged:
        titles = {c.case_id: c.title for c in shown.cases}
        st.caption("🚩 Flagged: " + "; ".join(f"{titles[c]} · {_prompt(shown, c, q)}" for c, q in shown.flagged))
    _case(store, cases, learner_id, exam_id, shown.cases[picked], picked, len(labels), hidden)


def _prompt(shown: exam.ExamView, case_id: str, question_id: str) -> str:
    for case in shown.cases:
        for stage in case.stages:
            for question in stage.questions:
                if case.case_id == case_id and question.id == question_id:
                    return f"stage {stage.number}: {components.question_label(question.kind)}"
    return question_id


def _case(store: Store, cases, learner_id: int, exam_id: int, case: exam.ExamCase, position: int, total: int,
          hidden: set[str]) -> None:
    key = f"exam-{exam_id}-{case.case_id}"
    st.subheader(case.title)
    st.progress(case.committed_stages / case.total_stages,
                text=f"{case.committed_stages} of {case.total_stages} stages committed")
    if case.in_class:
        st.info("🎓 A live class is playing this case now. What you committed stays; the rest of the case, and "
                "the results of the whole exam, wait for the class's final reveal. Answer the other cases "
                "meanwhile, or hand in: your results appear on this page after the reveal.", icon="🔒")
        _next_case(exam_id, key, position, total)
        return

    def on_commit(stage_index: int, choices: dict[str, str]) -> str | None:
        number = stage_index + 1
        stated = {q.id: st.session_state.get(pad.certainty_key(key, number, q.id))
                  for q in case.stages[stage_index].questions if q.kind == "diagnosis"}
        try:
            after = exam.commit(store, cases, exam_id, learner_id, case.case_id, stage_index, choices,
                                certainty={q: c for q, c in stated.items() if c}, hidden=classroom.cases_in_class(store))
            if after.exam.finished_at is not None:  # the last stage of the last case: the exam is over
                st.session_state[RESULTS_KEY] = exam_id
                st.session_state[ENDED_KEY] = exam_id
        except exam.ExamOver as over:
            st.session_state[NOTICE_KEY] = str(over)
            st.session_state[RESULTS_KEY] = exam_id
            st.session_state[ENDED_KEY] = exam_id
        except EngineError as error:
            return str(error)
        return None

    for stage in case.stages:
        title = f"{components.stage_label(stage, case.total_stages)}"
        if stage.committed:
            with st.expander(f"✔ {title} — {stage.heading}", expanded=False):
                components.findings(stage.findings)
                labels = {q.id: {o.id: o.label for o in q.options} for q in stage.questions}
                st.markdown("\n".join(f"- {components.question_label(q.kind)}: you chose "
                                      f"**{labels[q.id][stage.chosen[q.id]]}**" for q in stage.questions))
                _flags(store, cases, learner_id, exam_id, case.case_id, stage, key)
            continue
        st.markdown(f"### {title}")
        components.stage_body(stage, key)
        _flags(store, cases, learner_id, exam_id, case.case_id, stage, key)
        components.question_form(stage, key, on_commit, components.Around(after_question=_certainty_for(key)))
        return
    st.success("Every stage of this case is committed.", icon="✔")
    _next_case(exam_id, key, position, total)


def _next_case(exam_id: int, key: str, position: int, total: int) -> None:
    if position + 1 < total and st.button("Next case →", key=f"{key}-next"):
        st.session_state[CASE_KEY] = position + 1
        st.session_state.pop(f"exam-{exam_id}-case-pick", None)
        st.rerun()


def _certainty_for(key: str):
    def ask(stage, question) -> None:
        """How sure the learner is of a diagnosis, as in tutor mode: it rates the answer's review card."""
        if question.kind == "diagnosis":
            pad.certainty(key, stage.number, question.id)
    return ask


def _flags(store: Store, cases, learner_id: int, exam_id: int, case_id: str, stage: exam.ExamStage, key: str) -> None:
    """A "flag for review" toggle for each question of a stage on screen; saved at once."""
    def toggle(question_id: str, widget: str) -> None:
        try:
            exam.flag(store, cases, exam_id, learner_id, case_id, question_id, bool(st.session_state[widget]))
        except StoreError as error:  # a callback runs before render(): keep the box as stored, say why
            st.session_state[widget] = not st.session_state[widget]
            st.session_state[ERROR_KEY] = f"The flag was not saved. {error}"

    for question in stage.questions:
        widget = f"{key}-flag-{stage.number}-{question.id}"
        st.session_state.setdefault(widget, question.id in stage.flagged)
        label = "🚩 Flag" + (f" {components.question_label(question.kind).lower()}" if len(stage.questions) > 1 else "")
        st.checkbox(f"{label} to come back to", key=widget, on_change=toggle, args=(question.id, widget))


# --- the end ------------------------------------------------------------------------


def _results(store: Store, cases, learner_id: int, exam_id: int, hidden: set[str]) -> None:
    try:
        result = exam.results(store, cases, exam_id, learner_id, hidden=hidden)
    except exam.InClass as waiting:
        st.session_state.pop(ENDED_KEY, None)
        st.subheader("Your results")
        st.info(str(waiting), icon="🎓")
        if st.button("Check again", key="exam-check-again"):
            st.rerun()
        if st.button("New exam", key="exam-new"):
            st.session_state.pop(RESULTS_KEY, None)
            st.rerun()
        return
    if st.session_state.pop(ENDED_KEY, None) == exam_id:  # the page may still be scrolled to the last stage
        st.toast(f"Exam ended: your score is {result.score.percent:g}%. Your results start at the top of the page.",
                 icon="🏁")
    titles = {c: cases[c].title for c in (r.case_id for r in result.cases)}
    st.subheader("Your results")
    cols = st.columns(3)
    cols[0].metric("Score", f"{result.score.percent:g}%", help=f"{result.score.earned:g} of {result.score.possible} points")
    spent = result.ended_at - result.started_at
    cols[1].metric("Time taken", clock(spent.total_seconds()))
    cols[2].metric("Stages not committed", result.stages_left)
    if result.timed_out:
        st.warning("Time ran out: stages not committed count as wrong.", icon="⏱️")
    if result.flagged:
        st.markdown("**🚩 Flagged questions**")
        prompts = {(r.case_id, q.id): (s.number, q) for r in result.cases for s in r.view.stages for q in s.questions}
        st.markdown("\n".join(
            f"- {titles[c]} · stage {prompts[(c, q)][0]}: {prompts[(c, q)][1].prompt}" if (c, q) in prompts
            else f"- {titles[c]} · {q}" for c, q in result.flagged))
    st.markdown("**Time per stage**")
    st.dataframe(pd.DataFrame([{"Case": titles[t.case_id], "Stage": f"{t.stage_number}. {t.heading}",
                                "Committed (UTC)": f"{t.committed_at:%H:%M:%S}",
                                "Time": clock(t.spent.total_seconds())} for t in result.times],
                              columns=["Case", "Stage", "Committed (UTC)", "Time"]), hide_index=True, width="stretch", placeholder="—")
    catalogue = common.content().catalogue
    for review in result.cases:
        _case_review(store, cases[review.case_id], catalogue, review, titles[review.case_id],
                     f"exam-{exam_id}-review-{review.case_id}")
    st.divider()
    if st.button("New exam", type="primary", key="exam-new"):
        st.session_state.pop(RESULTS_KEY, None)
        st.rerun()


def _case_review(store: Store, case, catalogue, review: exam.CaseReview, title: str, key: str) -> None:
    st.divider()
    st.subheader(title)
    st.caption(f"Score {review.score.percent:g}% ({review.score.earned:g} of {review.score.possible} points)"
               + (f" · 🚩 {len(review.flagged)} flagged" if review.flagged else ""))
    view = review.view
    for stage in view.stages:
        if stage.results is None:  # the open stage, never committed: nothing to review yet
            continue
        with st.expander(f"{components.stage_label(stage, view.total_stages)} — {stage.heading}",
                         expanded=any(q.id in review.flagged for q in stage.questions)):
            components.findings(stage.findings, key=f"{key}-{stage.number}")
            for result in stage.results:
                if result.question_id in review.flagged:
                    st.caption("🚩 You flagged this question.")
            components.feedback(stage.results)
    if view.finished and view.reveal is not None:
        components.reveal(view.reveal, view.source, key=key)
        components.trace(view.trace, view.score)
    else:
        st.info("You did not commit every stage of this case, so its outcome stays hidden: play it on the Cases "
                "page to see it.", icon="🔒")
    # The learner's own certainty per committed stage: stored with each commit, shown only here, once the
    # exam is over. An exam offers no differential pad, so the trace does not mention one.
    pad.reasoning_by_stage(reasoning_trace.stage_traces(case, review.attempt, store.stage_reasoning(review.attempt_id),
                                                        catalogue), with_pad=False)
