"""Quick-fire review over the cross-case questions, and "review my mistakes" from the learner's history."""
from __future__ import annotations

import random

import streamlit as st

from ..play import engine, progress
from ..content.model import Question
from ..store import StoreError
from . import common, components


def _quick_fire_item(question: Question, key: str, context: str | None = None) -> bool | None:
    """Ask one question; after "Check", show the verdict and explanations. Returns correctness once checked."""
    with st.container(border=True):
        if context:
            st.caption(context)
        labels = {o.id: o.label for o in question.options}
        choice = st.radio(question.prompt, list(labels), format_func=labels.__getitem__, index=None, key=f"{key}-choice")
        checked_key = f"{key}-checked"
        if st.button("Check answer", key=f"{key}-check", disabled=st.session_state.get(checked_key) is not None):
            if choice is None:
                st.warning("Choose an answer first.", icon="✋")
            else:
                st.session_state[checked_key] = choice
        checked = st.session_state.get(checked_key)
        if checked is None:
            return None
        result = engine.grade(question, checked)
        components.feedback((result,), expanded_others=True)
        return result.correct


def render() -> None:
    current = common.content()
    learner = common.learner_name()
    st.title("Review")
    quick, mine = st.tabs(["Quick-fire questions", "Review my mistakes"])
    with quick:
        _quick_fire(current, learner)
    with mine:
        _my_mistakes(current, learner)


def _quick_fire(current, learner: str | None) -> None:
    bank = current.bank
    if bank is None or not bank.review:
        st.info("No review questions in the question bank yet.")
        return
    st.caption("Short questions across all cases: immunohistochemistry, patterns of spread, prognosis, imaging. "
               "They discuss final diagnoses, so play the cases first.")
    topics = sorted({q.topic for q in bank.review})
    chosen_topics = st.multiselect("Topics", topics, key="review-topics", format_func=lambda t: t.replace("-", " "))
    pool = [q for q in bank.review if not chosen_topics or q.topic in chosen_topics]
    if not pool:
        st.info("No question on these topics.")
        return
    order_key = f"review-order-{','.join(chosen_topics)}"
    if order_key not in st.session_state:
        ids = [q.id for q in pool]
        random.shuffle(ids)
        st.session_state[order_key] = ids
    order = st.session_state[order_key]
    position = st.session_state.setdefault(f"{order_key}-position", 0) % len(order)
    by_id = {q.id: q for q in pool}
    question = by_id[order[position]]
    st.progress((position + 1) / len(order), text=f"Question {position + 1} of {len(order)}")
    key = f"rq-{question.id}-{st.session_state.get(f'{order_key}-round', 0)}"
    correct = _quick_fire_item(engine.review_question(question), key)
    if correct is not None:
        if learner and not st.session_state.get(f"{key}-saved"):
            store = common.store()
            if store is not None:
                try:
                    store.record_review(store.learner_id(learner), question.id, st.session_state[f"{key}-checked"], correct)
                except StoreError as error:
                    st.error(f"This answer was not saved to your progress. {error}", icon="🛑")
                else:
                    st.session_state[f"{key}-saved"] = True
        if question.references:
            st.caption("References: " + "; ".join(question.references))
        if st.button("Next question →", type="primary", key=f"{key}-next"):
            if position + 1 >= len(order):
                st.session_state[f"{order_key}-round"] = st.session_state.get(f"{order_key}-round", 0) + 1
            st.session_state[f"{order_key}-position"] = position + 1
            st.rerun()


def _my_mistakes(current, learner: str | None) -> None:
    if not learner:
        st.info("Type your display name in the sidebar to see the questions you missed.", icon="👤")
        return
    store = common.store()
    if store is None:
        return
    try:
        history = store.answer_history(store.learner_id(learner))
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return
    frame = progress.history_frame(history, current.cases)
    missed = progress.mistakes(frame)
    if missed.empty:
        st.success("No mistakes to review: every question you answered last time earned full credit." if not frame.empty
                   else "Nothing to review yet: play a case first.")
        return
    st.caption(f"{len(missed)} question(s) where your latest answer was not the best one. Try them again.")
    for row in missed.itertuples():
        case = current.cases.get(row.case_id)
        found = engine.find_question(case, row.question_id) if case else None
        if found is None:
            continue  # the case was edited or removed since
        stage_index, question = found
        stage = case.stages[stage_index]
        context = f"{case.title} · {components.stage_label(engine.stage_view(case, engine.Attempt(case.id), stage_index), len(case.stages))}"
        with st.expander(f"{case.title}: {question.prompt}"):
            components.findings(stage.findings, quotes=False)
            _quick_fire_item(question, f"mistake-{row.case_id}-{row.question_id}-{row.attempt_id}", context)
