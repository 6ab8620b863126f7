"""The self-study player: one case, stage by stage, saved as the learner commits."""
from __future__ import annotations

import streamlit as st

from .. import classroom
from ..play import engine
from ..content.model import Case
from ..store import Store, StoreError
from . import components

CASE_PARAM = "case"


def _ack_key(attempt_id: int) -> str:
    return f"acknowledged-{attempt_id}"


def in_class(store: Store, case_id: str) -> bool:
    """Whether a running class keeps this case out of self-study (quiz.classroom.cases_in_class)."""
    try:
        return case_id in classroom.cases_in_class(store)
    except StoreError:
        return False  # the player reports the database problem itself


def render(case: Case, store: Store, learner: str) -> None:
    """Open ``case`` at its first unanswered stage for this learner, never further."""
    if st.button("← All cases", key="back-to-library"):
        st.query_params.pop(CASE_PARAM, None)
        st.rerun()
    st.title(case.title)
    st.caption(case.summary)
    if in_class(store, case.id):
        st.info("This case is in use by a live class right now. It opens for self-study after the class's final "
                "reveal: choose another case until then.", icon="🎓")
        return
    try:
        learner_id, record, choices = store.resume(learner, case.id)
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return
    try:
        attempt = engine.replay(case, choices)
    except engine.EngineError:
        st.warning("This case was edited since you started it, so your saved answers no longer fit. "
                   "Start it again to play the current version.", icon="✏️")
        if st.button("Start again", key="restart-changed"):
            store.new_attempt(learner_id, case.id)
            st.rerun()
        return

    ack_key = _ack_key(record.id)
    # After a refresh or restart the newest feedback is shown again once; earlier stages stay folded.
    acknowledged = st.session_state.get(ack_key, max(attempt.stage_index - 1, 0))

    def on_commit(stage_index: int, chosen: dict[str, str]) -> str | None:
        current = engine.replay(case, store.committed_choices(record.id))
        try:
            after = engine.commit(case, current, stage_index, chosen)
        except engine.AlreadyCommitted:
            return None  # a double click or a second tab: the first commit stands
        except engine.EngineError as error:
            return str(error)
        done = engine.score(case, after) if engine.is_finished(case, after) else None
        try:
            store.record_stage(record.id, stage_index, case.stages[stage_index].kind,
                               engine.results(case, after, stage_index),
                               finished=(done.earned, done.possible) if done else None)
        except StoreError as error:
            return str(error)
        st.session_state[ack_key] = stage_index
        return None

    def on_continue(stage_number: int) -> None:
        st.session_state[ack_key] = stage_number

    view = engine.view(case, attempt)
    components.play(view, f"play-{case.id}-{record.id}", on_commit, acknowledged, on_continue)
    if view.finished and acknowledged >= view.total_stages:
        st.divider()
        left, right = st.columns(2)
        if left.button("Play this case again", key="play-again"):
            store.new_attempt(learner_id, case.id)
            st.rerun()
        if right.button("Back to all cases", key="done-back"):
            st.query_params.pop(CASE_PARAM, None)
            st.rerun()
