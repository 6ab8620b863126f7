"""Filling a database for the item-analysis tests through the real store, engine and classroom code."""
from __future__ import annotations

from collections.abc import Mapping

from quiz import classroom
from quiz.content.model import Case
from quiz.play import engine
from quiz.store import Store

from class_support import PASSCODE
from learner_support import learner_of


def play_self_study(store: Store, case: Case, name: str, picks: Mapping[str, str], *, stages: int | None = None) -> int:
    """One learner's attempt as the player makes it: commit stage by stage, store each.

    ``picks`` maps question ids to option ids; a question not named gets its key. ``stages``
    stops early (an unfinished attempt). Returns the attempt id.
    """
    learner = learner_of(store, name)
    record = store.current_attempt(learner, case.id)
    if record.finished_at is not None or store.committed_choices(record.id):
        record = store.new_attempt(learner, case.id)
    attempt = engine.start(case)
    for index, stage in enumerate(case.stages[:stages]):
        choices = {q.id: picks.get(q.id, q.answer) for q in stage.questions}
        attempt = engine.commit(case, attempt, index, choices)
        finished = None
        if engine.is_finished(case, attempt):
            score = engine.score(case, attempt)
            finished = (score.earned, score.possible)
        assert store.record_stage(record.id, index, stage.kind, engine.results(case, attempt, index), finished)
    return record.id


def run_class(store: Store, case: Case, answers: Mapping[str, Mapping[str, str]], *, stages: int = 1) -> classroom.Host:
    """A class session: students (nickname -> {question id: option id}) join, then ``stages`` stages are opened,
    answered and revealed. A question a student's mapping leaves out stays unanswered."""
    host = classroom.create_session(store, case, passcode=PASSCODE, configured=PASSCODE)
    total = len(case.stages)
    students = {nick: classroom.join(store, host.code, nick) for nick in answers}
    state = classroom.act(store, host, "start", expect=(0, classroom.LOBBY), total=total)
    for index in range(stages):
        state = classroom.act(store, host, "open", expect=(state.stage_index, state.phase), total=total)
        for nick, picks in answers.items():
            for question in case.stages[index].questions:
                if question.id in picks:
                    classroom.submit(store, students[nick], case, index, question.id, picks[question.id])
        state = classroom.act(store, host, "reveal", expect=(state.stage_index, state.phase), total=total)
        state = classroom.act(store, host, "advance", expect=(state.stage_index, state.phase), total=total)
    return host
