"""A learner's progress: accuracy by stage kind, by tag and over time; attempts; export; reset."""
from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import altair as alt
import pandas as pd
import streamlit as st

from .. import classroom, identity
from ..play import calibration, engine, exam, progress, reasoning_trace
from ..store import Store, StoreError, as_utc
from . import common, components, pad, signin
from . import exam as exam_page

URL_PATH = "progress"  # as app.py registers this page
AREA_LABELS = {"stage kind": "Stage kind", "region": "Region", "specialty": "Specialty", "question kind": "Question kind"}


def render() -> None:
    current = common.content()
    st.title("My progress")
    store = common.store()
    learner_id = common.study_learner(store)
    if store is None:
        return
    if learner_id is None:
        st.info("No answers yet. Open a case from the library to start: your progress is kept in this browser, "
                "no account or name needed.", icon="👤")
        other_device(store, None)
        return
    learner = common.learner_label(store, learner_id)
    try:
        records = store.attempts(learner_id)
        history = store.answer_history(learner_id)
        reasoning = store.reasoning_history(learner_id)
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return
    frame = progress.with_reasoning(progress.history_frame(history, current.cases), reasoning, current.catalogue)
    finished = [r for r in records if r.finished_at is not None and r.possible]
    cols = st.columns(3)
    cols[0].metric("Cases finished", len({r.case_id for r in finished}), help="Distinct cases played to the reveal")
    mean = sum(100 * r.earned / r.possible for r in finished) / len(finished) if finished else None
    cols[1].metric("Mean score", f"{mean:.0f}%" if mean is not None else "–")
    cols[2].metric("Questions answered", len(frame))
    if frame.empty:
        st.info("No answers yet. Open a case from the library to start.")
        other_device(store, learner_id)
        return

    st.subheader("Accuracy by stage")
    by_stage = progress.accuracy_by(frame.assign(stage=frame["stage_kind"].map(components.kind_label)), "stage")
    st.altair_chart(_bars(by_stage, "stage"), width="stretch")
    left, right = st.columns(2)
    with left:
        st.subheader("By tag")
        finished_ids = {r.case_id for r in finished}
        st.altair_chart(_bars(progress.accuracy_by_tag(frame, finished_ids), "tag"), width="stretch")
        st.caption("Primary or metastatic counts only for cases you have finished.")
    with right:
        st.subheader("Over time")
        st.altair_chart(_over_time(progress.accuracy_over_time(frame)), width="stretch")

    reasoning_section(frame, reasoning, current.cases)
    attempt_trace(store, records, frame, current)

    _weak_areas(store, current.cases, learner_id, frame)

    st.subheader("Attempts")
    rows = [{"Case": current.cases[r.case_id].title if r.case_id in current.cases else r.case_id,
             "Started (UTC)": _when(r.started_at), "Finished (UTC)": _when(r.finished_at) or "not yet",
             "Score": f"{100 * r.earned / r.possible:.0f}%" if r.possible else "in progress"} for r in records]
    st.dataframe(rows, hide_index=True, width="stretch", placeholder="—")
    st.download_button("Download my answers (CSV)", progress.to_csv(frame),
                       file_name=f"progress-{_file_label(learner)}.csv", mime="text/csv", key="export-progress")

    other_device(store, learner_id)

    with st.expander("Reset my progress"):
        st.warning("This deletes every attempt and answer of yours kept on this server. It cannot be undone.")
        sure = st.checkbox("Yes, delete my progress" + (f" ({learner})" if learner else ""), key="reset-confirm")
        if st.button("Delete my progress", disabled=not sure, key="reset-progress"):
            try:
                store.reset_learner(learner_id)
            except StoreError as error:
                st.error(f"Nothing was deleted. {error}", icon="🛑")
                return
            st.session_state.pop("reset-confirm", None)
            st.success("Your progress was deleted.")
            st.rerun()


def _file_label(label: str | None) -> str:
    """A display name as a file-name part: letters, digits and dashes only."""
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in (label or "")).strip("-")
    return cleaned or "mine"


REVEAL_KEY = "show-resume-link"


def other_device(store: Store, learner_id: int | None) -> None:
    """"Continue on another device": this browser's private link or code, shown only when asked for;
    and a box to paste one from another device."""
    with st.expander("Continue on another device"):
        if signin.signed_in_key():
            st.caption("You are signed in: sign in on the other device too, and your progress is there.")
            return
        if learner_id is not None:
            st.caption("Your progress is kept by this browser under a private key, not under your name. To go on "
                       "on a phone or another computer, open this link there (or paste the code). Anyone with it "
                       "can open and change your progress: keep it to yourself, like a password.")
            if st.toggle("Show my private link", key=REVEAL_KEY):
                key = common.browser_key()
                st.code(f"{_base_url()}/?{identity.RESUME_PARAM}={key}", language=None, wrap_lines=True)
                st.caption("Or type this code on the other device, under “Continue on another device”:")
                st.code(key, language=None, wrap_lines=True)
        st.caption("Have a link or code from another device? Paste it here to continue that progress in this "
                   "browser" + (" (the progress kept in this browser until now stays under its own key)."
                                if learner_id is not None else "."))
        with st.form("resume-form", clear_on_submit=True):
            pasted = st.text_input("Link or code", type="password", key="resume-pasted")
            if st.form_submit_button("Continue with this progress") and common.adopt(pasted):
                st.session_state.pop(REVEAL_KEY, None)
                st.rerun()
        notice = st.session_state.pop(common.ADOPT_NOTICE, None)
        if notice:
            getattr(st, notice[0])(notice[1])


def _base_url() -> str:
    """The app's root as this browser sees it: QUIZ_PUBLIC_URL, else ``st.context.url`` without the page path."""
    public = os.environ.get("QUIZ_PUBLIC_URL")
    if public:
        return public.rstrip("/")
    try:
        url = st.context.url or ""
    except Exception:
        url = ""
    parts = urlsplit(url)
    if not parts.scheme:
        return ""
    path = parts.path.rstrip("/")
    if path.endswith("/" + URL_PATH):
        path = path[: -len(URL_PATH) - 1]
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")).rstrip("/")


def reasoning_section(frame, reasoning, cases) -> None:
    """Calibration (accuracy by certainty level) and where the right diagnosis entered the pad, across cases."""
    st.subheader("Calibration")
    result = calibration.calibration(progress.judgements(frame))
    if not result.answers:
        st.caption("Say how sure you are with each diagnosis you commit, and your calibration shows here.")
    else:
        st.markdown(f"Over {result.answers} diagnoses you were **{result.verdict}**: mean certainty "
                    f"{100 * result.mean_certainty:.0f}%, accuracy {100 * result.accuracy:.0f}% "
                    f"(Brier score {result.brier:.2f}; 0 is perfect).")
        table = pd.DataFrame([{"Certainty": r.level.capitalize(), "Answers": r.answers,
                               "Mean certainty (%)": round(100 * r.mean_certainty), "Accuracy (%)": round(100 * r.accuracy)}
                              for r in result.by_level])
        long = table.melt(["Certainty", "Answers"], var_name="Measure", value_name="Percent")
        st.altair_chart(alt.Chart(long).mark_bar().encode(
            x=alt.X("Certainty:N", sort=[level.capitalize() for level in calibration.LEVEL_ORDER], title=None),
            xOffset="Measure:N", y=alt.Y("Percent:Q", scale=alt.Scale(domain=[0, 100])), color="Measure:N",
            tooltip=["Certainty", "Measure", "Percent", "Answers"]).properties(height=220), width="stretch")
        st.dataframe(table, hide_index=True, width="stretch", placeholder="—")
    course = progress.reasoning_course(reasoning, cases)
    if not course.empty:
        st.subheader("Where the right diagnosis entered your differential")
        st.markdown(f"Premature closures: **{int(course['closures'].sum())}** in {len(course)} attempts with a "
                    f"differential; the final diagnosis was on your list in {int(course['entered'].notna().sum())}.")
        st.dataframe(course.assign(case=[cases[c].title if c in cases else c for c in course["case_id"]])
                     .rename(columns={"entered": "entered at stage", "leading": "led from stage",
                                      "settles": "settled at stage", "closures": "premature closures"})
                     [["case", "entered at stage", "led from stage", "settled at stage", "premature closures"]],
                     hide_index=True, width="stretch", placeholder="—")


TRACE_KEY = "progress-trace-attempt"


def attempt_trace(store: Store, records, frame: pd.DataFrame, current) -> None:
    """The reasoning trace of one attempt the learner picks: its committed stages only, with their answers,
    differential, certainty and one-liner (nothing of a stage not yet committed)."""
    answered = set(frame["attempt_id"])
    mine = [r for r in reversed(records) if r.id in answered and r.case_id in current.cases]
    if not mine:
        return
    st.subheader("Reasoning trace of an attempt")
    names = {r.id: f"{current.cases[r.case_id].title} (started {_when(r.started_at)} UTC"
             + (")" if r.finished_at else ", in progress)") for r in mine}
    chosen = st.selectbox("Attempt", list(names), format_func=names.__getitem__, key=TRACE_KEY)
    record = next(r for r in mine if r.id == chosen)
    case = current.cases[record.case_id]
    try:
        attempt = engine.replay(case, store.committed_choices(record.id), record.seed)
        stored = store.stage_reasoning(record.id)
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return
    except engine.EngineError:
        st.caption("This case was edited since this attempt, so its answers no longer fit the current version.")
        return
    traces = reasoning_trace.stage_traces(case, attempt, stored, current.catalogue)
    rows = tuple(row for t in traces for row in t.answers)
    if rows:
        st.dataframe(components.trace_frame(rows), hide_index=True, width="stretch", placeholder="—")
    pad.reasoning_by_stage(traces)


_ACCURACY = alt.Scale(domain=[0, 100])


def _bars(table: pd.DataFrame, label: str) -> alt.Chart:
    """Horizontal bars, so that long labels ("Intraoperative findings") are read whole, not cut."""
    return alt.Chart(table).mark_bar().encode(
        y=alt.Y(f"{label}:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("accuracy:Q", scale=_ACCURACY, title="accuracy (%)"),
        tooltip=[alt.Tooltip(f"{label}:N"), alt.Tooltip("accuracy:Q", title="accuracy (%)"), "answers:Q"],
    ).properties(height=alt.Step(28))


def _over_time(table: pd.DataFrame) -> alt.Chart:
    """A point per day joined by a line: one day of answers is a point, not an empty chart."""
    base = alt.Chart(table).encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0, tickCount="day")),
        y=alt.Y("accuracy:Q", scale=_ACCURACY, title="accuracy (%)"),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), alt.Tooltip("accuracy:Q", title="accuracy (%)"), "answers:Q"],
    )
    return (base.mark_line() + base.mark_point(filled=True, size=60)).properties(height=220)


def _when(value) -> str:
    value = as_utc(value)
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""
def area_label(area: str, value: str) -> str:
    shown = (components.kind_label(value) if area == "stage kind" else
             components.question_label(value) if area == "question kind" else value)
    return f"{AREA_LABELS.get(area, area)}: {shown}"


def weak_area_chart(table: pd.DataFrame) -> alt.Chart:
    """Accuracy as a bar per area and mean certainty as a diamond on the same 0-100 scale: the gap between
    them is the calibration gap, read at a glance (a diamond right of its bar: over-confident)."""
    scale = alt.Scale(domain=[0, 100])
    tooltip = [alt.Tooltip("label:N", title="Area"), alt.Tooltip("answers:Q", title="Answers"),
               alt.Tooltip("accuracy:Q", title="Accuracy (%)"), alt.Tooltip("rated:Q", title="With certainty"),
               alt.Tooltip("certainty:Q", title="Mean certainty (%)"),
               alt.Tooltip("gap:Q", title="Calibration gap (points)")]
    base = alt.Chart(table).encode(y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
                                   tooltip=tooltip)
    # No colour legend: each label names its area, and a legend does not fit beside the bars on a phone.
    bars = base.mark_bar().encode(x=alt.X("accuracy:Q", scale=scale, title="%"),
                                  color=alt.Color("area:N", legend=None))
    certainty = base.transform_filter("isValid(datum.certainty)").mark_point(
        shape="diamond", filled=True, size=90, color="black").encode(x=alt.X("certainty:Q", scale=scale))
    return (bars + certainty).properties(height=alt.Step(22))


def _weak_areas(store: Store, cases, learner_id: int, frame: pd.DataFrame) -> None:
    """Accuracy and calibration by stage kind, region, specialty and question kind, weakest first; an exam of the weakest."""
    st.subheader("Weak areas")
    table = progress.weak_areas(frame)
    if table.empty:
        return
    table = table.assign(label=[area_label(a, v) for a, v in zip(table["area"], table["value"])])
    st.caption("Accuracy is your mean credit; calibration is how sure you were minus how right you were "
               "(positive: over-confident), over the answers where you gave a certainty.")
    st.altair_chart(weak_area_chart(table), width="stretch")
    st.caption("Bars: accuracy. ◆: your mean certainty, where you gave one; the distance between them is the "
               "calibration gap.")
    shown = table.rename(columns={"label": "Area", "answers": "Answers", "accuracy": "Accuracy (%)",
                                  "rated": "With certainty", "certainty": "Mean certainty (%)",
                                  "gap": "Calibration gap (points)"})
    st.dataframe(shown[["Area", "Answers", "Accuracy (%)", "With certainty", "Mean certainty (%)",
                        "Calibration gap (points)"]], hide_index=True, width="stretch", placeholder="—")
    try:  # the cases a live class keeps hidden are not drawn, nor counted on the button
        plan = exam.plan_weakest(frame, cases, hidden=classroom.cases_in_class(store))
    except StoreError as error:
        st.error(f"An exam of your weakest area cannot be offered right now. {error}", icon="🛑")
        return
    if plan is None:
        st.caption(f"An exam of your weakest area appears here once an area has {progress.MIN_AREA_ANSWERS} "
                   "answers and is below 100%.")
        return
    area = progress.weakest_area(frame)
    st.markdown(f"Your weakest area: **{area_label(area.area, area.value)}** ({area.accuracy:g}% over "
                f"{area.answers} answers).")
    if exam.open_exam(store, cases, learner_id) is not None:
        st.caption("You have an exam running: finish or hand it in on the Exam page before you start another.")
        if st.button("Go to my exam", key="exam-running"):
            st.switch_page(exam_page.page(), query_params=dict(st.query_params))
        return
    if st.button(f"Start an exam of this area ({len(plan.case_ids)} case(s))", type="primary", key="exam-weakest"):
        try:
            exam_page.start_plan(store, cases, learner_id, plan)
        except exam.ExamError as error:
            st.error(str(error), icon="🛑")
            return
        st.switch_page(exam_page.page(), query_params=dict(st.query_params))
