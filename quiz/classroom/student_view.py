"""What a student may see, and nothing more: built from the session state and their own answers.

Pure: it takes the case, the state, the student's answers and (for revealed stages) the
class's tallies, and returns data for the page. Questions come from the engine's public
projection (:func:`engine.ask`): options without key or explanations until the instructor
reveals the stage; later stages and the final reveal do not appear at all.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..content.model import Case, Finding, Image, Reveal, Source
from ..play import engine
from ..play.engine import AskedQuestion, QuestionResult, Score
from .machine import SessionState, can_answer, final_shown, key_shown, revealed_stages, shown_stage


@dataclass(frozen=True)
class StudentQuestion:
    asked: AskedQuestion
    chosen: str | None  # this student's option id, or None
    result: QuestionResult | None  # after the reveal: graded answer (None if unanswered)
    key: QuestionResult | None  # after the reveal: every option with its explanation, the best marked
    shares: dict[str, int] | None = None  # after the reveal: how the class answered
    certainty: str | None = None  # how sure this student said they were ("low", "moderate", "high"), if stored


@dataclass(frozen=True)
class StudentStage:
    index: int
    number: int
    kind: str
    heading: str
    findings: tuple[Finding, ...]
    images: tuple[Image, ...]
    questions: tuple[StudentQuestion, ...]
    revealed: bool


@dataclass(frozen=True)
class StudentView:
    """Everything a student's page may show now, and nothing more."""

    code: str
    title: str
    phase: str
    version: int
    total_stages: int
    current: StudentStage | None
    past: tuple[StudentStage, ...]
    can_answer: bool
    score: Score | None  # over the revealed stages
    ask_certainty: bool = False  # each answer needs a certainty (low, moderate, high) to be saved
    reveal: Reveal | None = None
    source: Source | None = None


def _student_stage(case: Case, index: int, answers: Mapping[str, str], revealed: bool,
                   shares: Mapping[str, Mapping[str, int]] | None, seed: str,
                   certainties: Mapping[str, str | None]) -> StudentStage:
    stage = case.stages[index]
    questions = []
    for question in stage.questions:
        chosen = answers.get(question.id)
        if chosen is not None and chosen not in {o.id for o in question.options}:
            chosen = None  # the case was edited since: the stored answer names no option now
        sure = certainties.get(question.id) if chosen is not None else None
        if revealed:
            questions.append(StudentQuestion(engine.ask(question, seed), chosen,
                                             engine.grade(question, chosen, seed) if chosen else None,
                                             engine.grade(question, question.answer, seed),
                                             dict(shares.get(question.id, {})) if shares is not None else None, sure))
        else:
            questions.append(StudentQuestion(engine.ask(question, seed), chosen, None, None, certainty=sure))
    return StudentStage(index, index + 1, stage.kind, stage.heading, tuple(stage.findings), tuple(stage.images),
                        tuple(questions), revealed)


def student_view(case: Case, state: SessionState, answers: Mapping[str, str],
                 shares: Mapping[str, Mapping[str, int]] | None = None,
                 certainties: Mapping[str, str | None] | None = None) -> StudentView:
    """The student's page, from the session state and their own answers (and the certainty given with each).

    Keys, explanations, teaching notes and class shares appear only for revealed stages; later
    stages and the reveal do not appear at all. ``shares`` (tallies) is used for revealed stages only.
    The class's certainty is not on the phone at all: only this student's own.
    """
    certainties = certainties or {}
    total = len(case.stages)
    done = revealed_stages(state, total)
    current_index = shown_stage(state, total)
    past = tuple(_student_stage(case, i, answers, True, shares, state.seed, certainties)
                 for i in range(done) if i != current_index)
    current = None
    if current_index is not None:
        current = _student_stage(case, current_index, answers, key_shown(state.phase), shares, state.seed,
                                 certainties)
    credit = sum(q.result.credit for s in (*past, *([current] if current and current.revealed else []))
                 for q in s.questions if q.result is not None)
    possible = sum(len(case.stages[i].questions) for i in range(done))
    final = final_shown(state, total)
    return StudentView(
        code=state.code, title=case.title, phase=state.phase, version=state.version, total_stages=total,
        current=current, past=past, can_answer=can_answer(state.phase),
        score=Score(round(credit, 3), possible) if possible else None, ask_certainty=state.ask_certainty,
        reveal=case.reveal if final else None, source=case.source if final else None,
    )

