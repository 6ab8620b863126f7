"""Quick-fire review over the cross-case questions, and "review my mistakes" from the learner's history."""
from __future__ import annotations

import random

import streamlit as st

from ..play import engine, progress
from ..content.model import Question
from ..store import StoreError
from . import common, components


def _presentation_seed(key: str) -> str:
    """The option order of one showing of a question: fresh each time it is shown, kept while it is on screen."""
    return st.session_state.setdefault(f"{key}-seed", engine.new_seed())


def _quick_fire_item(question: Question, key: str, context: str | None = None) -> bool | None:
    """Ask one question; after "Check", show the verdict and explanations. Returns correctness once checked."""
    seed = _presentation_seed(key)
    with st.container(border=True):
        if context:
            st.caption(context)
        choice = components.choice(engine.ask(question, seed), f"{key}-choice", heading=False, index=None)
        checked_key = f"{key}-checked"
        if st.button("Check answer", key=f"{key}-check", disabled=st.session_state.get(checked_key) is not None):
            if choice is None:
                st.warning("Choose an answer first.", icon="✋")
            else:
                st.session_state[checked_key] = choice
        checked = st.session_state.get(checked_key)
        if checked is None:
            return None
        result = engine.grade(question, checked, seed)
        components.feedback((result,), expanded_others=True, prompt=False)  # the question is just above
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


def _finished_cases(learner: str | None) -> set[str]:
    if not learner:
        return set()
    store = common.store()
    if store is None:
        return set()
    try:
        return {r.case_id for r in store.attempts(store.learner_id(learner)) if r.finished_at is not None}
    except StoreError as error:  # every question stays locked: nothing can show that it was finished
        st.error(str(error), icon="🛑")
        return set()


def _locked_notice(locked: int, total: int, learner: str | None) -> None:
    """How many questions wait, and why, without naming them or their cases (that would spoil)."""
    if not locked:
        return
    why = (f"{locked} of {total} questions {'is' if locked == 1 else 'are'} locked: each opens once you have "
           "finished every case it draws on, because it discusses their final diagnoses.")
    if not learner:
        why += " Type your display name in the sidebar so your finished cases count."
    st.info(why, icon="🔒")


def _quick_fire(current, learner: str | None) -> None:
    bank = current.bank
    if bank is None or not bank.review:
        st.info("No review questions in the question bank yet.")
        return
    st.caption("Short questions across cases: immunohistochemistry, patterns of spread, prognosis, imaging.")
    unlocked = progress.unlocked_review(bank.review, _finished_cases(learner))
    _locked_notice(len(bank.review) - len(unlocked), len(bank.review), learner)
    if not unlocked:
        return
    topics = sorted({q.topic for q in unlocked})
    chosen_topics = st.multiselect("Topics", topics, key="review-topics", format_func=lambda t: t.replace("-", " "))
    pool = [q for q in unlocked if not chosen_topics or q.topic in chosen_topics]
    if not pool:
        st.info("No question on these topics.")
        return
    by_id = {q.id: q for q in pool}
    order_key = f"review-order-{','.join(chosen_topics)}"
    # Keep the drawn order; questions unlocked since join it at the end, and ones no longer in the pool leave it.
    kept = [i for i in st.session_state.get(order_key, []) if i in by_id]
    added = [i for i in by_id if i not in kept]
    random.shuffle(added)
    order = st.session_state[order_key] = kept + added
    position = st.session_state.setdefault(f"{order_key}-position", 0) % len(order)
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
        learner_id = store.learner_id(learner)
        history = store.answer_history(learner_id)
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return
    frame = progress.history_frame(history, current.cases)
    missed = progress.mistakes(frame)
    if missed.empty:
        st.success("No mistakes to review: every question you answered last time earned full credit." if not frame.empty
                   else "Nothing to review yet: play a case first.")
        return
    corrected = progress.without_corrected(missed, store.review_history(learner_id))
    items = []
    for row in missed.itertuples():
        key = f"mistake-{row.case_id}-{row.question_id}-{row.attempt_id}"
        # A mistake answered correctly leaves the list, but not while its feedback is still on screen.
        if row.Index not in corrected.index and f"{key}-checked" not in st.session_state:
            continue
        case = current.cases.get(row.case_id)
        found = engine.find_question(case, row.question_id) if case else None
        if found is not None:  # else the case was edited or removed since
            items.append((row, key, case, *found))
    if not items:
        st.success("No mistakes left: you have answered every one correctly since.")
        return
    st.caption(f"{len(items)} question(s) where your latest answer was not the best one. Try them again: "
               "a correct answer takes a question off this list.")
    for row, key, case, stage_index, question in items:
        stage = case.stages[stage_index]
        where = f"Stage {stage_index + 1} of {len(case.stages)}: {components.kind_label(stage.kind)}"
        context = f"{case.title} · {where}"
        with st.expander(f"{case.title} · {where} · {question.prompt}"):
            components.findings(stage.findings, quotes=False)
            correct = _quick_fire_item(question, key, context)
            if correct is not None and not st.session_state.get(f"{key}-saved"):
                store.record_review(learner_id, question.id, st.session_state[f"{key}-checked"], correct,
                                    case_id=case.id)
                st.session_state[f"{key}-saved"] = True
