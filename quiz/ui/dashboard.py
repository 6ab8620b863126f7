"""A learner's progress: accuracy by stage kind, by tag and over time; attempts; export; reset."""
from __future__ import annotations

import streamlit as st

from ..play import progress
from ..store import StoreError
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
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return
    frame = progress.history_frame(history, current.cases)
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
            try:
                store.reset_learner(learner_id)
            except StoreError as error:
                st.error(f"Nothing was deleted. {error}", icon="🛑")
                return
            st.session_state.pop("reset-confirm", None)
            st.success("Your progress was deleted.")
            st.rerun()
