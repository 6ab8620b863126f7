"""Every database operation of a class session: sessions, students and answers.

All SQL of live class mode is here, on the class tables of :mod:`quiz.store`, each operation
one short transaction through :meth:`Store.run`, so any number of browser sessions and
Streamlit processes share one session. The rules (which move is allowed, who may steer) come
from :mod:`.machine` and :mod:`.authority`; this module applies them atomically.

Every change bumps the session's ``version``, so a page polling for changes reads one small
row (cached for a second per process) instead of rebuilding the page.
"""
from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.dialects import postgresql, sqlite

from ..content.model import Case, Question
from ..play import calibration
from ..store import (Store, StoreError, as_utc, class_answers, class_sessions, class_students, new_seed, now,
                     passcode_attempts, stored_seed)
from .authority import WINDOW, Host, check_passcode, digest, locked_until, passcode_problem, require_passcode
from .codes import CODE_LENGTH, clean_nickname, new_code, normalise_code
from .errors import (AnsweringClosed, BadInput, ClassError, NicknameTaken, NoSuchSession, NoSuchStudent, NotHost,
                     PasscodeLocked, SessionEnded, Stale)
from . import machine
from .machine import CLOSED, ENDED, FINAL, LOBBY, OPEN, REVEALED, WAITING, SessionState, transition

log = logging.getLogger(__name__)

# --- reading sessions ----------------------------------------------------------

_STATE_COLUMNS = (class_sessions.c.id, class_sessions.c.code, class_sessions.c.case_id, class_sessions.c.stage_index,
                  class_sessions.c.phase, class_sessions.c.version, class_sessions.c.created_at,
                  class_sessions.c.updated_at, class_sessions.c.closes_at, class_sessions.c.seed,
                  class_sessions.c.ask_certainty)


def _state(row) -> SessionState:
    data = dict(row._mapping)
    data["created_at"] = as_utc(data["created_at"])
    data["updated_at"] = as_utc(data["updated_at"])
    data["closes_at"] = as_utc(data["closes_at"])
    data["seed"] = stored_seed(data["seed"], "class-session", data["id"])
    data["ask_certainty"] = bool(data["ask_certainty"])  # NULL: a session from before certainty, not asked
    return SessionState(**data)


def find_session(store: Store, code: str | None) -> SessionState | None:
    """The session with this join code (typed in any form), or None."""
    code = normalise_code(code)
    if code is None:
        return None
    row = store.run(lambda conn: conn.execute(sa.select(*_STATE_COLUMNS).where(class_sessions.c.code == code)).first(),
                     write=False)
    return _state(row) if row else None


def session_state(store: Store, session_id: int) -> SessionState:
    row = store.run(lambda conn: conn.execute(sa.select(*_STATE_COLUMNS).where(class_sessions.c.id == session_id)).first(),
                     write=False)
    if row is None:
        raise NoSuchSession("This class session no longer exists.")
    return _state(row)


def open_for_joining(store: Store, code: str | None) -> SessionState:
    """The session a student may join with this code, or a clear error."""
    if not normalise_code(code):
        raise NoSuchSession(f"{(code or '').strip()!r} is not a join code: codes have {CODE_LENGTH} letters and digits, "
                            "like K7M2QX.")
    state = find_session(store, code)
    if state is None:
        raise NoSuchSession(f"No class session has the code {normalise_code(code)}. Check the code on the screen.")
    if state.ended:
        raise SessionEnded(f"The class session {state.code} has ended. Ask your instructor for the new code.")
    return state


_poll_cache: dict[tuple[str, int], tuple[float, int]] = {}
_poll_lock = threading.Lock()


def poll_version(store: Store, session_id: int, *, max_age: float = 0.25) -> int:
    """The session's version, read at most once per ``max_age`` seconds per process.

    A room of students polling every two seconds costs the database four tiny queries per second
    per app process, whatever the size of the room. Versions only grow, so a caller compares
    with ``>``: a reading up to ``max_age`` old never makes a page go back. The age adds to how
    late a page follows the instructor (up to one poll interval already), so it is kept short.
    """
    key = (store.url, session_id)
    moment = time.monotonic()
    with _poll_lock:
        cached = _poll_cache.get(key)
    if cached is not None and moment - cached[0] < max_age:
        return cached[1]
    row = store.run(lambda conn: conn.execute(
        sa.select(class_sessions.c.version, class_sessions.c.phase, class_sessions.c.closes_at)
        .where(class_sessions.c.id == session_id)).first(), write=False)
    if row is not None and row.phase == OPEN and row.closes_at is not None and as_utc(row.closes_at) <= now():
        close_if_due(store, session_id)  # the countdown ran out: whoever looks first closes answering
        row = store.run(lambda conn: conn.execute(
            sa.select(class_sessions.c.version).where(class_sessions.c.id == session_id)).first(), write=False)
    version = -1 if row is None else int(row.version)
    with _poll_lock:
        if len(_poll_cache) > 10_000:
            _poll_cache.clear()
        _poll_cache[key] = (moment, version)
    return version


def forget_polls() -> None:
    with _poll_lock:
        _poll_cache.clear()
        _tally_cache.clear()


def close_if_due(store: Store, session_id: int) -> bool:
    """Close answering if its countdown ran out (True if this call closed it).

    One conditional UPDATE, so the many pages that notice at once close it once; no answer is
    taken past ``closes_at`` in any case (the submit statement checks it).
    """
    statement = (class_sessions.update()
                 .where(class_sessions.c.id == session_id, class_sessions.c.phase == OPEN,
                        class_sessions.c.closes_at.is_not(None), class_sessions.c.closes_at <= now())
                 .values(phase=CLOSED, version=class_sessions.c.version + 1, updated_at=now())
                 .execution_options(preserve_rowcount=True))
    return store.run(lambda conn: conn.execute(statement).rowcount) == 1


# --- instructor operations -----------------------------------------------------

def create_session(store: Store, case: Case, *, passcode: str | None, configured: str | None,
                   hide_case: bool = True, ask_certainty: bool = False) -> Host:
    """A new session for ``case`` in the lobby; returns the host token (shown to no one).

    With ``hide_case`` (the default) the case is out of self-study until the class's final reveal,
    so no one reads its key in the library while the class is answering. With ``ask_certainty``
    every answer needs a certainty (low, moderate, high) to be taken (the instructor's page sets it
    by default).
    """
    require_passcode(passcode, configured)
    token = secrets.token_urlsafe(32)
    for _ in range(20):
        code = new_code()
        stamp = now()
        try:
            session_id = store.run(lambda conn: conn.execute(class_sessions.insert().values(
                code=code, case_id=case.id, stage_index=0, phase=LOBBY, host_secret=digest(token),
                created_at=stamp, updated_at=stamp, version=1, hide_case=hide_case,
                ask_certainty=bool(ask_certainty), seed=new_seed())).inserted_primary_key[0])
        except exc.IntegrityError:
            continue  # the code is taken: draw again
        return Host(int(session_id), code, token)
    raise ClassError("Could not find a free join code; try again.")  # pragma: no cover - 1 in 10**160


def take_control(store: Store, code: str, *, passcode: str | None, configured: str | None) -> Host:
    """Resume a session (after a restart, from another device): a new host token, the old one stops working."""
    require_passcode(passcode, configured)
    state = find_session(store, code)
    if state is None:
        raise NoSuchSession(f"No class session has the code {code!r}.")
    token = secrets.token_urlsafe(32)
    store.run(lambda conn: conn.execute(class_sessions.update().where(class_sessions.c.id == state.id).values(
        host_secret=digest(token))))
    return Host(state.id, state.code, token)


def is_host(store: Store, host: Host | None) -> bool:
    """Whether ``host`` still holds the session (another window may have taken control since)."""
    if host is None:
        return False
    stored = store.run(lambda conn: conn.execute(
        sa.select(class_sessions.c.host_secret).where(class_sessions.c.id == host.session_id)).scalar(), write=False)
    return stored is not None and hmac.compare_digest(stored, digest(host.token))


def _check_host(conn, host: Host) -> None:
    stored = conn.execute(sa.select(class_sessions.c.host_secret).where(class_sessions.c.id == host.session_id)).scalar()
    if stored is None:
        raise NoSuchSession("This class session no longer exists.")
    if not hmac.compare_digest(stored, digest(host.token)):
        raise NotHost("This window no longer controls the session: another instructor window took over.")


def act(store: Store, host: Host, action: str, *, expect: tuple[int, str], total: int,
        seconds: int | None = None) -> SessionState:
    """Apply an instructor action to the state the instructor saw (``expect`` = (stage_index, phase)).

    The update is conditional on that state and on the host token, in one statement, so a
    double click or a second instructor window can never skip a stage: the second one finds
    the state moved on and gets :class:`Stale`. "open" with ``seconds`` starts a countdown:
    answering closes by itself at zero (see :func:`close_if_due`).
    """
    stage_index, phase = transition(*expect, action, total)
    if seconds is not None and not (action == "open" and 0 < seconds <= 3600):
        raise BadInput("A countdown is set when opening answering, between 1 second and an hour.")
    moment = now()
    statement = (class_sessions.update()
                 .where(class_sessions.c.id == host.session_id, class_sessions.c.host_secret == digest(host.token),
                        class_sessions.c.stage_index == expect[0], class_sessions.c.phase == expect[1])
                 .values(stage_index=stage_index, phase=phase, version=class_sessions.c.version + 1, updated_at=moment,
                         closes_at=machine.closes_at(moment, seconds)))

    def work(conn):
        if conn.execute(statement).rowcount == 1:
            return
        _check_host(conn, host)
        raise Stale("The session has moved on since this page was drawn.")

    store.run(work)
    return session_state(store, host.session_id)


# --- students and their seats ---------------------------------------------------------
#
# A nickname is a label, not a key: joining gives the phone a random *seat secret* (kept in its
# browser session and URL; only its SHA-256 is stored). Coming back after a reload or a dropped
# connection presents the secret, never the nickname. A new device asking for a nickname in use
# is refused, unless the instructor released that seat: then the next phone to join under the
# nickname takes it over, answers and all, and the old phone's secret stops working.

@dataclass(frozen=True)
class Student:
    id: int
    session_id: int
    code: str
    nickname: str
    seat: str = field(default="", repr=False)  # the phone's seat secret; never shown, never stored in clear


@dataclass(frozen=True)
class Seat:
    """One line of the instructor's list of students."""

    id: int
    nickname: str
    joined_at: datetime
    answers: int
    seated: bool  # False once the instructor released the seat (the next phone to join takes it)


def new_seat() -> str:
    return secrets.token_urlsafe(18)


def _student_by_name(conn, session_id: int, nickname: str):
    return conn.execute(sa.select(class_students.c.id, class_students.c.nickname).where(
        class_students.c.session_id == session_id,
        sa.func.lower(class_students.c.nickname) == nickname.lower())).first()


def join(store: Store, code: str, nickname: str) -> Student:
    """Join a running session under a nickname (unique in the session, ignoring case); the phone gets a seat.

    A released seat with that nickname is taken over, with its answers. Raises
    :class:`NicknameTaken` when a phone holds the nickname: a student on a new device asks the
    instructor to release the seat; anyone else picks another nickname.
    """
    state = open_for_joining(store, code)
    nickname = clean_nickname(nickname)
    seat = new_seat()
    stamp = now()
    source = sa.select(sa.literal(state.id, sa.Integer), sa.literal(nickname, sa.String),
                       sa.literal(stamp, sa.DateTime(timezone=True)), sa.literal(digest(seat), sa.String)).where(
        ~sa.exists().where(class_students.c.session_id == state.id,
                           sa.func.lower(class_students.c.nickname) == nickname.lower()),
        sa.exists().where(class_sessions.c.id == state.id, class_sessions.c.phase != ENDED))
    statement = (class_students.insert().from_select(["session_id", "nickname", "joined_at", "seat_hash"], source)
                 .execution_options(preserve_rowcount=True))
    claim = (class_students.update()
             .where(class_students.c.session_id == state.id,
                    sa.func.lower(class_students.c.nickname) == nickname.lower(),
                    class_students.c.seat_hash.is_(None),
                    sa.exists().where(class_sessions.c.id == state.id, class_sessions.c.phase != ENDED))
             .values(seat_hash=digest(seat)).execution_options(preserve_rowcount=True))

    def work(conn):
        seated = conn.execute(statement).rowcount or conn.execute(claim).rowcount
        return seated, _student_by_name(conn, state.id, nickname)

    try:
        seated, row = store.run(work)
    except exc.IntegrityError:  # the same nickname joined in the same instant
        seated, row = 0, None
    if not seated:
        if session_state(store, state.id).ended:
            raise SessionEnded(f"The class session {state.code} has ended.")
        raise NicknameTaken(f"Someone in this session already uses the nickname {nickname!r}. If that is you on "
                            "another phone, ask your instructor to release your seat, then join again; otherwise "
                            "choose another nickname.")
    return Student(int(row.id), state.id, state.code, row.nickname, seat)


def rejoin(store: Store, code: str, seat: str | None) -> Student:
    """Come back on the same phone (a reload, a dropped connection, a server restart): answers are kept."""
    state = find_session(store, code)
    if state is None:
        raise NoSuchSession(f"No class session has the code {normalise_code(code) or code!r}.")
    row = None
    if seat:
        row = store.run(lambda conn: conn.execute(sa.select(class_students.c.id, class_students.c.nickname).where(
            class_students.c.session_id == state.id, class_students.c.seat_hash == digest(seat))).first(), write=False)
    if row is None:
        raise NoSuchStudent(f"This phone no longer has a seat in session {state.code}: your instructor released or "
                            "removed it. Join again with a nickname.")
    return Student(int(row.id), state.id, state.code, row.nickname, seat)


def _seat_problem(conn, student: Student) -> str | None:
    """Why this phone no longer answers as ``student`` (None while the seat is its own)."""
    stored = conn.execute(sa.select(class_students.c.seat_hash).where(
        class_students.c.id == student.id, class_students.c.session_id == student.session_id)).first()
    if stored is None:
        return f"Your instructor removed you from session {student.code}. You can join again with a nickname."
    if stored.seat_hash is None or not hmac.compare_digest(stored.seat_hash, digest(student.seat)):
        return (f"Your instructor released your seat in session {student.code} for another phone: this phone no "
                "longer answers under that nickname. Join again with another nickname if you need to.")
    return None


def joined_count(store: Store, session_id: int) -> int:
    return store.run(lambda conn: conn.execute(sa.select(sa.func.count()).select_from(class_students).where(
        class_students.c.session_id == session_id)).scalar_one(), write=False)


def roster(store: Store, host: Host) -> list[Seat]:
    """The students of the session in joining order, with their answer counts (instructor only)."""
    _require_host(store, host)
    answered = (sa.select(sa.func.count()).where(class_answers.c.student_id == class_students.c.id)
                .scalar_subquery())
    query = (sa.select(class_students.c.id, class_students.c.nickname, class_students.c.joined_at,
                       answered.label("answers"), class_students.c.seat_hash.is_not(None).label("seated"))
             .where(class_students.c.session_id == host.session_id).order_by(class_students.c.id))
    return [Seat(int(r.id), r.nickname, as_utc(r.joined_at), int(r.answers), bool(r.seated))
            for r in store.run(lambda conn: conn.execute(query).all(), write=False)]


def _student_change(store: Store, host: Host, student_id: int, change) -> None:
    """Apply ``change(conn)`` to one student of the host's session and bump the version (their phone notices)."""

    def work(conn):
        _check_host(conn, host)
        if conn.execute(sa.select(class_students.c.id).where(
                class_students.c.id == student_id, class_students.c.session_id == host.session_id)).first() is None:
            raise NoSuchStudent("That student is no longer in this session.")
        change(conn)
        conn.execute(class_sessions.update().where(class_sessions.c.id == host.session_id).values(
            version=class_sessions.c.version + 1, updated_at=now()))

    store.run(work)


def release_seat(store: Store, host: Host, student_id: int) -> None:
    """Free a student's seat for a new phone: the next phone to join under the nickname gets it, answers kept."""
    _student_change(store, host, student_id, lambda conn: conn.execute(
        class_students.update().where(class_students.c.id == student_id).values(seat_hash=None)))


def remove_student(store: Store, host: Host, student_id: int) -> None:
    """Take a student and their answers out of the session (an offensive nickname, a stray phone)."""

    def change(conn):
        conn.execute(class_answers.delete().where(class_answers.c.student_id == student_id))
        conn.execute(class_students.delete().where(class_students.c.id == student_id))

    _student_change(store, host, student_id, change)


# --- answers -------------------------------------------------------------------

_P = {name: sa.bindparam(name, type_=kind) for name, kind in (
    ("session_id", sa.Integer()), ("student_id", sa.Integer()), ("stage_index", sa.Integer()),
    ("question_id", sa.String()), ("option_id", sa.String()), ("answered_at", sa.DateTime(timezone=True)),
    ("seat_hash", sa.String()), ("certainty", sa.String()))}
_submit_statements: dict[str, sa.Insert] = {}


def _submit_statement(dialect: str):
    """INSERT ... SELECT ... ON CONFLICT DO UPDATE, built once per dialect.

    One statement that (a) takes the answer only if the session is open at that stage and the
    student belongs to it, from the phone that holds the seat, and (b) replaces the student's earlier answer to the question: the
    unique (student, question) constraint makes a double click or a retry one answer. On
    PostgreSQL the session row is share-locked, so "close" waits for answers in flight and no
    answer lands after answering closed. A session that asks certainty takes no answer without one.
    """
    if dialect not in _submit_statements:
        source = (sa.select(_P["session_id"], _P["student_id"], _P["stage_index"], _P["question_id"], _P["option_id"],
                            _P["answered_at"], _P["certainty"])
                  .select_from(class_sessions.join(class_students, class_students.c.session_id == class_sessions.c.id))
                  .where(class_sessions.c.id == _P["session_id"], class_students.c.id == _P["student_id"],
                         class_students.c.seat_hash == _P["seat_hash"], class_sessions.c.phase == OPEN,
                         sa.or_(class_sessions.c.closes_at.is_(None), class_sessions.c.closes_at > _P["answered_at"]),
                         class_sessions.c.stage_index == _P["stage_index"],
                         sa.or_(class_sessions.c.ask_certainty.is_not(True), _P["certainty"].is_not(None))))
        if dialect == "postgresql":
            source = source.with_for_update(read=True, of=class_sessions)
            insert = postgresql.insert(class_answers)
        elif dialect == "sqlite":
            insert = sqlite.insert(class_answers)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise StoreError(f"Class sessions need SQLite or PostgreSQL, not {dialect}.")
        insert = insert.from_select(["session_id", "student_id", "stage_index", "question_id", "option_id",
                                     "answered_at", "certainty"], source)
        _submit_statements[dialect] = insert.on_conflict_do_update(
            index_elements=[class_answers.c.student_id, class_answers.c.question_id],
            set_={"option_id": insert.excluded.option_id, "answered_at": insert.excluded.answered_at,
                  "stage_index": insert.excluded.stage_index, "certainty": insert.excluded.certainty}
        ).execution_options(preserve_rowcount=True)
    return _submit_statements[dialect]


def _question(case: Case, stage_index: int, question_id: str) -> Question:
    if not 0 <= stage_index < len(case.stages):
        raise BadInput("That stage is not part of this case.")
    for question in case.stages[stage_index].questions:
        if question.id == question_id:
            return question
    raise BadInput("That question is not part of this stage.")


#: What a phone is told when it sends an answer without a certainty to a session that asks one.
CERTAINTY_NEEDED = "Tap how sure you are (low, moderate or high) to save your answer."


def submit(store: Store, student: Student, case: Case, stage_index: int, question_id: str, option_id: str,
           certainty: str | None = None) -> None:
    """Record or change a student's answer, and how sure they are, while answering is open at that stage.

    ``certainty`` is a level of :data:`quiz.play.calibration.LEVELS` or None; a session that asks
    certainty refuses an answer without one (:class:`BadInput`, :data:`CERTAINTY_NEEDED`), a session that
    does not stores what it is given. Raises :class:`AnsweringClosed` when the instructor closed
    answering (or moved on) first, and :class:`NoSuchStudent` when this phone's seat was released or removed.
    """
    question = _question(case, stage_index, question_id)
    if option_id not in {o.id for o in question.options}:
        raise BadInput("That is not one of the options.")
    if certainty is not None and certainty not in calibration.LEVELS:
        raise BadInput(f"Certainty must be one of {', '.join(calibration.LEVEL_ORDER)}.")
    statement = _submit_statement(store.engine.dialect.name)
    params = {"session_id": student.session_id, "student_id": student.id, "stage_index": stage_index,
              "question_id": question_id, "option_id": option_id, "answered_at": now(),
              "seat_hash": digest(student.seat), "certainty": certainty}
    if store.run(lambda conn: conn.execute(statement, params).rowcount) != 1:
        problem = store.run(lambda conn: _seat_problem(conn, student), write=False)
        if problem:
            raise NoSuchStudent(problem)
        if certainty is None:
            state = session_state(store, student.session_id)
            if state.ask_certainty and state.phase == OPEN and state.stage_index == stage_index:
                raise BadInput(CERTAINTY_NEEDED)
        raise AnsweringClosed("Answering is closed for this question: your answer was not changed.")


def my_choices(store: Store, student: Student) -> dict[str, tuple[str, str | None]]:
    """The student's stored answers as {question id: (option id, certainty or None)}; :class:`NoSuchStudent`
    once the phone lost its seat."""

    def read(conn):
        problem = _seat_problem(conn, student)
        if problem:
            raise NoSuchStudent(problem)
        return conn.execute(sa.select(class_answers.c.question_id, class_answers.c.option_id,
                                      class_answers.c.certainty).where(
            class_answers.c.student_id == student.id)).all()

    return {question_id: (option_id, certainty) for question_id, option_id, certainty in store.run(read, write=False)}


@dataclass(frozen=True)
class SeatReading:
    """What one phone's page reads on each full rerun: the session and this seat's answers."""

    state: SessionState
    choices: dict[str, tuple[str, str | None]]  # as :func:`my_choices`; empty once the seat is lost
    lost: str | None  # why this phone no longer answers under its nickname (None while the seat is its own)


def read_seat(store: Store, student: Student) -> SeatReading:
    """:func:`session_state` and :func:`my_choices` in one connection (:class:`NoSuchSession` when the
    session is gone). A whole room redraws after each instructor action: one pooled connection, and on
    PostgreSQL one liveness ping, per phone instead of two."""

    def read(conn):
        row = conn.execute(sa.select(*_STATE_COLUMNS).where(class_sessions.c.id == student.session_id)).first()
        if row is None:
            raise NoSuchSession("This class session no longer exists.")
        problem = _seat_problem(conn, student)
        answers = () if problem else conn.execute(sa.select(
            class_answers.c.question_id, class_answers.c.option_id, class_answers.c.certainty).where(
            class_answers.c.student_id == student.id)).all()
        return SeatReading(_state(row), {q: (o, c) for q, o, c in answers}, problem)

    return store.run(read, write=False)


def my_answers(store: Store, student: Student) -> dict[str, str]:
    """The student's stored answers as {question id: option id} (see :func:`my_choices`)."""
    return {question_id: option_id for question_id, (option_id, _) in my_choices(store, student).items()}


def tallies(store: Store, session_id: int, question_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """Answers per option for each question: one grouped query on the (session, question) index."""
    question_ids = list(question_ids)
    query = (sa.select(class_answers.c.question_id, class_answers.c.option_id, sa.func.count())
             .where(class_answers.c.session_id == session_id, class_answers.c.question_id.in_(question_ids))
             .group_by(class_answers.c.question_id, class_answers.c.option_id))
    out: dict[str, dict[str, int]] = {q: {} for q in question_ids}
    for question_id, option_id, count in store.run(lambda conn: conn.execute(query).all(), write=False):
        out[question_id][option_id] = int(count)
    return out


_tally_cache: dict[tuple, tuple[float, dict[str, dict[str, int]]]] = {}


def revealed_tallies(store: Store, state: SessionState, question_ids: Iterable[str], *,
                     max_age: float = 1.0) -> dict[str, dict[str, int]]:
    """:func:`tallies` of revealed questions, as every phone shows them, read at most once per
    ``max_age`` seconds per process and session version.

    After a reveal all the room's phones redraw at once, each asking the same grouped count: on a
    class of 300 that was 300 identical queries. Answers to a revealed stage no longer change, except
    when the instructor removes a student (their answers go): a count may then be ``max_age`` late.
    """
    question_ids = tuple(question_ids)
    key = (store.url, state.id, state.version, question_ids)
    moment = time.monotonic()
    with _poll_lock:
        cached = _tally_cache.get(key)
    if cached is not None and moment - cached[0] < max_age:
        return {q: dict(counts) for q, counts in cached[1].items()}
    counts = tallies(store, state.id, question_ids)
    with _poll_lock:
        if len(_tally_cache) > 1_000:
            _tally_cache.clear()
        _tally_cache[key] = (moment, counts)
    return {q: dict(c) for q, c in counts.items()}


@dataclass(frozen=True)
class Live:
    """What the presenter's live panel shows, read in one short connection."""

    version: int
    phase: str
    stage_index: int
    joined: int
    answered: int  # students who answered every question of the stage on screen
    tallies: dict[str, dict[str, int]]
    in_control: bool | None = None  # whether the given host still holds the session (None: not asked)
    closes_at: datetime | None = None  # while open with a countdown
    # Once the stage on screen is revealed (machine.certainty_shown), never before: answers per option and
    # certainty level, {question id: {option id: {"low"|"moderate"|"high"|None: count}}}.
    certainty: dict[str, dict[str, dict[str | None, int]]] = field(default_factory=dict)


def live(store: Store, session_id: int, case: Case, host: Host | None = None) -> Live:
    """Counts and tallies of the stage on screen; with ``host``, also whether that window still steers.

    The tallies come from one grouped query by option and certainty; the certainty split is kept
    only once the stage is revealed, so no page can draw it before.
    """

    def work(conn):
        row = conn.execute(sa.select(class_sessions.c.version, class_sessions.c.phase, class_sessions.c.stage_index,
                                     class_sessions.c.host_secret, class_sessions.c.closes_at)
                           .where(class_sessions.c.id == session_id)).one()
        joined = conn.execute(sa.select(sa.func.count()).select_from(class_students)
                              .where(class_students.c.session_id == session_id)).scalar_one()
        answered, counts, sure = 0, {}, {}
        if row.phase in (WAITING, OPEN, CLOSED, REVEALED) and row.stage_index < len(case.stages):
            ids = [q.id for q in case.stages[row.stage_index].questions]
            counts = {q: {} for q in ids}
            split = {q: {} for q in ids}
            for question_id, option_id, certainty, count in conn.execute(
                    sa.select(class_answers.c.question_id, class_answers.c.option_id, class_answers.c.certainty,
                              sa.func.count())
                    .where(class_answers.c.session_id == session_id, class_answers.c.question_id.in_(ids))
                    .group_by(class_answers.c.question_id, class_answers.c.option_id,
                              class_answers.c.certainty)).all():
                counts[question_id][option_id] = counts[question_id].get(option_id, 0) + int(count)
                split[question_id].setdefault(option_id, {})[certainty] = int(count)
            if machine.certainty_shown(row.phase):
                sure = split
            per_student = (sa.select(class_answers.c.student_id)
                           .where(class_answers.c.session_id == session_id, class_answers.c.question_id.in_(ids))
                           .group_by(class_answers.c.student_id).having(sa.func.count() >= len(ids)).subquery())
            answered = conn.execute(sa.select(sa.func.count()).select_from(per_student)).scalar_one()
        in_control = None if host is None else hmac.compare_digest(row.host_secret, digest(host.token))
        return Live(int(row.version), row.phase, int(row.stage_index), int(joined), int(answered), counts, in_control,
                    as_utc(row.closes_at) if row.phase == OPEN else None, sure)

    return store.run(work, write=False)


def _require_host(store: Store, host: Host) -> None:
    store.run(lambda conn: _check_host(conn, host), write=False)


def students(store: Store, host: Host) -> list[str]:
    """Nicknames in joining order (instructor only)."""
    _require_host(store, host)
    return list(store.run(lambda conn: conn.execute(
        sa.select(class_students.c.nickname).where(class_students.c.session_id == host.session_id)
        .order_by(class_students.c.id)).scalars().all(), write=False))


def running_sessions(store: Store, *, limit: int = 20) -> list[SessionState]:
    """The newest sessions that have not ended, for the instructor's "resume" list (behind the passcode)."""
    query = (sa.select(*_STATE_COLUMNS).where(class_sessions.c.phase != ENDED)
             .order_by(class_sessions.c.updated_at.desc(), class_sessions.c.id.desc()).limit(limit))
    return [_state(row) for row in store.run(lambda conn: conn.execute(query).all(), write=False)]



def answer_records(store: Store, host: Host) -> list[tuple[str, int, str, str, datetime, str | None]]:
    """Every stored answer of the session as (nickname, stage_index, question_id, option_id, answered_at,
    certainty) (instructor only); :func:`.reports.result_rows` grades them."""
    _require_host(store, host)
    query = (sa.select(class_students.c.nickname, class_answers.c.stage_index, class_answers.c.question_id,
                       class_answers.c.option_id, class_answers.c.answered_at, class_answers.c.certainty)
             .join(class_students, class_answers.c.student_id == class_students.c.id)
             .where(class_answers.c.session_id == host.session_id))
    return [tuple(row) for row in store.run(lambda conn: conn.execute(query).all(), write=False)]


# --- a case kept out of self-study while a class plays it ------------------------------

#: A session left running (never ended) stops hiding its case after this long without a move.
HIDE_AT_MOST = timedelta(hours=12)


def cases_in_class(store: Store) -> set[str]:
    """Ids of the cases that running sessions keep out of self-study (and exams) until their final reveal.

    A failed read raises :class:`StoreError`: a page must never take it for "no class", which would
    open the class's case. Each page says the failure in words and opens nothing.
    """
    query = (sa.select(class_sessions.c.case_id).distinct()
             .where(class_sessions.c.hide_case.is_(True), class_sessions.c.phase.not_in((FINAL, ENDED)),
                    class_sessions.c.updated_at > now() - HIDE_AT_MOST))
    return set(store.run(lambda conn: conn.execute(query).scalars().all(), write=False))


# --- the instructor passcode against parallel guessing ----------------------------------

def try_passcode(store: Store, given: str | None, configured: str | None, *, source: str | None = None) -> bool:
    """Check a typed instructor passcode against one failure counter shared by every session and process.

    Each guess first takes a row ("pending") in ``passcode_attempts`` and counts the failures and
    guesses in flight before it, in one serialised transaction, so 200 parallel sessions meet the
    same lock as one: after FAILURES_BEFORE_LOCK failures within WINDOW, guesses are refused
    unchecked (:class:`PasscodeLocked` says until when). A right passcode removes its row; a
    wrong one stays as a failure and is logged.
    """
    problem = passcode_problem(configured)
    if problem:
        raise NotHost(problem)
    moment = now()

    def claim(conn):
        # One guess at a time decides, across processes: PostgreSQL by a table lock taken first; SQLite
        # because the INSERT takes the database's one write lock, so the count below sees every earlier guess.
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("LOCK TABLE passcode_attempts IN SHARE ROW EXCLUSIVE MODE"))
        attempt_id = conn.execute(passcode_attempts.insert().values(
            attempted_at=moment, outcome="pending", source=(source or "")[:80])).inserted_primary_key[0]
        conn.execute(passcode_attempts.delete().where(passcode_attempts.c.attempted_at < moment - timedelta(days=1)))
        earlier = conn.execute(sa.select(passcode_attempts.c.attempted_at).where(
            passcode_attempts.c.id < attempt_id, passcode_attempts.c.attempted_at > moment - WINDOW)).scalars().all()
        until = locked_until([as_utc(t) for t in earlier], moment)
        if until is not None:
            conn.execute(passcode_attempts.delete().where(passcode_attempts.c.id == attempt_id))
        return attempt_id, until, len(earlier)

    attempt_id, until, earlier = store.run(claim)
    if until is not None:
        log.warning("Instructor passcode refused unchecked from %s: %d failures in %d minutes, locked until %s",
                    source or "an unknown address", earlier, WINDOW.seconds // 60, until.isoformat(timespec="seconds"))
        raise PasscodeLocked(f"Too many wrong passcodes: instructor sign-in is locked until "
                             f"{until:%H:%M:%S} UTC. Try again then.", until)
    if check_passcode(given, configured):
        store.run(lambda conn: conn.execute(passcode_attempts.delete().where(passcode_attempts.c.id == attempt_id)))
        return True
    store.run(lambda conn: conn.execute(passcode_attempts.update().where(passcode_attempts.c.id == attempt_id)
                                        .values(outcome="wrong")))
    log.warning("Wrong instructor passcode from %s (%d failures in the last %d minutes)",
                source or "an unknown address", earlier + 1, WINDOW.seconds // 60)
    return False
