"""The class session's state machine, pure: phases, the moves between them, what each phase shows.

In the manner of h11, nothing here does I/O: a session is ``(stage_index, phase)`` and an
instructor's action either leads to a new pair (:func:`transition`) or is refused with a reason
(:class:`NotAllowed`). The storage layer applies a transition with one conditional UPDATE; the
student view and the pages ask this module what a phase lets a student see.

The phases: a *lobby*, then for every stage ``waiting -> open -> closed -> revealed`` (the
stage's findings are shown while *waiting*; answers are taken only while *open*), then the
*final* reveal of what the report's authors did and saw, and *ended*. Answering may carry a
countdown (``closes_at``): past it no answer is taken, and the session counts as due to close.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .errors import NotAllowed

LOBBY, WAITING, OPEN, CLOSED, REVEALED, FINAL, ENDED = "lobby", "waiting", "open", "closed", "revealed", "final", "ended"
PHASES = (LOBBY, WAITING, OPEN, CLOSED, REVEALED, FINAL, ENDED)
STAGE_PHASES = (WAITING, OPEN, CLOSED, REVEALED)  # a stage's findings are on screen
ACTIONS = ("start", "open", "close", "reveal", "advance", "end")

#: The phase each action leads to, from each phase (h11's transition table). "advance" from
#: *revealed* goes to the next stage's *waiting*, or to *final* after the last stage.
ALLOWED: dict[str, dict[str, str]] = {
    LOBBY: {"start": WAITING, "advance": WAITING, "end": ENDED},
    WAITING: {"open": OPEN, "end": ENDED},
    OPEN: {"close": CLOSED, "reveal": REVEALED, "end": ENDED},
    CLOSED: {"open": OPEN, "reveal": REVEALED, "end": ENDED},
    REVEALED: {"advance": WAITING, "end": ENDED},
    FINAL: {"end": ENDED},
    ENDED: {},
}

#: Why an action is refused in a phase that does not allow it.
REFUSALS = {
    "start": "The session has already started.",
    "open": "Answering can be opened only while a stage is shown and not yet revealed.",
    "close": "Answering is not open.",
    "reveal": "Open answering before revealing the key.",
    "advance": "Reveal this stage's key before moving on.",
}


@dataclass(frozen=True)
class SessionState:
    """One row of ``class_sessions`` without the host token's hash.

    ``stage_index`` is the stage on screen. In the *final* phase it equals the number of
    stages. Once *ended* it records how far the class got: the number of stages whose key was
    revealed, plus one if the final reveal was shown (see :func:`revealed_stages`).
    """

    id: int
    code: str
    case_id: str
    stage_index: int
    phase: str
    version: int
    created_at: datetime
    updated_at: datetime
    closes_at: datetime | None = None  # while open with a countdown: when answering closes by itself
    seed: str = field(kw_only=True)  # one option order for the whole session (engine.display_order)
    ask_certainty: bool = field(default=False, kw_only=True)  # students say how sure they are with each answer

    @property
    def ended(self) -> bool:
        return self.phase == ENDED


def transition(stage_index: int, phase: str, action: str, total: int) -> tuple[int, str]:
    """The (stage_index, phase) an action leads to; :class:`NotAllowed` says why not."""
    if phase == ENDED:
        raise NotAllowed("The session has ended.")
    if action not in ACTIONS:
        raise NotAllowed(f"Unknown action {action!r}.")
    target = ALLOWED[phase].get(action)
    if target is None:
        raise NotAllowed(REFUSALS[action])
    if action == "end":  # remember how far the class got (see SessionState)
        return {FINAL: total + 1, REVEALED: stage_index + 1, LOBBY: 0}.get(phase, stage_index), ENDED
    if phase == LOBBY:
        return 0, WAITING
    if action == "advance":
        return (total, FINAL) if stage_index + 1 >= total else (stage_index + 1, WAITING)
    return stage_index, target


def allowed(state: SessionState, action: str, total: int) -> bool:
    """Whether the instructor may take ``action`` now (a button is enabled)."""
    try:
        transition(state.stage_index, state.phase, action, total)
    except NotAllowed:
        return False
    return True


def next_action(state: SessionState, total: int) -> str | None:
    """The action an instructor most likely wants next (the big button)."""
    return {LOBBY: "start", WAITING: "open", OPEN: "close", CLOSED: "reveal", REVEALED: "advance",
            FINAL: "end"}.get(state.phase)


# --- what each phase lets students see -------------------------------------------------

def revealed_stages(state: SessionState, total: int) -> int:
    """How many stages' keys the class has seen."""
    if state.phase == LOBBY:
        return 0
    if state.phase in (WAITING, OPEN, CLOSED):
        return state.stage_index
    if state.phase == REVEALED:
        return state.stage_index + 1
    if state.phase == FINAL:
        return total
    return min(state.stage_index, total)  # ENDED


def final_shown(state: SessionState, total: int) -> bool:
    """Whether the reported diagnosis, management and outcome are on the students' screens."""
    return state.phase == FINAL or (state.phase == ENDED and state.stage_index > total)


def shown_stage(state: SessionState, total: int) -> int | None:
    """Index of the stage whose findings are on screen now, or None (lobby, final, ended)."""
    if state.phase in STAGE_PHASES:
        return state.stage_index
    return None


#: The countdowns an instructor can set when opening answering, in seconds.
COUNTDOWNS = (15, 30, 45, 60, 90, 120, 180)


def closes_at(moment: datetime, seconds: int | None) -> datetime | None:
    """When answering opened at ``moment`` with a countdown of ``seconds`` closes (None: no countdown)."""
    return moment + timedelta(seconds=seconds) if seconds else None


def seconds_left(state: SessionState, moment: datetime) -> float | None:
    """Seconds until the countdown closes answering (0 once due), or None without a running countdown."""
    if state.phase != OPEN or state.closes_at is None:
        return None
    return max((state.closes_at - moment).total_seconds(), 0.0)


def due_to_close(state: SessionState, moment: datetime) -> bool:
    """Whether the countdown has run out while answering is still marked open."""
    return seconds_left(state, moment) == 0.0


def questions_shown(phase: str) -> bool:
    """Whether the stage's questions (without key) are on the students' screens."""
    return phase in (OPEN, CLOSED)


def can_answer(phase: str) -> bool:
    return phase == OPEN


def key_shown(phase: str) -> bool:
    """Whether the key of the stage on screen is shown (earlier stages' keys always are)."""
    return phase == REVEALED


def certainty_shown(phase: str) -> bool:
    """Whether the presenter shows how sure the class was of each option: with the key, never before."""
    return key_shown(phase)


PHASE_LABELS = {LOBBY: "Waiting for students", WAITING: "Findings shown, answering not open yet",
                OPEN: "Answering open", CLOSED: "Answering closed", REVEALED: "Key revealed",
                FINAL: "Final reveal", ENDED: "Ended"}
ACTION_LABELS = {"start": "Start: show stage 1", "open": "Open answering", "close": "Close answering",
                 "reveal": "Reveal the key", "advance": "Next stage", "end": "End session"}
