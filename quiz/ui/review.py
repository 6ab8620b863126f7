"""Quick-fire review over the cross-case questions, and spaced review of what the learner missed (FSRS)."""
from __future__ import annotations

import random
from datetime import datetime

import streamlit as st

from ..play import engine, progress, schedule
from ..content.model import Question
from ..store import StoreError
from ..store import now as server_now
from . import common, components


def _presentation_seed(key: str) -> str:
    """The option order of one showing of a question: fresh each time it is shown, kept while it is on screen."""
    return st.session_state.setdefault(f"{key}-seed", engine.new_seed())


CERTAINTY_LABELS = {"low": "Low", "moderate": "Moderate", "high": "High"}


def _quick_fire_item(question: Question, key: str, context: str | None = None) -> bool | None:
    """Ask one question and how sure the learner is; after "Check", show the verdict and explanations.

    Returns correctness once checked; the certainty given with it is :func:`_certainty`.
    """
    seed = _presentation_seed(key)
    with st.container(border=True):
        if context:
            st.caption(context)
        checked_key = f"{key}-checked"
        done = st.session_state.get(checked_key) is not None
        choice = components.choice(engine.ask(question, seed), f"{key}-choice", heading=False, index=None)
        if done:  # locked with the answer, showing the certainty as given
            st.session_state[f"{key}-certainty"] = st.session_state.get(f"{key}-stated")
        st.radio("How sure are you?", list(CERTAINTY_LABELS), format_func=CERTAINTY_LABELS.__getitem__,
                 key=f"{key}-certainty", index=None, horizontal=True, disabled=done,
                 help="Optional. A right answer you were unsure of comes back sooner; a sure one later.")
        if st.button("Check answer", key=f"{key}-check", disabled=done):
            if choice is None:
                st.warning("Choose an answer first.", icon="✋")
            else:
                st.session_state[checked_key] = choice
                st.session_state[f"{key}-stated"] = st.session_state.get(f"{key}-certainty")
                st.rerun()  # show the answer and certainty as given, locked
        checked = st.session_state.get(checked_key)
        if checked is None:
            return None
        result = engine.grade(question, checked, seed)
        components.feedback((result,), expanded_others=True, prompt=False)  # the question is just above
        return result.correct


def _certainty(key: str) -> str | None:
    """The certainty the learner gave with the checked answer (None: none given)."""
    return st.session_state.get(f"{key}-stated")


def render() -> None:
    current = common.content()
    st.title("Review")
    store = common.store()
    learner = common.study_learner(store)
    due, quick = st.tabs(["Due today", "Quick-fire questions"])
    with due:
        _due_today(current, store, learner)
    with quick:
        _quick_fire(current, store, learner)


def _finished_cases(store, learner: int | None) -> set[str]:
    if learner is None or store is None:
        return set()
    try:
        return {r.case_id for r in store.attempts(learner) if r.finished_at is not None}
    except StoreError as error:  # every question stays locked: nothing can show that it was finished
        st.error(str(error), icon="🛑")
        return set()


def _locked_notice(locked: int, total: int, learner: int | None) -> None:
    """How many questions wait, and why, without naming them or their cases (that would spoil)."""
    if not locked:
        return
    why = (f"{locked} of {total} questions {'is' if locked == 1 else 'are'} locked: each opens once you have "
           "finished every case it draws on, because it discusses their final diagnoses.")
    if learner is None:
        why += " Finish a case on the Cases page and its questions open here."
    st.info(why, icon="🔒")


def _quick_fire(current, store, learner: int | None) -> None:
    bank = current.bank
    if bank is None or not bank.review:
        st.info("No review questions in the question bank yet.")
        return
    st.caption("Short questions across cases: immunohistochemistry, patterns of spread, prognosis, imaging.")
    unlocked = progress.unlocked_review(bank.review, _finished_cases(store, learner))
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
        if store is not None and not st.session_state.get(f"{key}-saved"):
            try:
                learner_id = common.current_learner(store, create=True)
                store.record_review(learner_id, question.id, st.session_state[f"{key}-checked"], correct)
                schedule.record_review(store, learner_id, None, question.id, 1.0 if correct else 0.0,
                                       _certainty(key))
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


def _due_label(due: datetime, now: datetime) -> str:
    due = schedule.utc(due)
    if due <= now:
        return "due now"
    if due.date() == now.date():
        return f"due today at {due:%H:%M} UTC"
    return f"due {due:%Y-%m-%d}"


def _item_question(current, item: schedule.ReviewItem, finished: set[str]):
    """The question behind a card, with what it may show; None if the content changed or it would spoil."""
    if item.case_id is None:  # a review-bank question: only once every case it draws on is finished
        bank = {q.id: q for q in progress.unlocked_review(current.bank.review if current.bank else (), finished)}
        question = bank.get(item.question_id)
        return (engine.review_question(question), "Quick-fire question", ()) if question else None
    case = current.cases.get(item.case_id)
    found = engine.find_question(case, item.question_id) if case else None
    if found is None:
        return None
    index, question = found
    where = f"{case.title} · Stage {index + 1} of {len(case.stages)}: {components.kind_label(case.stages[index].kind)}"
    return question, where, schedule.findings_until(case, item.question_id)


def _due_today(current, store, learner_id: int | None) -> None:
    """What the schedule says is due today, one at a time; each answer is a review of the item's card."""
    if store is None:
        return
    if learner_id is None:
        st.info("Nothing to review yet: the questions you miss in cases come back here when they are due.",
                icon="👤")
        return
    try:
        now = server_now()
        schedule.sync(store, learner_id, now=now)
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return
    finished = _finished_cases(store, learner_id)
    cards = [(i, _item_question(current, i, finished)) for i in schedule.items(store, learner_id)]
    cards = [(i, q) for i, q in cards if q is not None]  # else edited or removed since, or still locked
    # The item answered last stays on screen with its feedback until the learner moves on.
    held = st.session_state.get("due-held")
    due = schedule.due_today([i for i, _q in cards], now)
    missed = schedule.missed([i for i, _q in cards])
    by_item = {i.item: q for i, q in cards}
    current_item = next((i for i, _q in cards if i.item == held), None) or (due[0] if due else None)
    if current_item is None:
        st.success("Nothing due today." + (" Come back on the dates below." if missed else
                                           " Questions you miss, or get right while unsure, come back here."))
    else:
        st.caption(f"{len(due)} item(s) due today. Answer each as if for the first time: the scheduler brings "
                   "it back sooner after a miss and later after a sure right answer.")
        _review_item(store, learner_id, current_item, by_item[current_item.item], now)
    # Read again: the answer just given may have made an item learned.
    _missed_list(schedule.missed([i for i in schedule.items(store, learner_id) if i.item in by_item]), by_item, now)


def _review_item(store, learner_id: int, item: schedule.ReviewItem, found, now: datetime) -> None:
    question, where, context = found
    rounds = st.session_state.setdefault("due-rounds", {})
    key = f"due-{item.item}-{rounds.get(item.item, 0)}"
    for stage in context:  # the findings this question needs: its stage and the ones before, never a later one
        with st.expander(f"Stage {stage.number}: {components.kind_label(stage.kind)} — {stage.heading}",
                         expanded=stage is context[-1]):
            components.findings(stage.findings, quotes=False)
            for image in stage.images:
                st.image(image.path, caption=f"{image.caption} ({image.credit})")
    correct = _quick_fire_item(question, key, where)
    if correct is None:
        return
    if not st.session_state.get(f"{key}-saved"):
        result = engine.grade(question, st.session_state[f"{key}-checked"], _presentation_seed(key))
        st.session_state[f"{key}-after"] = schedule.record_review(store, learner_id, item.case_id, item.question_id,
                                                                  result.credit, _certainty(key))
        st.session_state[f"{key}-saved"] = True
        st.session_state["due-held"] = item.item
    after = st.session_state.get(f"{key}-after")
    if after is not None:
        st.info(f"Next review of this question: **{_due_label(after.due, now)}**"
                + (" · learned: it leaves your missed list." if after.learned else "."), icon="📅")
    if st.button("Next item →", type="primary", key=f"{key}-next"):
        rounds[item.item] = rounds.get(item.item, 0) + 1
        st.session_state.pop("due-held", None)
        st.rerun()


def _missed_list(missed: list[schedule.ReviewItem], by_item, now: datetime) -> None:
    """Items the schedule still calls missed; each leaves once it is learned (see docs/study-modes.md)."""
    st.subheader("Missed, still to learn")
    if not missed:
        st.caption("None: every question you missed is learned, or you have missed none yet.")
        return
    st.caption("An item leaves this list once the scheduler expects you to recall it a week from now.")
    # The date and the question first: on a phone the case's long title would push them off screen.
    st.dataframe([{"Next review": _due_label(i.due, now), "Question": by_item[i.item][0].prompt,
                   "From": by_item[i.item][1]} for i in missed], hide_index=True, width="stretch", placeholder="—")
