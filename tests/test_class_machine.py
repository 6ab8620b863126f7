"""The class session's state machine on its own: no database, no page, just (stage, phase) and actions.

quiz/classroom/machine.py is pure (it imports nothing but the standard library and the
package's errors), so every rule of the session can be checked here by walking it.
"""
from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import factories
from quiz.classroom import machine as M
from quiz.classroom.errors import NotAllowed

TOTAL = len(factories.load_case().stages)


def state(stage: int, phase: str) -> M.SessionState:
    return M.SessionState(1, "AAAAAA", "x", stage, phase, 1, None, None, seed="s")


def test_the_machine_does_no_io():
    tree = ast.parse(Path(M.__file__).read_text())
    imported = {(node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    assert imported <= {"__future__", "dataclasses", "datetime", "errors"}, imported


def test_transitions_walk_a_case_from_lobby_to_end():
    stage, phase = 0, M.LOBBY
    seen = [(stage, phase)]
    for action in ["start"] + ["open", "close", "reveal", "advance"] * TOTAL + ["end"]:
        stage, phase = M.transition(stage, phase, action, TOTAL)
        seen.append((stage, phase))
    assert seen[:6] == [(0, M.LOBBY), (0, M.WAITING), (0, M.OPEN), (0, M.CLOSED), (0, M.REVEALED), (1, M.WAITING)]
    assert seen[-2:] == [(TOTAL, M.FINAL), (TOTAL + 1, M.ENDED)]


@pytest.mark.parametrize("phase, action", [
    (M.LOBBY, "open"), (M.LOBBY, "reveal"), (M.WAITING, "close"), (M.WAITING, "reveal"), (M.WAITING, "advance"),
    (M.OPEN, "advance"), (M.CLOSED, "close"), (M.CLOSED, "advance"), (M.REVEALED, "open"), (M.REVEALED, "reveal"),
    (M.FINAL, "open"), (M.FINAL, "advance"), (M.ENDED, "open"), (M.ENDED, "end"), (M.OPEN, "start"), (M.OPEN, "fly")])
def test_transitions_refuse_moves_out_of_order(phase, action):
    with pytest.raises(NotAllowed):
        M.transition(1, phase, action, TOTAL)


def test_reopening_and_revealing_straight_from_open():
    assert M.transition(0, M.CLOSED, "open", TOTAL) == (0, M.OPEN)
    assert M.transition(0, M.OPEN, "reveal", TOTAL) == (0, M.REVEALED)


@pytest.mark.parametrize("stage, phase, revealed, final", [
    (0, M.LOBBY, 0, False), (1, M.OPEN, 1, False), (1, M.REVEALED, 2, False), (3, M.FINAL, 3, True)])
def test_ending_keeps_how_far_the_class_got(stage, phase, revealed, final):
    end_stage, end_phase = M.transition(stage, phase, "end", TOTAL)
    state = M.SessionState(1, "AAAAAA", "x", end_stage, end_phase, 1, None, None, seed="s")
    assert M.revealed_stages(state, TOTAL) == revealed
    assert M.final_shown(state, TOTAL) is final
    assert M.shown_stage(state, TOTAL) is None



def test_every_phase_has_a_row_and_every_action_a_refusal_or_a_move():
    assert set(M.ALLOWED) == set(M.PHASES)
    for phase in M.PHASES:
        for action in M.ACTIONS:
            if action in M.ALLOWED[phase]:
                assert M.transition(0, phase, action, TOTAL)[1] in M.PHASES
            else:
                with pytest.raises(NotAllowed) as refused:
                    M.transition(0, phase, action, TOTAL)
                assert str(refused.value).endswith(".")


@pytest.mark.parametrize("phase, answering, questions, key, stage_shown", [
    (M.LOBBY, False, False, False, False), (M.WAITING, False, False, False, True),
    (M.OPEN, True, True, False, True), (M.CLOSED, False, True, False, True),
    (M.REVEALED, False, False, True, True), (M.FINAL, False, False, False, False),
    (M.ENDED, False, False, False, False)])
def test_what_each_phase_lets_students_see(phase, answering, questions, key, stage_shown):
    assert M.can_answer(phase) is answering
    assert M.questions_shown(phase) is questions
    assert M.key_shown(phase) is key
    assert (M.shown_stage(state(1, phase), TOTAL) is not None) is stage_shown


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(M.ACTIONS), max_size=40), st.integers(min_value=1, max_value=6))
def test_any_sequence_of_clicks_keeps_the_rules(actions, total):
    """Whatever the instructor clicks: revealed stages never go back, a key is revealed only
    after its stage was open for answers, and nothing moves once ended."""
    stage, phase = 0, M.LOBBY
    opened: set[int] = set()
    revealed = 0
    for action in actions:
        allowed = M.allowed(state(stage, phase), action, total)
        try:
            stage, phase = M.transition(stage, phase, action, total)
        except NotAllowed:
            assert not allowed
            continue
        assert allowed
        if phase == M.OPEN:
            opened.add(stage)
        if phase == M.REVEALED:
            assert stage in opened, "a key is revealed only after answering was open"
        now = M.revealed_stages(state(stage, phase), total)
        assert now >= revealed, "what the class has seen is never taken back"
        revealed = now
        assert 0 <= stage <= total + 1
        if phase == M.FINAL:
            assert M.final_shown(state(stage, phase), total) and revealed == total
    if phase == M.ENDED:
        for action in M.ACTIONS:
            assert not M.allowed(state(stage, phase), action, total)


def test_a_countdown_runs_only_while_answering_is_open():
    start = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
    deadline = M.closes_at(start, 60)
    assert deadline == start + timedelta(seconds=60) and M.closes_at(start, None) is None
    running = M.SessionState(1, "AAAAAA", "x", 0, M.OPEN, 3, start, start, deadline, seed="s")
    assert M.seconds_left(running, start + timedelta(seconds=15)) == 45
    assert not M.due_to_close(running, start + timedelta(seconds=59))
    assert M.due_to_close(running, start + timedelta(seconds=60)) and M.seconds_left(running, start + timedelta(hours=1)) == 0
    for phase in (M.WAITING, M.CLOSED, M.REVEALED):
        assert M.seconds_left(M.SessionState(1, "AAAAAA", "x", 0, phase, 3, start, start, deadline, seed="s"), start) is None
    assert M.seconds_left(state(0, M.OPEN), start) is None, "no countdown set"
