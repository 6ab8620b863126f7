"""The reasoning trace of one attempt, stage by stage: the answers beside the key, and the learner's
own reasoning committed with them (the differential pad, the certainty of each diagnosis, the
one-line problem representation).

The reveal, "My progress" and the progress CSV all read these rows, so what they show is built
and tested here, without a page. Only committed stages are in a trace, and only the learner's own
reasoning: nothing of the author's expected differential or model one-liner, and nothing of a
stage not yet committed. The one number drawn from the expert's list, each stage's differential
score, is given only once the attempt is finished.

Pure functions over plain data (the stored reasoning is ``Store.stage_reasoning``'s dicts): no
Streamlit, no SQL.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..content.model import Case, CatalogueEntry
from . import calibration, differential, engine
from .differential import Pad

#: How a certainty reads in a trace (a number on the 0-100 scale reads as itself).
CERTAINTY_WORDS = {"low": "Low", "moderate": "Moderate", "high": "High"}


@dataclass(frozen=True)
class PadLine:
    """One entry of the learner's pad at a stage, with its label."""

    rank: int  # 1-based
    diagnosis: str  # catalogue id
    label: str
    leading: bool
    must_not_miss: bool
    supports: tuple[str, ...] = ()  # finding ids
    against: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageTrace:
    """One line of the reasoning trace: a committed stage, its answers and the learner's reasoning."""

    stage_number: int  # 1-based
    stage_kind: str
    stage_heading: str
    answers: tuple[engine.TraceRow, ...]
    pad: tuple[PadLine, ...]  # rank order; empty when the learner kept none
    certainty: tuple[tuple[str, str | int | float], ...]  # (diagnosis question id, certainty), in question order
    problem_representation: str | None
    differential_score: float | None = None  # 0-1; only in a finished attempt's trace, for a stage with an expert list

    @property
    def leading(self) -> PadLine | None:
        return next((line for line in self.pad if line.leading), None)

    @property
    def must_not_miss(self) -> tuple[PadLine, ...]:
        return tuple(line for line in self.pad if line.must_not_miss)

    @property
    def differential_text(self) -> str:
        """The pad as one line: ``Schwannoma > Leiomyosarcoma > ...``, rank 1 first ('' when none)."""
        return differential_text(self.pad)

    @property
    def certainty_text(self) -> str:
        """The certainty of each diagnosis committed at the stage, as words ('' when none given)."""
        return ", ".join(certainty_words(value) for _, value in self.certainty)


def certainty_words(value: str | int | float) -> str:
    """A stored certainty as the trace shows it: a level's name, or a number as ``70%``."""
    if isinstance(value, str):
        return CERTAINTY_WORDS.get(value.strip().lower(), value)
    return f"{value:g}%"


def differential_text(lines: tuple[PadLine, ...]) -> str:
    return " > ".join(line.label for line in lines)


def pad_lines(pad: Pad | None, catalogue: Mapping[str, CatalogueEntry]) -> tuple[PadLine, ...]:
    """A pad's entries as labelled lines, in rank order; the leading one marked (the top entry when none is named)."""
    if pad is None:
        return ()
    lead = pad.leading_id

    def name(diagnosis: str) -> str:
        entry = catalogue.get(diagnosis)
        return entry.label if entry else diagnosis

    return tuple(PadLine(rank, e.diagnosis, name(e.diagnosis), e.diagnosis == lead, e.must_not_miss,
                         e.supports, e.against) for rank, e in enumerate(pad.entries, 1))


def stored_pad(stored: Mapping | None) -> Pad | None:
    """The pad of one stored stage reasoning, or None (none kept, or one that cannot be read)."""
    data = (stored or {}).get("pad")
    if not data:
        return None
    try:
        return differential.pad_from_data(data)
    except differential.PadError:
        return None


def stage_traces(case: Case, attempt: engine.Attempt, reasoning: Mapping[int, Mapping],
                 catalogue: Mapping[str, CatalogueEntry]) -> tuple[StageTrace, ...]:
    """The trace of ``attempt``: one :class:`StageTrace` per committed stage, in stage order.

    ``reasoning`` maps a stage index to what was stored with its commit (keys ``pad``,
    ``certainty``, ``problem_representation``; a stage committed without any may be absent).
    Stored reasoning of a stage not committed is ignored.
    """
    finished = engine.is_finished(case, attempt)
    rows = engine.trace(case, attempt)
    out = []
    for index in range(attempt.stage_index):
        stage = case.stages[index]
        stored = reasoning.get(index) or {}
        pad = stored_pad(stored)
        given = stored.get("certainty") or {}
        certainty = tuple((q.id, given[q.id]) for q in stage.questions
                          if q.kind == "diagnosis" and _readable(given.get(q.id)))
        oneliner = (stored.get("problem_representation") or "").strip() or None
        score = None
        if finished and pad is not None and pad.entries and differential.has_differential(stage):
            score = differential.compare(case, index, pad).score
        out.append(StageTrace(index + 1, stage.kind, stage.heading,
                              tuple(r for r in rows if r.stage_number == index + 1),
                              pad_lines(pad, catalogue), certainty, oneliner, score))
    return tuple(out)


def _readable(value) -> bool:
    if value is None or value == "":
        return False
    try:
        calibration.probability(value)
    except (calibration.CertaintyError, TypeError):
        return False
    return True


#: The columns of :func:`table`, in order.
TABLE_COLUMNS = ("Stage", "Your differential", "Leading", "Must not miss", "Certainty", "Problem representation",
                 "Differential score (%)")


def table(traces: tuple[StageTrace, ...]) -> list[dict]:
    """The trace as plain rows, one per stage, for a page's table (blank cells as '')."""
    return [{
        "Stage": f"{t.stage_number}. {t.stage_heading}",
        "Your differential": t.differential_text,
        "Leading": t.leading.label if t.leading else "",
        "Must not miss": "; ".join(line.label for line in t.must_not_miss),
        "Certainty": t.certainty_text,
        "Problem representation": t.problem_representation or "",
        "Differential score (%)": "" if t.differential_score is None else f"{100 * t.differential_score:.0f}",
    } for t in traces]
