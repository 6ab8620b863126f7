"""Helpers for the study-mode tests: answers that earn full or no credit, and a tutor-mode play at a given time."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from quiz.play import engine

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday morning, UTC


def best(question) -> str:
    return question.answer


def wrong(question) -> str:
    return next(o.id for o in question.options if engine.credit(question, o.id) == 0)


def choices(stage, pick) -> dict[str, str]:
    return {q.id: pick(q) for q in stage.questions}


def play(store, learner_id: int, case, pick, at: datetime, stages: int | None = None, certainty=None):
    """Play ``case`` in tutor mode as the player does, every commit stamped ``at``; returns the attempt record.

    ``certainty(question)`` gives the certainty the learner states with a question (None: none), stored with
    the stage's reasoning as the player stores it.
    """
    record = store.new_attempt(learner_id, case.id)
    attempt = engine.start(case, record.seed)
    for index, stage in enumerate(case.stages[:stages]):
        attempt = engine.commit(case, attempt, index, choices(stage, pick))
        done = engine.score(case, attempt) if engine.is_finished(case, attempt) else None
        stated = {q.id: certainty(q) for q in stage.questions} if certainty else {}
        reasoning = {"certainty": {q: c for q, c in stated.items() if c is not None}} if certainty else None
        assert store.record_stage(record.id, index, stage.kind, engine.results(case, attempt, index),
                                  finished=(done.earned, done.possible) if done else None, at=at, reasoning=reasoning)
    return record


def walk(value, path="view"):
    """Every (path, field name, value) inside nested dataclasses, tuples, lists and mappings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            inner = getattr(value, f.name)
            yield path, f.name, inner
            yield from walk(inner, f"{path}.{f.name}")
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield path, str(key), inner
            yield from walk(inner, f"{path}[{key!r}]")
    elif isinstance(value, (tuple, list, frozenset, set)):
        for i, inner in enumerate(value):
            yield from walk(inner, f"{path}[{i}]")
    elif hasattr(value, "model_dump"):  # a content model (Finding, Image)
        for key, inner in value.model_dump().items():
            yield path, key, inner
            yield from walk(inner, f"{path}.{key}")


def texts(value) -> set[str]:
    return {v for _p, _n, v in walk(value) if isinstance(v, str)}


def withheld_texts(case) -> set[str]:
    """Everything an exam holds back until it ends: explanations, teaching notes, the reveal and the source."""
    out = set()
    for stage in case.stages:
        for q in stage.questions:
            out |= {o.explanation for o in q.options if o.explanation}
            if q.teaching_note:
                out.add(q.teaching_note)
    reveal = case.reveal
    out |= {reveal.diagnosis, *reveal.teaching_points, *(f.text for f in reveal.management),
            *(f.text for f in reveal.outcome), case.source.title}
    return out
