"""The rules of play, in one place: what a learner may see, commit and score.

A case attempt is a small state machine. Stage ``k`` is open once stages
``0..k-1`` are committed; a commit needs an answer to every question of the
open stage and can never be changed afterwards. Everything a page shows comes
from :func:`view`, which hands out only what the learner has earned the right
to see: later stages, answer keys and the reveal are simply not in it.

Options are shown in an order drawn from the attempt's ``seed`` (see
:func:`display_order`), never in the order the file lists them, so a score
measures reasoning and not option position.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..content.model import Case, Finding, Image, Option, Question, Reveal, Source, Stage


class EngineError(ValueError):
    """A move the rules do not allow; the message says why, for the learner."""


class AlreadyCommitted(EngineError):
    """The stage was committed before (a double click, a retry, a stale page)."""


@dataclass(frozen=True)
class Attempt:
    """One learner's way through one case: the committed choices, stage by stage."""

    case_id: str
    committed: tuple[Mapping[str, str], ...] = ()
    seed: str = field(kw_only=True)  # draws the option order; stored with the attempt, so reloads keep it

    @property
    def stage_index(self) -> int:
        """Index of the stage now open (equals the number of stages when finished)."""
        return len(self.committed)


@dataclass(frozen=True)
class AskedOption:
    id: str
    label: str


@dataclass(frozen=True)
class AskedQuestion:
    """A question as a learner sees it before committing: no key, no explanations."""

    id: str
    kind: str
    prompt: str
    options: tuple[AskedOption, ...]


@dataclass(frozen=True)
class OptionFeedback:
    id: str
    label: str
    explanation: str | None
    credit: float
    chosen: bool
    best: bool


@dataclass(frozen=True)
class QuestionResult:
    """A committed answer beside the key, with every option's explanation."""

    question_id: str
    kind: str
    prompt: str
    chosen: OptionFeedback
    best: OptionFeedback
    options: tuple[OptionFeedback, ...]
    teaching_note: str | None

    @property
    def credit(self) -> float:
        return self.chosen.credit

    @property
    def correct(self) -> bool:
        return self.chosen.best


@dataclass(frozen=True)
class StageView:
    number: int  # 1-based, for "Stage 2 of 5"
    kind: str
    heading: str
    findings: tuple[Finding, ...]
    images: tuple[Image, ...]
    questions: tuple[AskedQuestion, ...]
    results: tuple[QuestionResult, ...] | None  # None until the stage is committed


@dataclass(frozen=True)
class Score:
    earned: float
    possible: int

    @property
    def percent(self) -> float:
        return round(100 * self.earned / self.possible, 1) if self.possible else 0.0


@dataclass(frozen=True)
class View:
    """Everything the learner may see now, and nothing more."""

    case_id: str
    title: str
    total_stages: int
    stages: tuple[StageView, ...]
    finished: bool
    score: Score | None = None
    reveal: Reveal | None = None
    source: Source | None = None  # a report's title often names the diagnosis
    trace: tuple["TraceRow", ...] = field(default=())


@dataclass(frozen=True)
class TraceRow:
    """One line of the reasoning trace: what was chosen at a stage beside the best answer."""

    stage_number: int
    stage_kind: str
    stage_heading: str
    question_id: str
    question_kind: str
    chosen_id: str
    chosen_label: str
    best_id: str
    best_label: str
    credit: float


def new_seed() -> str:
    """A fresh, unguessable seed for one attempt's (or one class session's) option order."""
    return secrets.token_hex(16)


@functools.lru_cache(maxsize=8192)  # a page shows every option of every stage it draws, on every rerun
def _rank(seed: str, question_id: str, option_id: str) -> bytes:
    return hmac.new(seed.encode(), f"{question_id}\x1f{option_id}".encode(), hashlib.sha256).digest()


def display_order(question: Question, seed: str) -> tuple[Option, ...]:
    """The question's options in the order this seed shows them.

    Free options are sorted by a keyed hash of (seed, question id, option id), so their
    place in the file has no influence at all: the same seed gives the same order on every
    reload and device, another seed an independent one. Options marked ``fixed`` keep the
    index they have in the file ("None of the above" last, numeric ranges in order).
    When the hash happens to give the file's own order, it is rotated by one place, so a
    learner never sees the order the author wrote (with two or more free options).
    """
    in_file = [o for o in question.options if not o.fixed]
    drawn = sorted(in_file, key=lambda o: _rank(seed, question.id, o.id))
    if len(drawn) > 1 and drawn == in_file:
        drawn = drawn[1:] + drawn[:1]
    free = iter(drawn)
    return tuple(o if o.fixed else next(free) for o in question.options)


def start(case: Case, seed: str | None = None) -> Attempt:
    return Attempt(case.id, seed=seed or new_seed())


def is_finished(case: Case, attempt: Attempt) -> bool:
    return attempt.stage_index >= len(case.stages)


def ask(question: Question, seed: str) -> AskedQuestion:
    """The public face of a question: what a learner (or a student's phone) may be sent, in display order."""
    return AskedQuestion(
        question.id,
        question.kind,
        question.prompt,
        tuple(AskedOption(o.id, o.label or o.id) for o in display_order(question, seed)),
    )


def credit(question: Question, option_id: str) -> float:
    if option_id == question.answer:
        return 1.0
    return question.acceptable.get(option_id, 0.0)


def grade(question: Question, option_id: str, seed: str) -> QuestionResult:
    """The answer ``option_id`` beside the key; every option's feedback in the order ``seed`` showed them."""
    options = tuple(
        OptionFeedback(o.id, o.label or o.id, o.explanation, credit(question, o.id), o.id == option_id, o.id == question.answer)
        for o in display_order(question, seed)
    )
    by_id = {o.id: o for o in options}
    return QuestionResult(question.id, question.kind, question.prompt, by_id[option_id], by_id[question.answer], options, question.teaching_note)


def check_choices(stage: Stage, choices: Mapping[str, str]) -> None:
    """Raise :class:`EngineError` unless ``choices`` answers every question of ``stage`` with one of its options."""
    for question in stage.questions:
        chosen = choices.get(question.id)
        if chosen is None:
            raise EngineError(f"Answer every question before you commit: {question.prompt!r} has no answer.")
        if chosen not in {o.id for o in question.options}:
            raise EngineError(f"{chosen!r} is not an option of {question.prompt!r}.")
    extra = set(choices) - {q.id for q in stage.questions}
    if extra:
        raise EngineError(f"{', '.join(sorted(extra))} is not a question of this stage.")


def commit(case: Case, attempt: Attempt, stage_index: int, choices: Mapping[str, str]) -> Attempt:
    """Commit the open stage's answers and open the next; the only way forward."""
    if attempt.case_id != case.id:
        raise EngineError(f"This attempt belongs to case {attempt.case_id!r}, not {case.id!r}.")
    if stage_index < attempt.stage_index:
        raise AlreadyCommitted(f"Stage {stage_index + 1} is already committed; committed answers cannot change.")
    if is_finished(case, attempt):
        raise EngineError("The case is finished: every stage is committed.")
    if stage_index > attempt.stage_index:
        raise EngineError(f"Stage {stage_index + 1} is not open yet; commit stage {attempt.stage_index + 1} first.")
    stage = case.stages[stage_index]
    check_choices(stage, choices)
    return Attempt(case.id, attempt.committed + (dict(choices),), seed=attempt.seed)


def results(case: Case, attempt: Attempt, stage_index: int) -> tuple[QuestionResult, ...]:
    stage, choices = case.stages[stage_index], attempt.committed[stage_index]
    return tuple(grade(q, choices[q.id], attempt.seed) for q in stage.questions)


def score(case: Case, attempt: Attempt) -> Score:
    """Points earned over all questions of the case (partial credit counts)."""
    earned = sum(r.credit for i in range(attempt.stage_index) for r in results(case, attempt, i))
    return Score(round(earned, 3), sum(len(stage.questions) for stage in case.stages))


def trace(case: Case, attempt: Attempt) -> tuple[TraceRow, ...]:
    rows = []
    for i in range(attempt.stage_index):
        stage = case.stages[i]
        for result in results(case, attempt, i):
            rows.append(TraceRow(i + 1, stage.kind, stage.heading, result.question_id, result.kind,
                                 result.chosen.id, result.chosen.label, result.best.id, result.best.label, result.credit))
    return tuple(rows)


def stage_view(case: Case, attempt: Attempt, index: int) -> StageView:
    stage = case.stages[index]
    committed = index < attempt.stage_index
    return StageView(
        number=index + 1,
        kind=stage.kind,
        heading=stage.heading,
        findings=tuple(stage.findings),
        images=tuple(stage.images),
        questions=tuple(ask(q, attempt.seed) for q in stage.questions),
        results=results(case, attempt, index) if committed else None,
    )


def view(case: Case, attempt: Attempt) -> View:
    """What may be on the learner's screen now: stages up to the open one; the reveal at the end."""
    finished = is_finished(case, attempt)
    shown = range(min(attempt.stage_index + 1, len(case.stages)))
    return View(
        case_id=case.id,
        title=case.title,
        total_stages=len(case.stages),
        stages=tuple(stage_view(case, attempt, i) for i in shown),
        finished=finished,
        score=score(case, attempt) if finished else None,
        reveal=case.reveal if finished else None,
        source=case.source if finished else None,
        trace=trace(case, attempt) if finished else (),
    )


def replay(case: Case, committed: list[Mapping[str, str]], seed: str) -> Attempt:
    """Rebuild an attempt from stored choices and its seed, checking each choice against the rules again."""
    attempt = start(case, seed)
    for index, choices in enumerate(committed):
        attempt = commit(case, attempt, index, choices)
    return attempt


def review_question(question) -> Question:
    """A cross-case review question (``model.ReviewQuestion``) in the shape the grader takes."""
    return Question(
        id=question.id, kind="review", prompt=question.prompt, answer=question.answer,
        options=[Option(id=o.id, label=o.label, explanation=o.explanation, fixed=o.fixed) for o in question.options],
        teaching_note=question.teaching_note,
    )


def find_question(case: Case, question_id: str) -> tuple[int, Question] | None:
    """The stage index and question with this id, to re-ask a question from a learner's history."""
    for index, stage in enumerate(case.stages):
        for question in stage.questions:
            if question.id == question_id:
                return index, question
    return None
