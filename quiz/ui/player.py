"""The self-study player: one case, stage by stage, saved as the learner commits."""
from __future__ import annotations

import streamlit as st

from ..play import engine, peers
from ..content.model import Case
from ..store import Store, StoreError
from . import components

CASE_PARAM = "case"


def _ack_key(attempt_id: int) -> str:
    return f"acknowledged-{attempt_id}"


def _overruled_notice(case: Case, stage_index: int, mine: dict[str, str]) -> str:
    """What the losing tab of a double commit is told: the other answers stand, and what it had picked."""
    picked = []
    for question in case.stages[stage_index].questions:
        labels = {o.id: o.label or o.id for o in question.options}
        if mine.get(question.id) in labels:
            picked.append(f"*{labels[mine[question.id]]}*")
    return ("**This stage was already committed in another tab or window, with other answers.** Committed answers "
            "never change, so those stand, and the feedback below is for them, not for what you picked here"
            + (f" ({'; '.join(picked)})." if picked else "."))


def render(case: Case, store: Store, learner: str) -> None:
    """Open ``case`` at its first unanswered stage for this learner, never further."""
    if st.button("← All cases", key="back-to-library"):
        st.query_params.pop(CASE_PARAM, None)
        st.rerun()
    st.title(case.title)
    st.caption(case.summary)
    try:
        learner_id, record, choices = store.resume(learner, case.id)
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return
    try:
        attempt = engine.replay(case, choices, record.seed)
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
    notice_key = f"overruled-{record.id}"

    def on_commit(stage_index: int, chosen: dict[str, str]) -> str | None:
        current = engine.replay(case, store.committed_choices(record.id), record.seed)
        try:
            after = engine.commit(case, current, stage_index, chosen)
        except engine.AlreadyCommitted:
            # The first commit stands. A double click sent the same answers; a second tab may not have.
            if dict(current.committed[stage_index]) != chosen:
                st.session_state[notice_key] = (stage_index + 1, _overruled_notice(case, stage_index, chosen))
                st.session_state[ack_key] = stage_index
            return None
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
        st.session_state.pop(notice_key, None)

    view = engine.view(case, attempt)
    notice = st.session_state.get(notice_key)
    components.play(view, f"play-{case.id}-{record.id}", on_commit, acknowledged, on_continue,
                    notices=dict([notice]) if notice else None, peer_stats=lambda: peers.stats_for_case(store, case))
    if view.finished and acknowledged >= view.total_stages:
        st.divider()
        left, right = st.columns(2)
        if left.button("Play this case again", key="play-again"):
            store.new_attempt(learner_id, case.id)
            st.rerun()
        if right.button("Back to all cases", key="done-back"):
            st.query_params.pop(CASE_PARAM, None)
            st.rerun()
