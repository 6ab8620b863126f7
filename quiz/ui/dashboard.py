"""A learner's progress: accuracy by stage kind, by tag and over time; attempts; export; reset."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ..play import calibration, progress
from ..store import StoreError, as_utc
from . import common, components


def render() -> None:
    current = common.content()
    learner = common.learner_name()
    st.title("My progress")
    if not learner:
        st.info("Type your display name in the sidebar to see your progress.", icon="👤")
        return
    store = common.store()
    if store is None:
        return
    try:
        learner_id = store.learner_id(learner)
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

    st.subheader("Attempts")
    rows = [{"Case": current.cases[r.case_id].title if r.case_id in current.cases else r.case_id,
             "Started (UTC)": _when(r.started_at), "Finished (UTC)": _when(r.finished_at) or "not yet",
             "Score": f"{100 * r.earned / r.possible:.0f}%" if r.possible else "in progress"} for r in records]
    st.dataframe(rows, hide_index=True, width="stretch")
    st.download_button("Download my answers (CSV)", progress.to_csv(frame), file_name=f"progress-{learner}.csv",
                       mime="text/csv", key="export-progress")

    with st.expander("Reset my progress"):
        st.warning("This deletes every attempt and answer saved under this name. It cannot be undone.")
        sure = st.checkbox(f"Yes, delete the progress of {learner}", key="reset-confirm")
        if st.button("Delete my progress", disabled=not sure, key="reset-progress"):
            try:
                store.reset_learner(learner_id)
            except StoreError as error:
                st.error(f"Nothing was deleted. {error}", icon="🛑")
                return
            st.session_state.pop("reset-confirm", None)
            st.success("Your progress was deleted.")
            st.rerun()


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
        st.dataframe(table, hide_index=True, width="stretch")
    course = progress.reasoning_course(reasoning, cases)
    if not course.empty:
        st.subheader("Where the right diagnosis entered your differential")
        st.markdown(f"Premature closures: **{int(course['closures'].sum())}** in {len(course)} attempts with a "
                    f"differential; the final diagnosis was on your list in {int(course['entered'].notna().sum())}.")
        st.dataframe(course.assign(case=[cases[c].title if c in cases else c for c in course["case_id"]])
                     .rename(columns={"entered": "entered at stage", "leading": "led from stage",
                                      "settles": "settled at stage", "closures": "premature closures"})
                     [["case", "entered at stage", "led from stage", "settled at stage", "premature closures"]],
                     hide_index=True, width="stretch")


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
