"""Live class mode: an instructor paces one case, a room of students answers from their phones.

Everything a class session is made of lives here, with no Streamlit in it:

* join codes (6 characters from an alphabet with no look-alikes, drawn with :mod:`secrets`);
* the session's state machine: a lobby, then for every stage
  ``waiting -> open -> closed -> revealed`` (the stage's findings are shown while *waiting*;
  answers are taken only while *open*), then the *final* reveal of what the report's authors
  did and saw, and *ended*;
* every database operation on the class tables of :mod:`quiz.store`, each one short
  transaction, so any number of browser sessions and Streamlit processes share one session;
* what a student may see, built from the engine's public projection (:func:`engine.ask`):
  options without key or explanations until the instructor reveals the stage.

Instructor authority is a random *host token* returned when a session is created (or taken
over with the instructor passcode). Only its SHA-256 is stored; every instructor operation
must present the token. The pages keep it in the instructor's server-side session state, never
in a URL, so a student who knows the join code can follow the session but never steer it.

Every change bumps the session's ``version``, so a page polling for changes reads one small
row (cached for a second per process) instead of rebuilding the page.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.dialects import postgresql, sqlite

from .play import engine
from .play.engine import AskedQuestion, QuestionResult, Score
from .content.model import Case, Finding, Image, Question, Reveal, Source
from .store import Store, StoreError, as_utc, class_answers, class_sessions, class_students, new_seed, now, stored_seed

# --- join codes ---------------------------------------------------------------

#: Upper-case letters and digits without 0/O, 1/I/L: nothing to misread on a projector.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
JOIN_PARAM = "join"
NICK_PARAM = "nick"
NICKNAME_MAX = 24


def new_code() -> str:
    """A random join code: 31**6, about 887 million possibilities."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str | None:
    """The code a person typed (any case, spaces or dashes) in canonical form, or None if it cannot be one."""
    if not text:
        return None
    code = re.sub(r"[\s\-_.]", "", text).upper()
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def join_url(base: str, code: str) -> str:
    """The URL students open: the app's root with ``?join=CODE``."""
    return f"{base.rstrip('/')}/?{JOIN_PARAM}={code}"


# --- errors ------------------------------------------------------------------

class ClassError(Exception):
    """A class-session move that cannot be done; the message is for the person who tried."""


class NoSuchSession(ClassError):
    pass


class SessionEnded(ClassError):
    pass


class NicknameTaken(ClassError):
    pass


class NoSuchStudent(ClassError):
    pass


class BadInput(ClassError):
    pass


class NotHost(ClassError):
    """The caller does not hold this session's current host token."""


class NotAllowed(ClassError):
    """The session's state does not allow this action (e.g. revealing before anyone could answer)."""


class Stale(ClassError):
    """The session moved on since the caller looked (a double click, another instructor window)."""


class AnsweringClosed(ClassError):
    pass


# --- the state machine -------------------------------------------------------

LOBBY, WAITING, OPEN, CLOSED, REVEALED, FINAL, ENDED = "lobby", "waiting", "open", "closed", "revealed", "final", "ended"


@dataclass(frozen=True)
class SessionState:
    """One row of ``class_sessions`` without the host token's hash.

    ``stage_index`` is the stage on screen. In the *final* phase it equals the number of
    stages. Once *ended* it records how far the class got: the number of stages whose key was
    revealed, plus one if the final reveal was shown (see :func:`revealed_stages`).
    """

    id: int
    code: str
    case_id: str
    stage_index: int
    phase: str
    version: int
    created_at: datetime
    updated_at: datetime
    seed: str = field(kw_only=True)  # one option order for the whole session (engine.display_order)

    @property
    def ended(self) -> bool:
        return self.phase == ENDED


def revealed_stages(state: SessionState, total: int) -> int:
    """How many stages' keys the class has seen."""
    if state.phase == LOBBY:
        return 0
    if state.phase in (WAITING, OPEN, CLOSED):
        return state.stage_index
    if state.phase == REVEALED:
        return state.stage_index + 1
    if state.phase == FINAL:
        return total
    return min(state.stage_index, total)  # ENDED


def final_shown(state: SessionState, total: int) -> bool:
    """Whether the reported diagnosis, management and outcome are on the students' screens."""
    return state.phase == FINAL or (state.phase == ENDED and state.stage_index > total)


def shown_stage(state: SessionState, total: int) -> int | None:
    """Index of the stage whose findings are on screen now, or None (lobby, final, ended)."""
    if state.phase in (WAITING, OPEN, CLOSED, REVEALED):
        return state.stage_index
    return None


def transition(stage_index: int, phase: str, action: str, total: int) -> tuple[int, str]:
    """The (stage_index, phase) an action leads to; :class:`NotAllowed` says why not."""
    if phase == ENDED:
        raise NotAllowed("The session has ended.")
    if action == "end":
        if phase == FINAL:
            return total + 1, ENDED
        if phase == REVEALED:
            return stage_index + 1, ENDED
        if phase == LOBBY:
            return 0, ENDED
        return stage_index, ENDED
    if action == "start":
        if phase != LOBBY:
            raise NotAllowed("The session has already started.")
        return 0, WAITING
    if action == "open":
        if phase not in (WAITING, CLOSED):
            raise NotAllowed("Answering can be opened only while a stage is shown and not yet revealed.")
        return stage_index, OPEN
    if action == "close":
        if phase != OPEN:
            raise NotAllowed("Answering is not open.")
        return stage_index, CLOSED
    if action == "reveal":
        if phase not in (OPEN, CLOSED):
            raise NotAllowed("Open answering before revealing the key.")
        return stage_index, REVEALED
    if action == "advance":
        if phase == LOBBY:
            return 0, WAITING
        if phase != REVEALED:
            raise NotAllowed("Reveal this stage's key before moving on.")
        if stage_index + 1 >= total:
            return total, FINAL
        return stage_index + 1, WAITING
    raise NotAllowed(f"Unknown action {action!r}.")


def next_action(state: SessionState, total: int) -> str | None:
    """The action an instructor most likely wants next (the big button)."""
    return {LOBBY: "start", WAITING: "open", OPEN: "close", CLOSED: "reveal", REVEALED: "advance",
            FINAL: "end"}.get(state.phase)


# --- authority ---------------------------------------------------------------

@dataclass(frozen=True)
class Host:
    """The instructor's proof of authority over one session. Keep it server-side only."""

    session_id: int
    code: str
    token: str = field(repr=False)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_passcode(given: str | None, configured: str | None) -> bool:
    """True when an instructor passcode is configured and ``given`` equals it (constant time)."""
    if not configured or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), configured.strip().encode())


def _require_passcode(given: str | None, configured: str | None) -> None:
    if not configured:
        raise NotHost("No instructor passcode is set: set QUIZ_INSTRUCTOR_PASSCODE or instructor_passcode in "
                      ".streamlit/secrets.toml.")
    if not check_passcode(given, configured):
        raise NotHost("Wrong instructor passcode.")


# --- reading sessions ----------------------------------------------------------

_STATE_COLUMNS = (class_sessions.c.id, class_sessions.c.code, class_sessions.c.case_id, class_sessions.c.stage_index,
                  class_sessions.c.phase, class_sessions.c.version, class_sessions.c.created_at,
                  class_sessions.c.updated_at, class_sessions.c.seed)


def _state(row) -> SessionState:
    data = dict(row._mapping)
    data["created_at"] = as_utc(data["created_at"])
    data["updated_at"] = as_utc(data["updated_at"])
    data["seed"] = stored_seed(data["seed"], "class-session", data["id"])
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


def poll_version(store: Store, session_id: int, *, max_age: float = 1.0) -> int:
    """The session's version, read at most once per ``max_age`` seconds per process.

    A room of students polling every two seconds costs the database one tiny query per second
    per app process, whatever the size of the room. Versions only grow, so a caller compares
    with ``>``: a reading up to ``max_age`` old never makes a page go back.
    """
    key = (store.url, session_id)
    moment = time.monotonic()
    with _poll_lock:
        cached = _poll_cache.get(key)
    if cached is not None and moment - cached[0] < max_age:
        return cached[1]
    version = store.run(lambda conn: conn.execute(
        sa.select(class_sessions.c.version).where(class_sessions.c.id == session_id)).scalar(), write=False)
    version = -1 if version is None else int(version)
    with _poll_lock:
        if len(_poll_cache) > 10_000:
            _poll_cache.clear()
        _poll_cache[key] = (moment, version)
    return version


def forget_polls() -> None:
    with _poll_lock:
        _poll_cache.clear()


# --- instructor operations -----------------------------------------------------

def create_session(store: Store, case: Case, *, passcode: str | None, configured: str | None) -> Host:
    """A new session for ``case`` in the lobby; returns the host token (shown to no one)."""
    _require_passcode(passcode, configured)
    token = secrets.token_urlsafe(32)
    for _ in range(20):
        code = new_code()
        stamp = now()
        try:
            session_id = store.run(lambda conn: conn.execute(class_sessions.insert().values(
                code=code, case_id=case.id, stage_index=0, phase=LOBBY, host_secret=_digest(token),
                created_at=stamp, updated_at=stamp, version=1, seed=new_seed())).inserted_primary_key[0])
        except exc.IntegrityError:
            continue  # the code is taken: draw again
        return Host(int(session_id), code, token)
    raise ClassError("Could not find a free join code; try again.")  # pragma: no cover - 1 in 10**160


def take_control(store: Store, code: str, *, passcode: str | None, configured: str | None) -> Host:
    """Resume a session (after a restart, from another device): a new host token, the old one stops working."""
    _require_passcode(passcode, configured)
    state = find_session(store, code)
    if state is None:
        raise NoSuchSession(f"No class session has the code {code!r}.")
    token = secrets.token_urlsafe(32)
    store.run(lambda conn: conn.execute(class_sessions.update().where(class_sessions.c.id == state.id).values(
        host_secret=_digest(token))))
    return Host(state.id, state.code, token)


def is_host(store: Store, host: Host | None) -> bool:
    """Whether ``host`` still holds the session (another window may have taken control since)."""
    if host is None:
        return False
    stored = store.run(lambda conn: conn.execute(
        sa.select(class_sessions.c.host_secret).where(class_sessions.c.id == host.session_id)).scalar(), write=False)
    return stored is not None and hmac.compare_digest(stored, _digest(host.token))


def _check_host(conn, host: Host) -> None:
    stored = conn.execute(sa.select(class_sessions.c.host_secret).where(class_sessions.c.id == host.session_id)).scalar()
    if stored is None:
        raise NoSuchSession("This class session no longer exists.")
    if not hmac.compare_digest(stored, _digest(host.token)):
        raise NotHost("This window no longer controls the session: another instructor window took over.")


def act(store: Store, host: Host, action: str, *, expect: tuple[int, str], total: int) -> SessionState:
    """Apply an instructor action to the state the instructor saw (``expect`` = (stage_index, phase)).

    The update is conditional on that state and on the host token, in one statement, so a
    double click or a second instructor window can never skip a stage: the second one finds
    the state moved on and gets :class:`Stale`.
    """
    stage_index, phase = transition(*expect, action, total)
    statement = (class_sessions.update()
                 .where(class_sessions.c.id == host.session_id, class_sessions.c.host_secret == _digest(host.token),
                        class_sessions.c.stage_index == expect[0], class_sessions.c.phase == expect[1])
                 .values(stage_index=stage_index, phase=phase, version=class_sessions.c.version + 1, updated_at=now()))

    def work(conn):
        if conn.execute(statement).rowcount == 1:
            return
        _check_host(conn, host)
        raise Stale("The session has moved on since this page was drawn.")

    store.run(work)
    return session_state(store, host.session_id)


# --- students ----------------------------------------------------------------

@dataclass(frozen=True)
class Student:
    id: int
    session_id: int
    code: str
    nickname: str


def clean_nickname(text: str | None) -> str:
    """A nickname as it will be stored and shown: printable, single-spaced, at most 24 characters."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise BadInput("Choose a nickname: it is how the class results show you.")
    if len(text) > NICKNAME_MAX:
        raise BadInput(f"Nicknames have at most {NICKNAME_MAX} characters.")
    return text


def _student_by_name(conn, session_id: int, nickname: str):
    return conn.execute(sa.select(class_students.c.id, class_students.c.nickname).where(
        class_students.c.session_id == session_id,
        sa.func.lower(class_students.c.nickname) == nickname.lower())).first()


def join(store: Store, code: str, nickname: str) -> Student:
    """Join a running session under a new nickname (unique in the session, ignoring case).

    Raises :class:`NicknameTaken` when someone (perhaps the same student before a reload)
    already has it: the page then asks whether to :func:`rejoin`.
    """
    state = open_for_joining(store, code)
    nickname = clean_nickname(nickname)
    stamp = now()
    source = sa.select(sa.literal(state.id, sa.Integer), sa.literal(nickname, sa.String), sa.literal(stamp, sa.DateTime(timezone=True))).where(
        ~sa.exists().where(class_students.c.session_id == state.id,
                           sa.func.lower(class_students.c.nickname) == nickname.lower()),
        sa.exists().where(class_sessions.c.id == state.id, class_sessions.c.phase != ENDED))
    statement = (class_students.insert().from_select(["session_id", "nickname", "joined_at"], source)
                 .execution_options(preserve_rowcount=True))

    def work(conn):
        inserted = conn.execute(statement).rowcount
        row = _student_by_name(conn, state.id, nickname)
        return inserted, row

    try:
        inserted, row = store.run(work)
    except exc.IntegrityError:  # the same nickname joined in the same instant
        inserted, row = 0, None
    if not inserted:
        if session_state(store, state.id).ended:
            raise SessionEnded(f"The class session {state.code} has ended.")
        raise NicknameTaken(f"Someone in this session is already called {nickname!r}.")
    return Student(int(row.id), state.id, state.code, row.nickname)


def rejoin(store: Store, code: str, nickname: str) -> Student:
    """Come back as a student who joined before (a reload, another device, a server restart); answers are kept."""
    state = find_session(store, code)
    if state is None:
        raise NoSuchSession(f"No class session has the code {normalise_code(code) or code!r}.")
    nickname = clean_nickname(nickname)
    row = store.run(lambda conn: _student_by_name(conn, state.id, nickname), write=False)
    if row is None:
        raise NoSuchStudent(f"Nobody called {nickname!r} has joined session {state.code}.")
    return Student(int(row.id), state.id, state.code, row.nickname)


def joined_count(store: Store, session_id: int) -> int:
    return store.run(lambda conn: conn.execute(sa.select(sa.func.count()).select_from(class_students).where(
        class_students.c.session_id == session_id)).scalar_one(), write=False)


# --- answers -------------------------------------------------------------------

_P = {name: sa.bindparam(name, type_=kind) for name, kind in (
    ("session_id", sa.Integer()), ("student_id", sa.Integer()), ("stage_index", sa.Integer()),
    ("question_id", sa.String()), ("option_id", sa.String()), ("answered_at", sa.DateTime(timezone=True)))}
_submit_statements: dict[str, sa.Insert] = {}


def _submit_statement(dialect: str):
    """INSERT ... SELECT ... ON CONFLICT DO UPDATE, built once per dialect.

    One statement that (a) takes the answer only if the session is open at that stage and the
    student belongs to it, and (b) replaces the student's earlier answer to the question: the
    unique (student, question) constraint makes a double click or a retry one answer. On
    PostgreSQL the session row is share-locked, so "close" waits for answers in flight and no
    answer lands after answering closed.
    """
    if dialect not in _submit_statements:
        source = (sa.select(_P["session_id"], _P["student_id"], _P["stage_index"], _P["question_id"], _P["option_id"],
                            _P["answered_at"])
                  .select_from(class_sessions.join(class_students, class_students.c.session_id == class_sessions.c.id))
                  .where(class_sessions.c.id == _P["session_id"], class_students.c.id == _P["student_id"],
                         class_sessions.c.phase == OPEN, class_sessions.c.stage_index == _P["stage_index"]))
        if dialect == "postgresql":
            source = source.with_for_update(read=True, of=class_sessions)
            insert = postgresql.insert(class_answers)
        elif dialect == "sqlite":
            insert = sqlite.insert(class_answers)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise StoreError(f"Class sessions need SQLite or PostgreSQL, not {dialect}.")
        insert = insert.from_select(["session_id", "student_id", "stage_index", "question_id", "option_id", "answered_at"],
                                    source)
        _submit_statements[dialect] = insert.on_conflict_do_update(
            index_elements=[class_answers.c.student_id, class_answers.c.question_id],
            set_={"option_id": insert.excluded.option_id, "answered_at": insert.excluded.answered_at,
                  "stage_index": insert.excluded.stage_index}).execution_options(preserve_rowcount=True)
    return _submit_statements[dialect]


def _question(case: Case, stage_index: int, question_id: str) -> Question:
    if not 0 <= stage_index < len(case.stages):
        raise BadInput("That stage is not part of this case.")
    for question in case.stages[stage_index].questions:
        if question.id == question_id:
            return question
    raise BadInput("That question is not part of this stage.")


def submit(store: Store, student: Student, case: Case, stage_index: int, question_id: str, option_id: str) -> None:
    """Record or change a student's answer while answering is open at that stage.

    Raises :class:`AnsweringClosed` when the instructor closed answering (or moved on) first.
    """
    question = _question(case, stage_index, question_id)
    if option_id not in {o.id for o in question.options}:
        raise BadInput("That is not one of the options.")
    statement = _submit_statement(store.engine.dialect.name)
    params = {"session_id": student.session_id, "student_id": student.id, "stage_index": stage_index,
              "question_id": question_id, "option_id": option_id, "answered_at": now()}
    if store.run(lambda conn: conn.execute(statement, params).rowcount) != 1:
        raise AnsweringClosed("Answering is closed for this question: your answer was not changed.")


def my_answers(store: Store, student: Student) -> dict[str, str]:
    rows = store.run(lambda conn: conn.execute(sa.select(class_answers.c.question_id, class_answers.c.option_id).where(
        class_answers.c.student_id == student.id)).all(), write=False)
    return {question_id: option_id for question_id, option_id in rows}


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


@dataclass(frozen=True)
class Live:
    """What the presenter's live panel shows, read in one short connection."""

    version: int
    phase: str
    stage_index: int
    joined: int
    answered: int  # students who answered every question of the stage on screen
    tallies: dict[str, dict[str, int]]


def live(store: Store, session_id: int, case: Case) -> Live:
    def work(conn):
        row = conn.execute(sa.select(class_sessions.c.version, class_sessions.c.phase, class_sessions.c.stage_index)
                           .where(class_sessions.c.id == session_id)).one()
        joined = conn.execute(sa.select(sa.func.count()).select_from(class_students)
                              .where(class_students.c.session_id == session_id)).scalar_one()
        answered, counts = 0, {}
        if row.phase in (WAITING, OPEN, CLOSED, REVEALED) and row.stage_index < len(case.stages):
            ids = [q.id for q in case.stages[row.stage_index].questions]
            counts = {q: {} for q in ids}
            for question_id, option_id, count in conn.execute(
                    sa.select(class_answers.c.question_id, class_answers.c.option_id, sa.func.count())
                    .where(class_answers.c.session_id == session_id, class_answers.c.question_id.in_(ids))
                    .group_by(class_answers.c.question_id, class_answers.c.option_id)).all():
                counts[question_id][option_id] = int(count)
            per_student = (sa.select(class_answers.c.student_id)
                           .where(class_answers.c.session_id == session_id, class_answers.c.question_id.in_(ids))
                           .group_by(class_answers.c.student_id).having(sa.func.count() >= len(ids)).subquery())
            answered = conn.execute(sa.select(sa.func.count()).select_from(per_student)).scalar_one()
        return Live(int(row.version), row.phase, int(row.stage_index), int(joined), int(answered), counts)

    return store.run(work, write=False)


# --- what a student sees -------------------------------------------------------

@dataclass(frozen=True)
class StudentQuestion:
    asked: AskedQuestion
    chosen: str | None  # this student's option id, or None
    result: QuestionResult | None  # after the reveal: graded answer (None if unanswered)
    key: QuestionResult | None  # after the reveal: every option with its explanation, the best marked
    shares: dict[str, int] | None = None  # after the reveal: how the class answered


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
    reveal: Reveal | None = None
    source: Source | None = None


def _student_stage(case: Case, index: int, answers: Mapping[str, str], revealed: bool,
                   shares: Mapping[str, Mapping[str, int]] | None, seed: str) -> StudentStage:
    stage = case.stages[index]
    questions = []
    for question in stage.questions:
        chosen = answers.get(question.id)
        if chosen is not None and chosen not in {o.id for o in question.options}:
            chosen = None  # the case was edited since: the stored answer names no option now
        if revealed:
            questions.append(StudentQuestion(engine.ask(question, seed), chosen,
                                             engine.grade(question, chosen, seed) if chosen else None,
                                             engine.grade(question, question.answer, seed),
                                             dict(shares.get(question.id, {})) if shares is not None else None))
        else:
            questions.append(StudentQuestion(engine.ask(question, seed), chosen, None, None))
    return StudentStage(index, index + 1, stage.kind, stage.heading, tuple(stage.findings), tuple(stage.images),
                        tuple(questions), revealed)


def student_view(case: Case, state: SessionState, answers: Mapping[str, str],
                 shares: Mapping[str, Mapping[str, int]] | None = None) -> StudentView:
    """The student's page, from the session state and their own answers.

    Keys, explanations, teaching notes and class shares appear only for revealed stages; later
    stages and the reveal do not appear at all. ``shares`` (tallies) is used for revealed stages only.
    """
    total = len(case.stages)
    done = revealed_stages(state, total)
    current_index = shown_stage(state, total)
    past = tuple(_student_stage(case, i, answers, True, shares, state.seed) for i in range(done) if i != current_index)
    current = None
    if current_index is not None:
        current = _student_stage(case, current_index, answers, state.phase == REVEALED, shares, state.seed)
    credit = sum(q.result.credit for s in (*past, *([current] if current and current.revealed else []))
                 for q in s.questions if q.result is not None)
    possible = sum(len(case.stages[i].questions) for i in range(done))
    final = final_shown(state, total)
    return StudentView(
        code=state.code, title=case.title, phase=state.phase, version=state.version, total_stages=total,
        current=current, past=past, can_answer=state.phase == OPEN,
        score=Score(round(credit, 3), possible) if possible else None,
        reveal=case.reveal if final else None, source=case.source if final else None,
    )


# --- results -------------------------------------------------------------------

RESULT_COLUMNS = ["nickname", "stage", "stage_kind", "question_id", "question_kind", "option_id", "option_label",
                  "best_id", "best_label", "correct", "credit", "answered_at"]


def _require_host(store: Store, host: Host) -> None:
    store.run(lambda conn: _check_host(conn, host), write=False)


def result_rows(store: Store, host: Host, case: Case) -> list[dict]:
    """Every answer of the session, one row per student and question, in stage order (instructor only)."""
    _require_host(store, host)
    query = (sa.select(class_students.c.nickname, class_answers.c.stage_index, class_answers.c.question_id,
                       class_answers.c.option_id, class_answers.c.answered_at)
             .join(class_students, class_answers.c.student_id == class_students.c.id)
             .where(class_answers.c.session_id == host.session_id))
    places = {q.id: (i, j, q) for i, stage in enumerate(case.stages) for j, q in enumerate(stage.questions)}
    rows = []
    for nickname, stage_index, question_id, option_id, answered_at in store.run(
            lambda conn: conn.execute(query).all(), write=False):
        if question_id not in places:
            continue  # the case was edited since; the answer no longer fits a question
        i, j, question = places[question_id]
        labels = {o.id: o.label or o.id for o in question.options}
        credit = engine.credit(question, option_id)
        rows.append({"nickname": nickname, "stage": i + 1, "stage_kind": case.stages[i].kind,
                     "question_id": question_id, "question_kind": question.kind, "option_id": option_id,
                     "option_label": labels.get(option_id, option_id), "best_id": question.answer,
                     "best_label": labels[question.answer], "correct": option_id == question.answer,
                     "credit": credit, "answered_at": as_utc(answered_at), "_order": (i, j)})
    rows.sort(key=lambda r: (r["_order"], r["nickname"].lower()))
    for row in rows:
        del row["_order"]
    return rows


def students(store: Store, host: Host) -> list[str]:
    """Nicknames in joining order (instructor only)."""
    _require_host(store, host)
    return list(store.run(lambda conn: conn.execute(
        sa.select(class_students.c.nickname).where(class_students.c.session_id == host.session_id)
        .order_by(class_students.c.id)).scalars().all(), write=False))


def stage_summary(case: Case, rows: list[dict], joined: int) -> list[dict]:
    """Percent correct per stage: of the answers given, and of every joined student's questions."""
    out = []
    for i, stage in enumerate(case.stages):
        mine = [r for r in rows if r["stage"] == i + 1]
        expected = joined * len(stage.questions)
        correct = sum(1 for r in mine if r["correct"])
        out.append({"stage": i + 1, "kind": stage.kind, "questions": len(stage.questions), "answers": len(mine),
                    "correct": correct,
                    "percent_correct": round(100 * correct / len(mine), 1) if mine else None,
                    "percent_of_class": round(100 * correct / expected, 1) if expected else None,
                    "mean_credit": round(sum(r["credit"] for r in mine) / len(mine), 3) if mine else None})
    return out


def question_summary(case: Case, rows: list[dict]) -> list[dict]:
    out = []
    for i, stage in enumerate(case.stages):
        for question in stage.questions:
            mine = [r for r in rows if r["question_id"] == question.id]
            labels = {o.id: o.label or o.id for o in question.options}
            popular = max(labels, key=lambda o: sum(1 for r in mine if r["option_id"] == o)) if mine else None
            out.append({"stage": i + 1, "question_id": question.id, "question_kind": question.kind,
                        "prompt": question.prompt, "answers": len(mine),
                        "percent_correct": round(100 * sum(r["correct"] for r in mine) / len(mine), 1) if mine else None,
                        "best_label": labels[question.answer],
                        "most_chosen": labels[popular] if popular else None})
    return out


def student_summary(case: Case, rows: list[dict], nicknames: list[str]) -> list[dict]:
    """One row per student: their answer to each question (with a mark) and their score."""
    columns = [(i, q) for i, stage in enumerate(case.stages) for q in stage.questions]
    by_student: dict[str, dict[str, dict]] = {n: {} for n in nicknames}
    for row in rows:
        by_student.setdefault(row["nickname"], {})[row["question_id"]] = row
    out = []
    for nickname, answers in by_student.items():
        line: dict = {"nickname": nickname}
        for i, question in columns:
            row = answers.get(question.id)
            mark = "" if row is None else ("✓ " if row["correct"] else ("½ " if row["credit"] > 0 else "✗ "))
            line[f"S{i + 1} {question.kind.replace('_', ' ')}"] = "" if row is None else mark + row["option_label"]
        earned = sum(r["credit"] for r in answers.values())
        line["answered"] = len(answers)
        line["score"] = round(earned, 2)
        line["percent"] = round(100 * earned / len(columns), 1) if columns else 0.0
        out.append(line)
    return out


def _csv_cell(value) -> str:
    """A spreadsheet must not run a nickname as a formula."""
    text = "" if value is None else (value.isoformat() if isinstance(value, datetime) else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def results_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in RESULT_COLUMNS])
    return buffer.getvalue()


def running_sessions(store: Store, *, limit: int = 20) -> list[SessionState]:
    """The newest sessions that have not ended, for the instructor's "resume" list (behind the passcode)."""
    query = (sa.select(*_STATE_COLUMNS).where(class_sessions.c.phase != ENDED)
             .order_by(class_sessions.c.updated_at.desc(), class_sessions.c.id.desc()).limit(limit))
    return [_state(row) for row in store.run(lambda conn: conn.execute(query).all(), write=False)]


PHASE_LABELS = {LOBBY: "Waiting for students", WAITING: "Findings shown, answering not open yet",
                OPEN: "Answering open", CLOSED: "Answering closed", REVEALED: "Key revealed",
                FINAL: "Final reveal", ENDED: "Ended"}
ACTION_LABELS = {"start": "Start: show stage 1", "open": "Open answering", "close": "Close answering",
                 "reveal": "Reveal the key", "advance": "Next stage", "end": "End session"}
