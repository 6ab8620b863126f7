"""How other learners on this server answered: shares of first attempts, with a minimum n.

Only a learner's *first* answer to a case question counts (a replay, once the key is known, says
nothing of how hard the question is), whether given in tutor mode or in an exam; later attempts,
the Review page and live classes never count. Figures are shown only from :data:`MIN_N` first
attempts on, and then over the earliest ``n - n % MIN_N`` of them: the count grows in steps of
``MIN_N``, so comparing the figures before and after one colleague answered never isolates that
colleague's answer, and a share is never computed over fewer than ``MIN_N`` people.

Every query of this module is in the "stored answers" section at the end. See ``docs/study-modes.md``.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..content.model import Case, Question
from ..store import Store, answers, as_utc, attempts

#: Fewest first attempts behind any figure shown.
MIN_N = 5

#: Difficulty bands from the share of first attempts with full credit (classical item analysis).
BANDS = (("easier", 0.7), ("moderate", 0.3), ("harder", 0.0))


@dataclass(frozen=True)
class FirstAnswer:
    learner_id: int
    case_id: str
    question_id: str
    option_id: str
    credit: float
    answered_at: datetime


@dataclass(frozen=True)
class OptionShare:
    option_id: str
    count: int
    share: float  # 0-1 of n


@dataclass(frozen=True)
class PeerStats:
    """One case question's figures; never built over fewer than MIN_N first attempts."""

    question_id: str
    n: int
    options: Mapping[str, OptionShare]  # by option id: pair with the display order yourself
    full_credit: float  # share of first attempts with full credit: the item's difficulty (p)

    @property
    def band(self) -> str:
        return band(self.full_credit)


def band(full_credit: float) -> str:
    """``easier`` (p >= 0.7), ``moderate`` (0.3 <= p < 0.7) or ``harder`` (p < 0.3)."""
    return next(name for name, floor in BANDS if full_credit >= floor)


def snapshot(first: Iterable[FirstAnswer], min_n: int = MIN_N) -> list[FirstAnswer]:
    """The earliest ``n - n % min_n`` first attempts; none below ``min_n``."""
    ordered = sorted(first, key=lambda a: (a.answered_at, a.learner_id))
    return ordered[:len(ordered) - len(ordered) % min_n] if len(ordered) >= min_n else []


def question_stats(question: Question, first: Iterable[FirstAnswer], min_n: int = MIN_N) -> PeerStats | None:
    """Share of first attempts that chose each option of ``question``, or None below ``min_n``."""
    shown = snapshot((a for a in first if a.question_id == question.id), min_n)
    if not shown:
        return None
    n = len(shown)
    counts = Counter(a.option_id for a in shown)
    options = {o.id: OptionShare(o.id, counts[o.id], counts[o.id] / n) for o in question.options}
    return PeerStats(question.id, n, options, sum(a.credit >= 1 for a in shown) / n)


def case_stats(case: Case, first: Iterable[FirstAnswer], min_n: int = MIN_N) -> dict[str, PeerStats | None]:
    mine = [a for a in first if a.case_id == case.id]
    return {q.id: question_stats(q, mine, min_n) for s in case.stages for q in s.questions}


def case_band(stats: Mapping[str, PeerStats | None]) -> str | None:
    """A case's band from the mean difficulty of its questions that have figures; None if none has."""
    known = [s.full_credit for s in stats.values() if s is not None]
    return band(sum(known) / len(known)) if known else None


# --- stored answers ---------------------------------------------------------------


def first_answers(store: Store, case_ids: Iterable[str] | None = None) -> list[FirstAnswer]:
    """Each learner's first answer to each case question (of the given cases, or all)."""
    rank = sa.func.row_number().over(partition_by=(attempts.c.learner_id, attempts.c.case_id, answers.c.question_id),
                                     order_by=(answers.c.answered_at, answers.c.id)).label("rank")
    inner = (sa.select(attempts.c.learner_id, attempts.c.case_id, answers.c.question_id, answers.c.option_id,
                       answers.c.credit, answers.c.answered_at, rank)
             .join(attempts, answers.c.attempt_id == attempts.c.id))
    if case_ids is not None:
        inner = inner.where(attempts.c.case_id.in_(list(case_ids)))
    ranked = inner.subquery()
    query = sa.select(ranked.c.learner_id, ranked.c.case_id, ranked.c.question_id, ranked.c.option_id,
                      ranked.c.credit, ranked.c.answered_at).where(ranked.c.rank == 1)
    rows = store.run(lambda conn: conn.execute(query).all(), write=False)
    return [FirstAnswer(r.learner_id, r.case_id, r.question_id, r.option_id, r.credit, as_utc(r.answered_at))
            for r in rows]


def stats_for_case(store: Store, case: Case) -> dict[str, PeerStats | None]:
    """Figures for every question of one case (show a question's only after the learner committed it)."""
    return case_stats(case, first_answers(store, [case.id]))


def library_bands(store: Store, cases: Mapping[str, Case]) -> dict[str, str | None]:
    """Each case's difficulty band from peers' first attempts, for the library's filter; one query."""
    first = first_answers(store, list(cases))
    return {case_id: case_band(case_stats(case, first)) for case_id, case in cases.items()}
