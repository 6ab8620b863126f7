"""A learner's progress: accuracy by stage kind, by tag and over time; attempts; export; reset."""
from __future__ import annotations

import streamlit as st

import altair as alt
import pandas as pd

from ..play import exam, progress
from ..store import Store
from . import common, components
from . import exam as exam_page

AREA_LABELS = {"stage kind": "Stage kind", "region": "Region", "question kind": "Question kind"}


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
    learner_id = common.learner_id(store, learner)
    records = store.attempts(learner_id)
    frame = progress.history_frame(store.answer_history(learner_id), current.cases)
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
    st.bar_chart(by_stage, x="stage", y="accuracy", y_label="accuracy (%)", x_label="")
    left, right = st.columns(2)
    with left:
        st.subheader("By tag")
        st.bar_chart(progress.accuracy_by_tag(frame), x="tag", y="accuracy", y_label="accuracy (%)", x_label="")
    with right:
        st.subheader("Over time")
        st.line_chart(progress.accuracy_over_time(frame), x="day", y="accuracy", y_label="accuracy (%)", x_label="")

    _weak_areas(store, current.cases, learner_id, frame)

    st.subheader("Attempts")
    rows = [{"Case": current.cases[r.case_id].title if r.case_id in current.cases else r.case_id,
             "Started": r.started_at, "Finished": r.finished_at,
             "Score": f"{100 * r.earned / r.possible:.0f}%" if r.possible else "in progress"} for r in records]
    st.dataframe(rows, hide_index=True, width="stretch")
    st.download_button("Download my answers (CSV)", progress.to_csv(frame), file_name=f"progress-{learner}.csv",
                       mime="text/csv", key="export-progress")

    with st.expander("Reset my progress"):
        st.warning("This deletes every attempt and answer saved under this name. It cannot be undone.")
        sure = st.checkbox(f"Yes, delete the progress of {learner}", key="reset-confirm")
        if st.button("Delete my progress", disabled=not sure, key="reset-progress"):
            store.reset_learner(learner_id)
            st.session_state.pop("reset-confirm", None)
            st.success("Your progress was deleted.")
            st.rerun()


def area_label(area: str, value: str) -> str:
    shown = (components.kind_label(value) if area == "stage kind" else
             components.question_label(value) if area == "question kind" else value)
    return f"{AREA_LABELS.get(area, area)}: {shown}"


def _weak_areas(store: Store, cases, learner_id: int, frame: pd.DataFrame) -> None:
    """Accuracy and calibration by stage kind, region and question kind, weakest first; an exam of the weakest."""
    st.subheader("Weak areas")
    table = progress.weak_areas(frame)
    if table.empty:
        return
    table = table.assign(label=[area_label(a, v) for a, v in zip(table["area"], table["value"])])
    st.caption("Accuracy is your mean credit; calibration is how sure you were minus how right you were "
               "(positive: over-confident), over the answers where you gave a certainty.")
    chart = alt.Chart(table).mark_bar().encode(
        x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 100]), title="accuracy (%)"),
        y=alt.Y("label:N", sort=None, title=None),
        color=alt.Color("area:N", title="Area"),
        tooltip=["label", "answers", "accuracy", "rated", "certainty", "gap"],
    ).properties(height=alt.Step(22))
    st.altair_chart(chart, width="stretch")
    shown = table.rename(columns={"label": "Area", "answers": "Answers", "accuracy": "Accuracy (%)",
                                  "rated": "With certainty", "certainty": "Mean certainty (%)",
                                  "gap": "Calibration gap (points)"})
    st.dataframe(shown[["Area", "Answers", "Accuracy (%)", "With certainty", "Mean certainty (%)",
                        "Calibration gap (points)"]], hide_index=True, width="stretch")
    plan = exam.plan_weakest(frame, cases)
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
