"""The self-study player: one case, stage by stage, saved as the learner commits."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from .. import classroom
from ..play import calibration, differential, engine, peers, reasoning_trace
from ..content.model import Case, CatalogueEntry
from ..store import AttemptRecord, Store, StoreError, new_seed, reasoning_as_read
from . import common, components, pad

CASE_PARAM = "case"
TOP_KEY = "scroll-to-top"  # set on leaving a page long scrolled: the next page opens at its top
NOTICE_KEY = "player-not-saved"  # (attempt id, stage index, message) of a commit the store refused


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


def stored_pads(case: Case, reasoning: dict[int, dict]) -> list[differential.Pad | None]:
    """The pad committed with each stage (None where the learner kept none)."""
    pads = []
    for index in range(len(case.stages)):
        data = reasoning.get(index, {}).get("pad")
        try:
            pads.append(differential.pad_from_data(data) if data else None)
        except differential.PadError:
            pads.append(None)
    return pads


def judgements(case: Case, attempt: engine.Attempt, reasoning: dict[int, dict]) -> list[calibration.Judgement]:
    """Each committed diagnosis the learner gave a certainty for, with the credit it earned."""
    out = []
    for index, stored in sorted(reasoning.items()):
        if index >= len(attempt.committed):
            continue
        for result in engine.results(case, attempt, index):
            level = (stored.get("certainty") or {}).get(result.question_id)
            if result.kind == "diagnosis" and level in calibration.LEVELS:
                out.append(calibration.Judgement(level, result.credit, case.id, index))
    return out


def _pending_seed(case_id: str) -> str:
    """The option order shown to a visitor with no record yet; the attempt their first answer makes keeps it."""
    return st.session_state.setdefault(f"pending-seed-{case_id}", new_seed())


@dataclass
class Known:
    """What the page has read of the learner's attempt at the case.

    The open stage is a fragment (``in_play``): editing the pad, committing and continuing rerun it
    alone, not the whole page. It keeps this between its reruns and reads the store again only after
    a commit (``stale``); ``created`` says the commit made the visitor's record, which the whole page
    must then show (the browser is told its key only on a full run).
    """

    learner_id: int | None
    record: AttemptRecord | None
    attempt: engine.Attempt
    reasoning: dict[int, dict]
    seed: str
    stale: bool = False
    created: bool = False

    @property
    def record_id(self) -> int | str:
        return self.record.id if self.record is not None else "new"


def read(case: Case, store: Store, learner_id: int | None, seed: str) -> Known:
    """The learner's attempt at ``case`` from the store (StoreError, engine.EngineError)."""
    if learner_id is None:
        record, choices = None, []
    else:
        learner_id, record, choices = store.resume(learner_id, case.id)
    seed = record.seed if record is not None else seed
    attempt = engine.replay(case, choices, seed)
    reasoning = store.stage_reasoning(record.id) if record is not None else {}
    return Known(learner_id, record, attempt, reasoning, seed)


def render(case: Case, store: Store, learner_id: int | None) -> None:
    """Open ``case`` at its first unanswered stage for this learner, never further.

    ``learner_id`` is None for a visitor with no record yet: the case opens all the same, and the
    first committed answer creates the record (quiz.ui.common.current_learner).
    """
    with st.container(key="player-top"):
        if st.button("← All cases", key="back-to-library"):
            back_to_library()
    to_top = st.session_state.pop(TOP_KEY, False)
    st.title(case.title)
    st.caption(case.summary)
    try:
        held = case.id in classroom.cases_in_class(store)
    except StoreError as error:
        st.error(f"This case cannot be opened right now: the app cannot check whether a live class is using it. "
                 f"{error}", icon="🛑")
        return
    if held:
        st.info("This case is in use by a live class right now. It opens for self-study after the class's final "
                "reveal: choose another case until then.", icon="🎓")
        return
    try:
        known = read(case, store, learner_id, _pending_seed(case.id))
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return
    except engine.EngineError:
        st.warning("This case was edited since you started it, so your saved answers no longer fit. "
                   "Start it again to play the current version.", icon="✏️")
        if st.button("Start again", key="restart-changed"):
            _new_attempt(store, learner_id, case.id)
        return

    view = engine.view(case, known.attempt)
    first = components.open_stage_number(view, _acknowledged(known))
    catalogue = common.content().catalogue
    place = st.empty()  # the progress bar, which the fragment redraws as stages are committed
    if first is None:
        draw(case, store, catalogue, known, view, place)
        if view.finished:
            st.divider()
            left, right = st.columns(2)
            if left.button("Play this case again", key="play-again"):
                _new_attempt(store, known.learner_id, case.id)
            if right.button("Back to all cases", key="done-back"):
                back_to_library()
    else:
        for stage in view.stages[:first - 1]:
            components.past_stage(stage, view.total_stages)
        in_play(case, store, catalogue, known, place, first)
    if to_top:
        components.scroll_to("player-top")  # last, so that its element shifts nothing above


IN_PLAY = "player-in-play"  # the fragment's key: Continue reruns it by name (st.rerun(IN_PLAY))


@st.fragment(key=IN_PLAY)
def in_play(case: Case, store: Store, catalogue: Mapping[str, CatalogueEntry], known: Known, place,
            start: int) -> None:
    """The case from stage ``start`` on, while a stage is in play: what a Continue reruns (the stage just
    answered folds and the next opens). The open stage's answers are a fragment of their own
    (``answers``), so a commit reruns only them. The whole page reruns once the reveal is due or the
    commit made a record."""
    view = _current_view(case, store, known)
    if components.open_stage_number(view, _acknowledged(known)) is None:
        st.rerun()
    draw(case, store, catalogue, known, view, place, start, in_play_run=True)


@st.fragment
def answers(case: Case, store: Store, catalogue: Mapping[str, CatalogueEntry], known: Known, number: int) -> None:
    """Stage ``number``'s pad and questions until the commit, then its feedback and Continue: what a commit
    reruns, leaving the stage's findings and the stages above it as they are on the page."""
    view = _current_view(case, store, known)
    if components.open_stage_number(view, _acknowledged(known)) != number:
        st.rerun()  # another tab moved the attempt on: the whole page follows it
    draw(case, store, catalogue, known, view, None, answers_of=number)


def _current_view(case: Case, store: Store, known: Known) -> engine.View:
    """The engine's view of ``known``, read again from the store if a commit left it stale; the whole page
    reruns for a commit that made the visitor's record, or that the store then cannot give back."""
    if known.created:
        st.rerun()
    if known.stale:
        try:
            fresh = read(case, store, known.learner_id, known.seed)
        except (StoreError, engine.EngineError):
            st.rerun()  # the whole page says what is wrong
        known.record, known.attempt, known.reasoning, known.stale = fresh.record, fresh.attempt, fresh.reasoning, False
    return engine.view(case, known.attempt)


def _acknowledged(known: Known) -> int:
    """How many stages' feedback the learner has moved past. After a refresh or restart the newest
    feedback is shown again once; earlier stages stay folded."""
    return st.session_state.get(_ack_key(known.record_id), max(known.attempt.stage_index - 1, 0))


def draw(case: Case, store: Store, catalogue: Mapping[str, CatalogueEntry], known: Known, view: engine.View,
         place, start: int = 1, *, in_play_run: bool = False, answers_of: int | None = None) -> None:
    """The stages from ``start`` on as ``known`` has them, the open one's pad and questions, and the reveal.

    ``in_play_run``: drawn by the ``in_play`` fragment, which puts the open stage's answers in a fragment
    of their own; ``answers_of``: only that open stage's pad and questions or feedback (that fragment).
    """
    record_id = known.record_id
    attempt = known.attempt
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice is not None and notice[:2] != (record_id, attempt.stage_index):
        # the database changed under the commit (a new file): the refused answers' form is gone, say it here
        st.error(notice[2], icon="🛑")

    ack_key = _ack_key(record_id)
    acknowledged = _acknowledged(known)
    notice_key = f"overruled-{record_id}"
    key = f"play-{case.id}-{record_id}"
    reasoning = known.reasoning
    pads = stored_pads(case, reasoning)

    def learner_reasoning(stage_index: int) -> dict | str:
        """The pad, certainty and one-liner the widgets hold for this stage, or what is wrong with them."""
        number = stage_index + 1
        try:
            kept = pad.read(key, number, catalogue)
            differential.check_pad(kept, case, stage_index, catalogue)
        except differential.PadError as error:
            return str(error)
        certainty = {q.id: st.session_state.get(pad.certainty_key(key, number, q.id))
                     for q in case.stages[stage_index].questions if q.kind == "diagnosis"}
        oneliner = st.session_state.get(pad.representation_key(key, number)) if pad.asks_representation(
            number, len(case.stages)) else None
        return {"pad": differential.pad_to_data(kept) if kept.entries else None,
                "certainty": {q: c for q, c in certainty.items() if c}, "problem_representation": oneliner}

    def not_saved(stage_index: int, error: Exception) -> str:
        message = f"Your answers were not saved. {error}"
        st.session_state[NOTICE_KEY] = (record_id, stage_index, message)
        return message

    def on_commit(stage_index: int, chosen: dict[str, str]) -> str | None:
        mine = learner_reasoning(stage_index)
        if isinstance(mine, str):
            return mine
        try:
            if known.record is None:  # the first answer of a visitor with no record: it is made now
                known.learner_id = common.current_learner(store, create=True)
                known.record = store.current_attempt(known.learner_id, case.id, seed=known.seed)
                known.created = True
                current = engine.replay(case, store.committed_choices(known.record.id), known.record.seed)
            else:
                # what the page was drawn from: if another tab has committed this stage since, the store
                # refuses the write below, and only then is what it holds read
                current = known.attempt
            record = known.record
        except (StoreError, engine.EngineError) as error:
            return not_saved(stage_index, error)
        known.stale = True

        def overruled_by(stored: engine.Attempt) -> None:
            """The first commit stands. A double click sent the same answers; a second tab may not have."""
            if dict(stored.committed[stage_index]) != chosen:
                st.session_state[f"overruled-{record.id}"] = (stage_index + 1,
                                                              _overruled_notice(case, stage_index, chosen))
            st.session_state[_ack_key(record.id)] = stage_index

        try:
            after = engine.commit(case, current, stage_index, chosen)
        except engine.AlreadyCommitted:
            overruled_by(current)
            return None
        except engine.EngineError as error:
            return str(error)
        done = engine.score(case, after) if engine.is_finished(case, after) else None
        try:
            stored = store.record_stage(record.id, stage_index, case.stages[stage_index].kind,
                                        engine.results(case, after, stage_index),
                                        finished=(done.earned, done.possible) if done else None, reasoning=mine)
            if not stored:  # committed meanwhile, by another tab or a double click the page had not seen
                held = engine.replay(case, store.committed_choices(record.id), record.seed)
        except (StoreError, engine.EngineError) as error:
            return not_saved(stage_index, error)
        if known.created:  # the widgets are keyed by the record from now on: the visitor's are left behind
            pad.forget(key, stage_index + 1)
        if not stored:
            if stage_index < len(held.committed):
                overruled_by(held)
            return None
        # the fragment's next run needs no read: this is what the store now holds
        known.attempt, known.stale = after, False
        known.reasoning = {**known.reasoning, stage_index: reasoning_as_read(mine)}
        st.session_state[_ack_key(record.id)] = stage_index
        return None

    def on_continue(stage_number: int) -> None:
        st.session_state[ack_key] = stage_number
        pad.forget(key, stage_number)
        st.session_state.pop(notice_key, None)
        if (in_play_run or answers_of is not None) and stage_number < view.total_stages:
            st.rerun(IN_PLAY)  # fold the stage, open the next: the stages' fragment, not only the answers

    overruled = st.session_state.get(notice_key)

    def before_form(stage: engine.StageView) -> None:
        previous = next((p for p in reversed(pads[:stage.number - 1]) if p is not None), differential.EMPTY)
        pad.editor(key, stage.number, catalogue, differential.shown_findings(case, stage.number - 1), previous)

    def after_question(stage: engine.StageView, question: engine.AskedQuestion) -> None:
        if question.kind == "diagnosis":
            pad.certainty(key, stage.number, question.id)

    def form_end(stage: engine.StageView) -> None:
        if pad.asks_representation(stage.number, view.total_stages):
            pad.representation(key, stage.number)

    def after_feedback(stage: engine.StageView) -> None:
        index = stage.number - 1
        pad.comparison(case, index, pads[index], catalogue)
        if pad.asks_representation(stage.number, view.total_stages):
            pad.representation_feedback(case, index, reasoning.get(index, {}).get("problem_representation"))

    def after_trace() -> None:
        pad.reasoning_by_stage(reasoning_trace.stage_traces(case, attempt, reasoning, catalogue))
        pad.course(case, pads, calibration.certainty_trace(judgements(case, attempt, reasoning)), catalogue)

    around = components.Around(before_form, after_question, form_end, after_feedback, after_trace)
    notices = dict([overruled]) if overruled else None
    peer_stats = lambda: peers.stats_for_case(store, case)  # noqa: E731
    if answers_of is not None:
        components.stage_answers(view, view.stages[answers_of - 1], key, on_commit, on_continue, notices=notices,
                                 around=around, peer_stats=peer_stats)
        return
    components.play(view, key, on_commit, acknowledged, on_continue, notices=notices, around=around,
                    peer_stats=peer_stats, start=start, place=place,
                    answers_in=(lambda number: answers(case, store, catalogue, known, number)) if in_play_run else None)


def back_to_library() -> None:
    st.query_params.pop(CASE_PARAM, None)
    st.session_state[TOP_KEY] = True
    st.rerun()


def open_case(case_id: str) -> None:
    st.query_params[CASE_PARAM] = case_id
    st.session_state[TOP_KEY] = True
    st.rerun()


def _new_attempt(store: Store, learner_id: int, case_id: str) -> None:
    try:
        store.new_attempt(learner_id, case_id)
    except StoreError as error:
        st.error(f"A new attempt could not be started. {error}", icon="🛑")
        return
    st.session_state[TOP_KEY] = True
    st.rerun()
