"""What item analysis reads from the database, and the cohorts it groups class sessions by.

Every query of the item-analysis page is here; the statistics themselves are in
:mod:`quiz.play.item_analysis`, which never sees SQL. Respondents are opaque ids
(``learner-12``, ``student-40``), never names: the analysis shows counts and rates only.

* **Self-study**: each learner's *first* attempt at the case (the earliest that has an answer),
  so a learner who replays a case after reading its explanations is counted once, unprimed. A
  first attempt made in an exam counts once the exam has ended.
* **Class**: every answer a student gave in a session of the case. A class student exists in
  one session only, so their total score is their answers in that session.
* **Cohorts**: a named group of class sessions (a year, a rotation), made and filled by an
  instructor.

Certainty is read when the answer tables have a ``certainty`` column, and is None otherwise.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import exc

from .store import (Store, answers, as_utc, attempts, class_answers, class_sessions, class_students, cohort_sessions,
                    cohorts, now, visible_attempt)

SELF_STUDY, CLASS = "self-study", "class"
COHORT_NAME_MAX = 80


class CohortError(ValueError):
    """A cohort change that cannot be made; the message is for the instructor."""


@dataclass(frozen=True)
class Choice:
    """One stored answer, as item analysis needs it."""

    source: str  # SELF_STUDY or CLASS
    session_id: int | None  # the class session, None for self-study
    respondent: str  # learner-<id> or student-<id>: never a name
    question: str
    option: str
    certainty: float | None = None

    def row(self) -> tuple[str, str, str, float | None]:
        """The ``(respondent, question, option, certainty)`` row :func:`item_analysis.grade` takes."""
        return self.respondent, self.question, self.option, self.certainty


def _certainty(table: sa.Table):
    column = table.c.get("certainty")
    return (column if column is not None else sa.null()).label("certainty")


def self_study_choices(store: Store, case_id: str) -> list[Choice]:
    """Every answer of each learner's first attempt at the case that has an answer.

    The first attempt may be an exam's: it counts once the exam has ended (an open exam keeps its
    answers to itself), and the learner's later tutor-mode attempts never take its place.
    """
    first = (sa.select(attempts.c.learner_id, sa.func.min(attempts.c.id).label("attempt_id"))
             .where(attempts.c.case_id == case_id, sa.exists().where(answers.c.attempt_id == attempts.c.id))
             .group_by(attempts.c.learner_id).subquery())
    query = (sa.select(first.c.learner_id, answers.c.question_id, answers.c.option_id, _certainty(answers))
             .join(first, answers.c.attempt_id == first.c.attempt_id)
             .join(attempts, attempts.c.id == first.c.attempt_id)
             .where(visible_attempt)
             .order_by(first.c.learner_id, answers.c.id))
    return [Choice(SELF_STUDY, None, f"learner-{learner}", question, option, certainty)
            for learner, question, option, certainty in store.run(lambda conn: conn.execute(query).all(), write=False)]


def class_choices(store: Store, case_id: str, session_ids: Iterable[int] | None = None) -> list[Choice]:
    """Every class answer in sessions of the case (only those sessions, when given)."""
    query = (sa.select(class_answers.c.session_id, class_answers.c.student_id, class_answers.c.question_id,
                       class_answers.c.option_id, _certainty(class_answers))
             .join(class_sessions, class_answers.c.session_id == class_sessions.c.id)
             .where(class_sessions.c.case_id == case_id)
             .order_by(class_answers.c.session_id, class_answers.c.student_id, class_answers.c.id))
    if session_ids is not None:
        query = query.where(class_answers.c.session_id.in_(list(session_ids)))
    return [Choice(CLASS, session, f"student-{student}", question, option, certainty)
            for session, student, question, option, certainty in store.run(lambda conn: conn.execute(query).all(),
                                                                            write=False)]


# --- class sessions and cohorts ---------------------------------------------------------------

@dataclass(frozen=True)
class SessionInfo:
    id: int
    code: str
    case_id: str
    phase: str
    created_at: datetime
    students: int
    cohort_ids: tuple[int, ...]


@dataclass(frozen=True)
class Cohort:
    id: int
    name: str
    session_ids: tuple[int, ...]


def sessions(store: Store, case_id: str | None = None) -> list[SessionInfo]:
    """Class sessions, newest first (of one case, when given), with their head count and cohorts."""
    students = (sa.select(sa.func.count()).where(class_students.c.session_id == class_sessions.c.id)
                .scalar_subquery())
    query = (sa.select(class_sessions.c.id, class_sessions.c.code, class_sessions.c.case_id, class_sessions.c.phase,
                       class_sessions.c.created_at, students.label("students"))
             .order_by(class_sessions.c.created_at.desc(), class_sessions.c.id.desc()))
    if case_id is not None:
        query = query.where(class_sessions.c.case_id == case_id)

    def read(conn):
        members: dict[int, list[int]] = {}
        for cohort_id, session_id in conn.execute(sa.select(cohort_sessions.c.cohort_id, cohort_sessions.c.session_id)
                                                  .order_by(cohort_sessions.c.cohort_id)):
            members.setdefault(session_id, []).append(cohort_id)
        return [SessionInfo(row.id, row.code, row.case_id, row.phase, as_utc(row.created_at), int(row.students),
                            tuple(members.get(row.id, ()))) for row in conn.execute(query)]

    return store.run(read, write=False)


def list_cohorts(store: Store) -> list[Cohort]:
    """Every cohort, by name, with its sessions."""

    def read(conn):
        members: dict[int, list[int]] = {}
        for cohort_id, session_id in conn.execute(sa.select(cohort_sessions.c.cohort_id, cohort_sessions.c.session_id)
                                                  .order_by(cohort_sessions.c.session_id)):
            members.setdefault(cohort_id, []).append(session_id)
        rows = conn.execute(sa.select(cohorts.c.id, cohorts.c.name).order_by(sa.func.lower(cohorts.c.name))).all()
        return [Cohort(row.id, row.name, tuple(members.get(row.id, ()))) for row in rows]

    return store.run(read, write=False)


def clean_cohort_name(text: str | None) -> str:
    name = " ".join((text or "").split())
    if not name:
        raise CohortError("Give the cohort a name, e.g. “PGY-2 2025” or “Pathology rotation, spring”.")
    if len(name) > COHORT_NAME_MAX:
        raise CohortError(f"Cohort names have at most {COHORT_NAME_MAX} characters.")
    return name


def create_cohort(store: Store, name: str) -> Cohort:
    """A new, empty cohort; names are unique ignoring case."""
    name = clean_cohort_name(name)

    def work(conn):
        taken = conn.execute(sa.select(cohorts.c.name).where(sa.func.lower(cohorts.c.name) == name.lower())).scalar()
        if taken is not None:
            raise CohortError(f"There is already a cohort called {taken!r}.")
        return conn.execute(cohorts.insert().values(name=name, created_at=now())).inserted_primary_key[0]

    try:
        cohort_id = store.run(work)
    except exc.IntegrityError:  # the same name was created in the same instant
        raise CohortError(f"There is already a cohort called {name!r}.") from None
    return Cohort(int(cohort_id), name, ())


def set_cohort_sessions(store: Store, cohort_id: int, session_ids: Iterable[int]) -> Cohort:
    """Make the cohort's sessions exactly these, in one transaction."""
    wanted = sorted(set(int(s) for s in session_ids))

    def work(conn):
        row = conn.execute(sa.select(cohorts.c.id, cohorts.c.name).where(cohorts.c.id == cohort_id)).first()
        if row is None:
            raise CohortError("That cohort no longer exists.")
        known = set(conn.execute(sa.select(class_sessions.c.id).where(class_sessions.c.id.in_(wanted))).scalars())
        missing = sorted(set(wanted) - known)
        if missing:
            raise CohortError(f"No class session has the id {missing[0]}; reload the page.")
        conn.execute(cohort_sessions.delete().where(cohort_sessions.c.cohort_id == cohort_id))
        if wanted:
            conn.execute(cohort_sessions.insert(), [{"cohort_id": cohort_id, "session_id": s} for s in wanted])
        return Cohort(row.id, row.name, tuple(wanted))

    return store.run(work)


def delete_cohort(store: Store, cohort_id: int) -> None:
    """Forget a cohort (its sessions and their answers stay)."""

    def work(conn):
        conn.execute(cohort_sessions.delete().where(cohort_sessions.c.cohort_id == cohort_id))
        conn.execute(cohorts.delete().where(cohorts.c.id == cohort_id))

    store.run(work)
