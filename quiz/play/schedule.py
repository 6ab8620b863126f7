"""Spaced review of what a learner missed, scheduled by FSRS (the ``fsrs`` package).

Every case question a learner misses, or gets right while unsure, becomes a card; so does every
question of the review bank (each states one teaching point). Each later answer to the item is a
review of its card: wrong -> ``Again``; right with low certainty -> ``Hard``; right with moderate
certainty (or none given) -> ``Good``; right with high certainty -> ``Easy``. "Right" means full
credit: a partly right answer is a miss.

An item leaves the missed list once it is *learned*: its card is in FSRS's Review state with a
stability of at least :data:`LEARNED_STABILITY_DAYS`. Stability is the number of days after which
FSRS predicts recall falls to 90%, so a learned item is one the scheduler expects the learner
still to recall, nine times in ten, a week from now. A single lucky guess does not get there, and
a later miss (``Again``) brings the item back.

Cards are derived from stored answers by :func:`sync`: each answer of a case in tutor mode counts
when it is given, each answer of an exam when the exam ends (its result was hidden until then).
Every review is logged in ``card_reviews``, by answer id, so an answer is never counted twice.
See ``docs/study-modes.md``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone, tzinfo

import sqlalchemy as sa
from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import exc

from ..content.model import Case, Finding, Image
from ..store import Store, answers, as_utc, attempts, card_reviews, exams, now as server_now, review_cards
from ..store import stage_reasoning
from ..store import visible_attempt
from . import calibration, engine

#: FSRS with its published default parameters and desired retention 0.9, learning steps of 1 and 10
#: minutes (a miss comes back in the same sitting), and no random fuzz (the decks are small, and a
#: learner's due dates stay reproducible).
SCHEDULER = Scheduler(enable_fuzzing=False)

#: Stability (days until predicted recall falls to 90%) at which an item leaves the missed list.
LEARNED_STABILITY_DAYS = 7.0

CERTAINTY_LEVELS = ("low", "moderate", "high")


# --- certainty and rating -------------------------------------------------------


def certainty_level(value) -> str | None:
    """``low``, ``moderate`` or ``high`` from a stored certainty: a level name, or a 0-100 number read as
    :func:`quiz.play.calibration.level` reads it (0-49 low, 50-83 moderate, 84-100 high), so one number
    means one level on every page.

    None, NaN and "" mean the learner gave none.
    """
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        level = value.strip().lower()
        level = "moderate" if level == "medium" else level
        if level in CERTAINTY_LEVELS:
            return level
        raise ValueError(f"Certainty {value!r} is not one of {', '.join(CERTAINTY_LEVELS)} or a number 0-100.")
    number = float(value)
    if not 0 <= number <= 100:
        raise ValueError(f"Certainty {value!r} is outside 0-100.")
    return calibration.level(number)


def rating(credit: float, certainty=None) -> Rating:
    """The FSRS rating of one answer: a miss is ``Again``; a right answer is rated by how sure the learner was."""
    if credit < 1:
        return Rating.Again
    return {"low": Rating.Hard, "high": Rating.Easy}.get(certainty_level(certainty), Rating.Good)


def needs_card(credit: float, certainty=None) -> bool:
    """A first answer starts a card when it missed, or was right but unsure."""
    return credit < 1 or certainty_level(certainty) == "low"


# --- items and cards ----------------------------------------------------------------


def item_key(case_id: str | None, question_id: str) -> str:
    """The card's name: a case question ``case:<case>:<question>``, a review-bank question ``bank:<question>``."""
    return f"case:{case_id}:{question_id}" if case_id else f"bank:{question_id}"


@dataclass(frozen=True)
class Outcome:
    """One answer to an item, as the scheduler sees it."""

    case_id: str | None
    question_id: str
    credit: float
    certainty: object  # a level, a 0-100 number or None
    at: datetime
    source: str = "case"  # "case", "exam" or "review"
    answer_id: int | None = None

    @property
    def item(self) -> str:
        return item_key(self.case_id, self.question_id)


def review(card: Card | None, outcome: Outcome, scheduler: Scheduler = SCHEDULER) -> Card | None:
    """The item's card after this answer; None when the item has no card and this answer starts none."""
    if card is None:
        if not needs_card(outcome.credit, outcome.certainty):
            return None
        card = Card(card_id=int(outcome.at.timestamp() * 1000), due=utc(outcome.at))
    at = utc(outcome.at)
    if card.last_review is not None and at < card.last_review:  # FSRS needs reviews in time order
        at = card.last_review
    reviewed, _log = scheduler.review_card(card, rating(outcome.credit, outcome.certainty), at)
    return reviewed


def utc(value: datetime) -> datetime:
    """FSRS insists on ``timezone.utc`` itself, not merely an offset of zero."""
    return as_utc(value).astimezone(timezone.utc).replace(tzinfo=timezone.utc)


def is_learned(card: Card) -> bool:
    return card.state == State.Review and (card.stability or 0) >= LEARNED_STABILITY_DAYS


@dataclass(frozen=True)
class ReviewItem:
    item: str
    case_id: str | None
    question_id: str
    card: Card

    @property
    def due(self) -> datetime:
        return utc(self.card.due)

    @property
    def learned(self) -> bool:
        return is_learned(self.card)

    @property
    def stability(self) -> float | None:
        return self.card.stability


def end_of_day(now: datetime, tz: tzinfo = timezone.utc) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=tz)


def missed(items: Iterable[ReviewItem]) -> list[ReviewItem]:
    """Items still to learn, soonest due first: the "missed" list."""
    return sorted((i for i in items if not i.learned), key=lambda i: (i.due, i.item))


def due_today(items: Iterable[ReviewItem], now: datetime, tz: tzinfo = timezone.utc) -> list[ReviewItem]:
    """Missed items due before the end of the learner's day (in ``tz``), soonest first."""
    end = end_of_day(now, tz)
    return [i for i in missed(items) if i.due < end]


def due_now(items: Iterable[ReviewItem], now: datetime) -> list[ReviewItem]:
    return [i for i in missed(items) if i.due <= now]


def cards_from_outcomes(outcomes: Iterable[Outcome], cards: Mapping[str, Card] | None = None,
                        scheduler: Scheduler = SCHEDULER) -> tuple[dict[str, Card], list[tuple[Outcome, Card]]]:
    """Apply answers in time order to the cards; returns the cards and each answer that reviewed one.

    An answer older than its card's last review is skipped: it was given before the card existed
    (a right answer that started none), or it was counted already.
    """
    cards = dict(cards or {})
    applied = []
    for outcome in sorted(outcomes, key=lambda o: (utc(o.at), o.answer_id or 0)):
        card = cards.get(outcome.item)
        if card is not None and card.last_review is not None and utc(outcome.at) <= card.last_review:
            continue
        updated = review(card, outcome, scheduler)
        if updated is not None:
            cards[outcome.item] = updated
            applied.append((outcome, updated))
    return cards, applied


# --- what a review shows ----------------------------------------------------------


@dataclass(frozen=True)
class StageContext:
    number: int
    kind: str
    heading: str
    findings: tuple[Finding, ...]
    images: tuple[Image, ...]


def findings_until(case: Case, question_id: str) -> tuple[StageContext, ...]:
    """The findings a case question needs: its own stage's and every earlier one's, never a later stage's."""
    found = engine.find_question(case, question_id)
    if found is None:
        raise engine.EngineError(f"Case {case.id!r} has no question {question_id!r} any more.")
    index, _question = found
    return tuple(StageContext(i + 1, s.kind, s.heading, tuple(s.findings), tuple(s.images))
                 for i, s in enumerate(case.stages[:index + 1]))


# --- stored cards -----------------------------------------------------------------------


class _Conflict(Exception):
    """Another session changed a card between our read and our write: read again."""


def _outcomes_to_sync(conn, learner_id: int) -> list[Outcome]:
    """The learner's answers not yet reviewed into a card, each with the certainty stated with it.

    The certainty of a case answer is the one the learner committed with its stage, stored in
    ``stage_reasoning.certainty`` as ``{question id: level or 0-100}``.
    """
    released = sa.func.coalesce(exams.c.finished_at, answers.c.answered_at)  # an exam's answers count when it ends
    rows = conn.execute(
        sa.select(answers.c.id, attempts.c.case_id, answers.c.question_id, answers.c.credit,
                  stage_reasoning.c.certainty.label("stated"), released.label("at"), attempts.c.exam_id)
        .join(attempts, answers.c.attempt_id == attempts.c.id)
        .outerjoin(exams, exams.c.id == attempts.c.exam_id)
        .outerjoin(stage_reasoning, sa.and_(stage_reasoning.c.attempt_id == answers.c.attempt_id,
                                            stage_reasoning.c.stage_index == answers.c.stage_index))
        .where(attempts.c.learner_id == learner_id, visible_attempt,
               ~sa.exists().where(card_reviews.c.answer_id == answers.c.id))
    ).all()
    return [Outcome(r.case_id, r.question_id, r.credit, (r.stated or {}).get(r.question_id), as_utc(r.at),
                    "exam" if r.exam_id is not None else "case", r.id) for r in rows]


def _stored_cards(conn, learner_id: int) -> dict[str, tuple[Card, int]]:
    rows = conn.execute(sa.select(review_cards.c.item, review_cards.c.card, review_cards.c.version)
                        .where(review_cards.c.learner_id == learner_id)).all()
    return {r.item: (Card.from_json(r.card), r.version) for r in rows}


def _write(conn, learner_id: int, stored: Mapping[str, tuple[Card, int]], applied: list[tuple[Outcome, Card]],
           now: datetime) -> None:
    final: dict[str, tuple[Outcome, Card]] = {}
    for outcome, card in applied:
        final[outcome.item] = (outcome, card)
    for item, (outcome, card) in final.items():
        values = dict(card=card.to_json(), due=card.due, updated_at=now)
        if item in stored:
            version = stored[item][1]
            done = conn.execute(review_cards.update().where(
                review_cards.c.learner_id == learner_id, review_cards.c.item == item,
                review_cards.c.version == version).values(version=version + 1, **values))
            if done.rowcount != 1:
                raise _Conflict
        else:
            conn.execute(review_cards.insert().values(learner_id=learner_id, item=item, case_id=outcome.case_id,
                                                      question_id=outcome.question_id, version=1, created_at=now,
                                                      **values))
    if applied:
        conn.execute(card_reviews.insert(), [dict(
            learner_id=learner_id, item=o.item, rating=int(rating(o.credit, o.certainty)), credit=o.credit,
            certainty=certainty_level(o.certainty), source=o.source, answer_id=o.answer_id, reviewed_at=utc(o.at))
            for o, _card in applied])


def _apply(store: Store, learner_id: int, extra: Outcome | None, now: datetime | None) -> Card | None:
    """Sync the learner's answers into their cards, then apply ``extra``, all in one transaction (retried on a race)."""
    now = now or server_now()

    def work(conn):
        stored = _stored_cards(conn, learner_id)
        cards, applied = cards_from_outcomes(_outcomes_to_sync(conn, learner_id),
                                             {k: card for k, (card, _v) in stored.items()})
        result = None
        if extra is not None:
            result = review(cards.get(extra.item), extra)
            if result is not None:
                applied.append((extra, result))
        _write(conn, learner_id, stored, applied, now)
        return result

    for attempt in range(3):
        try:
            return store.run(work)
        except (_Conflict, exc.IntegrityError):  # another tab synced or reviewed at the same moment
            if attempt == 2:
                raise
    return None


def sync(store: Store, learner_id: int, *, now: datetime | None = None) -> None:
    """Bring the learner's cards up to date with every answer they gave (exam answers once the exam ended)."""
    _apply(store, learner_id, None, now)


def record_review(store: Store, learner_id: int, case_id: str | None, question_id: str, credit: float,
                  certainty=None, *, now: datetime | None = None) -> ReviewItem | None:
    """A review answer (from the Review page) at server time: the item's card after it, or None if it has none."""
    now = now or server_now()
    card = _apply(store, learner_id, Outcome(case_id, question_id, credit, certainty, now, "review"), now)
    return ReviewItem(item_key(case_id, question_id), case_id, question_id, card) if card is not None else None


def items(store: Store, learner_id: int) -> list[ReviewItem]:
    """Every card of the learner (call :func:`sync` first to count their latest answers)."""
    rows = store.run(lambda conn: conn.execute(
        sa.select(review_cards.c.item, review_cards.c.case_id, review_cards.c.question_id, review_cards.c.card)
        .where(review_cards.c.learner_id == learner_id).order_by(review_cards.c.due, review_cards.c.item)).all(),
        write=False)
    return [ReviewItem(r.item, r.case_id, r.question_id, Card.from_json(r.card)) for r in rows]


def review_log(store: Store, learner_id: int, item: str | None = None) -> list[dict]:
    """The learner's logged reviews (oldest first), of one item or all."""
    query = sa.select(card_reviews).where(card_reviews.c.learner_id == learner_id)
    if item is not None:
        query = query.where(card_reviews.c.item == item)
    return [dict(r._mapping) for r in store.run(lambda conn: conn.execute(query.order_by(card_reviews.c.id)).all(),
                                                write=False)]
