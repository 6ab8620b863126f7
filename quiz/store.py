"""Progress and class sessions in one database, through SQLAlchemy Core.

SQLite (the default, a file, no server) and PostgreSQL run the same code: the
database is chosen by one URL. Each change is one short transaction, so several
browser sessions and several Streamlit processes can share the database; on
SQLite, WAL lets readers go on while one writer commits.
"""
from __future__ import annotations

import functools
import os
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event, exc

from . import identity

metadata = sa.MetaData()

learners = sa.Table(
    "learners", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # Before learner keys, the display name a learner typed, and the only thing that found their record.
    # Such a "legacy learner" has no key until an operator links it (``python -m quiz learners link``).
    # A learner made since gets a random placeholder (``LEARNER_PREFIX``): the name finds nothing any more.
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # The label the learner chose (quiz.identity.display_label); not unique, never used to find a record.
    sa.Column("display_name", sa.String(80)),
)

# The keys that open a learner's record: only the SHA-256 of each (quiz.identity.hash_key). A learner
# may have several: one per browser that adopted a "continue on another device" link shares one key,
# a sign-in through the institution's identity provider is another.
learner_keys = sa.Table(
    "learner_keys", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),  # "browser" or "oidc"
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

attempts = sa.Table(
    "attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("case_id", sa.String(80), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("earned", sa.Float),
    sa.Column("possible", sa.Integer),
    sa.Column("seed", sa.String(64)),  # draws the option order (engine.display_order); NULL in old databases
    # exams.id of the exam this attempt belongs to (quiz.play.exam); NULL for tutor mode. A plain column, as
    # add_missing_columns gives old databases (no foreign key there); reset_learner deletes both together.
    sa.Column("exam_id", sa.Integer),
)

answers = sa.Table(
    "answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("attempt_id", sa.Integer, sa.ForeignKey("attempts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("stage_index", sa.Integer, nullable=False),
    sa.Column("stage_kind", sa.String(40), nullable=False),
    sa.Column("question_id", sa.String(80), nullable=False),
    sa.Column("question_kind", sa.String(40), nullable=False),
    sa.Column("option_id", sa.String(80), nullable=False),
    sa.Column("best_id", sa.String(80), nullable=False),
    sa.Column("credit", sa.Float, nullable=False),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("attempt_id", "question_id", name="one_answer_per_question"),
)

# The learner's reasoning at a committed stage (quiz.play.differential, quiz.play.calibration): the pad as
# differential.pad_to_data, certainty per diagnosis question ({question_id: "low"|"moderate"|"high"}), the
# one-line problem representation. Written with the stage's answers, in the same transaction.
stage_reasoning = sa.Table(
    "stage_reasoning", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("attempt_id", sa.Integer, sa.ForeignKey("attempts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("stage_index", sa.Integer, nullable=False),
    sa.Column("pad", sa.JSON),
    sa.Column("certainty", sa.JSON),
    sa.Column("problem_representation", sa.Text),
    sa.UniqueConstraint("attempt_id", "stage_index", name="one_reasoning_per_stage"),
)

review_answers = sa.Table(
    "review_answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("question_id", sa.String(80), nullable=False),
    sa.Column("option_id", sa.String(80), nullable=False),
    sa.Column("correct", sa.Boolean, nullable=False),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("case_id", sa.String(80)),  # a case question retried in "Review my mistakes"; NULL for the review bank
)

class_sessions = sa.Table(
    "class_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(12), nullable=False, unique=True),
    sa.Column("case_id", sa.String(80), nullable=False),
    sa.Column("stage_index", sa.Integer, nullable=False, default=0),
    sa.Column("phase", sa.String(20), nullable=False),
    sa.Column("host_secret", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.Column("seed", sa.String(64)),  # one option order for the projector and every phone; NULL in old databases
    # The case is kept out of self-study until the final reveal (instructor's choice); NULL in old databases.
    sa.Column("hide_case", sa.Boolean),
    # When answering closes by itself (the instructor's countdown); NULL without one.
    sa.Column("closes_at", sa.DateTime(timezone=True)),
    # Students give a certainty with each answer (quiz.play.calibration levels); NULL in old databases: not asked.
    sa.Column("ask_certainty", sa.Boolean),
)

class_students = sa.Table(
    "class_students", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.Integer, sa.ForeignKey("class_sessions.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("nickname", sa.String(40), nullable=False),
    sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
    # SHA-256 of the phone's seat secret; NULL when the instructor released the seat (or in old databases).
    sa.Column("seat_hash", sa.String(64)),
    sa.UniqueConstraint("session_id", "nickname", name="one_nickname_per_session"),
)
# Nicknames are unique ignoring case ("Ann" and "ann" are one student), even when both join at once.
sa.Index("one_nickname_per_session_ci", class_students.c.session_id, sa.func.lower(class_students.c.nickname),
         unique=True)

class_answers = sa.Table(
    "class_answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.Integer, sa.ForeignKey("class_sessions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("student_id", sa.Integer, sa.ForeignKey("class_students.id", ondelete="CASCADE"), nullable=False),
    sa.Column("stage_index", sa.Integer, nullable=False),
    sa.Column("question_id", sa.String(80), nullable=False),
    sa.Column("option_id", sa.String(80), nullable=False),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
    # How sure the student was: "low", "moderate" or "high" (quiz.play.calibration.LEVELS); NULL when not asked.
    sa.Column("certainty", sa.String(20)),
    sa.UniqueConstraint("student_id", "question_id", name="one_class_answer_per_question"),
    sa.Index("class_answers_by_question", "session_id", "question_id"),
)

# Every instructor-passcode attempt in flight or failed, shared by all sessions and processes, so
# parallel guessing meets one counter (quiz.classroom.storage.try_passcode). A right passcode deletes its row.
passcode_attempts = sa.Table(
    "passcode_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("outcome", sa.String(10), nullable=False),  # "pending" while checked, then "wrong"
    sa.Column("source", sa.String(80)),
)


# --- study modes: exams, spaced review (quiz.play.exam, quiz.play.schedule) ----------

exams = sa.Table(
    "exams", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("seed", sa.String(64), nullable=False),  # drew the set and its order
    sa.Column("case_ids", sa.Text, nullable=False),  # JSON list, in the order the exam shows them
    sa.Column("time_limit_s", sa.Integer),  # NULL: untimed
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),  # server time: the clock runs from here
    sa.Column("finished_at", sa.DateTime(timezone=True)),  # set once, by hand-in, the last commit or the deadline
)

exam_flags = sa.Table(
    "exam_flags", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("exam_id", sa.Integer, sa.ForeignKey("exams.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("case_id", sa.String(80), nullable=False),
    sa.Column("question_id", sa.String(80), nullable=False),
    sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("exam_id", "case_id", "question_id", name="one_flag_per_question"),
)

review_cards = sa.Table(
    "review_cards", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
    sa.Column("item", sa.String(170), nullable=False),  # "case:<case id>:<question id>" or "bank:<question id>"
    sa.Column("case_id", sa.String(80)),  # NULL for a review-bank question
    sa.Column("question_id", sa.String(80), nullable=False),
    sa.Column("card", sa.Text, nullable=False),  # fsrs.Card.to_json()
    sa.Column("due", sa.DateTime(timezone=True), nullable=False),  # copy of the card's due date, to sort and filter
    sa.Column("version", sa.Integer, nullable=False),  # bumped on each review: two tabs cannot lose one
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("learner_id", "item", name="one_card_per_item"),
)

card_reviews = sa.Table(
    "card_reviews", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("item", sa.String(170), nullable=False),
    sa.Column("rating", sa.Integer, nullable=False),  # fsrs.Rating
    sa.Column("credit", sa.Float, nullable=False),
    sa.Column("certainty", sa.String(20)),
    sa.Column("source", sa.String(20), nullable=False),  # "case", "exam" or "review"
    sa.Column("answer_id", sa.Integer, unique=True),  # the stored case answer this review came from; NULL for "review"
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
)

#: Attempts a learner's history may show: tutor-mode ones, and those of finished exams (an open exam
#: keeps its answers' results to itself until it ends).
visible_attempt = sa.or_(attempts.c.exam_id.is_(None),
                         sa.select(exams.c.id).where(exams.c.id == attempts.c.exam_id, exams.c.finished_at.is_not(None))
                         .correlate_except(exams).exists())
#: A learner some key opens; learners without one are legacy records (named, from before keys).
_has_key = sa.select(learner_keys.c.id).where(learner_keys.c.learner_id == learners.c.id).exists()
#: Attempts the tutor-mode player resumes: never an exam's.
tutor_attempt = attempts.c.exam_id.is_(None)

# --- cohorts: named groups of class sessions, for item analysis (quiz/item_store.py) ---------
# Two new tables and nothing else changed, so the schema change is additive: :func:`add_cohort_tables`.
cohorts = sa.Table(
    "cohorts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

cohort_sessions = sa.Table(
    "cohort_sessions", metadata,
    sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("session_id", sa.Integer, sa.ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


def add_cohort_tables(engine: sa.Engine) -> None:
    """The one schema step for cohorts: create their two tables where missing (a database made before them)."""
    metadata.create_all(engine, tables=[cohorts, cohort_sessions], checkfirst=True)


class StoreError(RuntimeError):
    """The database cannot be used; the message says what to do."""


def now() -> datetime:
    return datetime.now(timezone.utc)


#: How long a SQLite writer waits for another writer before giving up with "locked".
BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def sqlite_file(url: str) -> str | None:
    """The file a SQLite URL names, or None (another database, or one in memory)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return parsed.database


def _unwritable(path: str) -> list[str]:
    """The database file, its WAL and shared-memory files, and its folder, where this process may not write."""
    folder = os.path.dirname(os.path.abspath(path))
    candidates = [path, path + "-wal", path + "-shm", folder]
    return [p for p in candidates if os.path.exists(p) and not os.access(p, os.W_OK)]


def explain(error: Exception, url: str) -> StoreError:
    """Turn a driver error into a message a person can act on."""
    original = getattr(error, "orig", error)
    text = str(original).lower()
    where = url.split("@")[-1]
    path = sqlite_file(url)
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(f"The progress database at {where} is damaged and cannot be read. "
                          "Move the file aside (your content is not affected) or set QUIZ_DATABASE_URL to a new file.")
    if "locked" in text or "busy" in text:
        return StoreError(f"The progress database at {where} is locked by another program. Try again in a moment.")
    # A file made read-only under an open connection shows up as an I/O error when the WAL is written.
    unwritable = _unwritable(path) if path and ("i/o error" in text or "ioerr" in text
                                                or str(getattr(original, "sqlite_errorname", "")).startswith("SQLITE_IOERR")) else []
    if unwritable or "readonly" in text or "read-only" in text or "permission" in text:
        files = f" ({', '.join(unwritable)})" if unwritable else ""
        return StoreError(f"The progress database at {where} cannot be written{files}: check the permissions of the "
                          "file and its folder. Nothing was saved.")
    if "full" in text and ("disk" in text or "database" in text):
        return StoreError(f"The disk that holds the progress database at {where} is full: nothing was saved. "
                          "Free some space; the app goes on without a restart.")
    if "could not connect" in text or "connection" in text or "unable to open" in text:
        return StoreError(f"Cannot open the progress database at {where}: {text.splitlines()[0]}")
    return StoreError(f"Database error at {where}: {text.splitlines()[0] if text else type(error).__name__}")


_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def engine_for(url: str) -> sa.Engine:
    """One Engine (a thread-safe connection pool, not a connection) per database URL."""
    with _engines_lock:
        if url not in _engines:
            if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
                path = sqlite_file(url)
                if path:
                    event.listen(engine, "connect", functools.partial(_remember_file, path))
            _engines[url] = engine
        return _engines[url]


FILE_ID = "quiz_file_id"  # key, in a pooled connection's info, of the (device, inode) it opened


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def _remember_file(path: str, _dbapi_connection, record) -> None:
    """Note which file a new SQLite connection opened: the path may later name another file, or none."""
    record.info[FILE_ID] = _file_id(path)


def dispose_all() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


# --- option-order seeds ---------------------------------------------------------

#: Columns added after their table first shipped (all nullable); :func:`add_missing_columns` adds them to older databases.
_ADDED_COLUMNS = ((attempts, "seed"), (class_sessions, "seed"), (review_answers, "case_id"), (attempts, "exam_id"),
                  (class_sessions, "hide_case"), (class_sessions, "closes_at"), (class_students, "seat_hash"),
                  (learners, "display_name"), (class_answers, "certainty"), (class_sessions, "ask_certainty"))


def add_missing_columns(engine: sa.Engine) -> None:
    """Bring a database made before these columns existed up to date: add the ones it lacks.

    Idempotent and safe when several processes start at once (a column another process added
    a moment ago is not an error).
    """
    for table, name in _ADDED_COLUMNS:
        if name in {c["name"] for c in sa.inspect(engine).get_columns(table.name)}:
            continue
        column = table.c[name]
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {name} "
                                     f"{column.type.compile(engine.dialect)}"))
        except exc.SQLAlchemyError:
            if name not in {c["name"] for c in sa.inspect(engine).get_columns(table.name)}:
                raise


def new_seed() -> str:
    """The seed a new attempt or class session draws its option order from: random, unguessable."""
    return secrets.token_hex(16)


#: The stored ``name`` of a learner made since keys: random, so no typed name can match it.
LEARNER_PREFIX = "keyed:"


@dataclass(frozen=True)
class LearnerSummary:
    """One learner as ``python -m quiz learners list`` shows them."""
    id: int
    display_name: str | None
    legacy_name: str | None  # the old name-key of a record from before keys, until it is linked
    key_kinds: tuple[str, ...]
    answers: int
    created_at: datetime | None
    last_answer: datetime | None


def stored_seed(seed: str | None, kind: str, row_id: int) -> str:
    """A row's seed; a row made before seeds existed gets one derived from its id, so its order stays put."""
    return seed or f"{kind}-{row_id}"


@dataclass(frozen=True)
class AttemptRecord:
    id: int
    learner_id: int
    case_id: str
    started_at: datetime
    finished_at: datetime | None
    earned: float | None
    possible: int | None
    seed: str


def attempt_record(row: Mapping) -> AttemptRecord:
    fields = {k: row[k] for k in AttemptRecord.__dataclass_fields__}
    fields["seed"] = stored_seed(fields["seed"], "attempt", fields["id"])
    return AttemptRecord(**fields)


class _CommitLost(Exception):
    """The connection dropped during a commit: whether the change was saved is unknown."""

    def __init__(self, error: exc.DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


class Store:
    """The one place that writes to the database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.file = sqlite_file(url)
        self._schema_lock = threading.Lock()
        self._schema_missing = False  # set when the file was replaced: the next use creates the tables
        try:
            self.engine = engine_for(url)
            metadata.create_all(self.engine)
            add_cohort_tables(self.engine)
            add_missing_columns(self.engine)
        except exc.SQLAlchemyError as error:
            raise explain(error, url) from None

    def run(self, work, *, write: bool = True):
        """Run ``work(conn)`` in one transaction (or, with ``write=False``, one read); driver errors become StoreError.

        On SQLite, a write commits only while the path still names the file the connection opened:
        after the file was deleted or replaced, a pooled connection would write into the deleted
        file, and the change would be lost at the next restart without a word.

        A connection the server dropped (a database restart, a proxy's idle timeout) fails at its
        next statement; SQLAlchemy then discards every pooled connection of that age, and the work
        runs once more on a new one. Nothing of the failed try was committed, so nothing is done
        twice: ``work`` must therefore do nothing but database statements. A connection lost during the commit itself is not retried: that change may have been
        saved, and the person is told so. This replaces a liveness ping before every use of a
        pooled connection, which cost a round trip each time (docs/deploy.md, the class of 300).
        """
        try:
            if self._schema_missing:
                self._create_schema()
            try:
                return self._once(work, write)
            except exc.DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                return self._once(work, write)
        except _CommitLost as lost:
            raise StoreError(f"The connection to the progress database at {self.url.split('@')[-1]} was lost "
                             "while a change was being saved: it may or may not have been saved. "
                             "Reload the page to see what was kept.") from lost.error
        except exc.IntegrityError:
            raise
        except exc.SQLAlchemyError as error:
            raise explain(error, self.url) from None

    def _once(self, work, write: bool):
        with self.engine.connect() as conn:
            if not write:
                self._check_file(conn, write)
                return work(conn)
            transaction = conn.begin()
            self._check_file(conn, write)
            result = work(conn)
            self._check_file(conn, write)  # just before the commit
            try:
                transaction.commit()
            except exc.DBAPIError as error:
                if error.connection_invalidated:
                    raise _CommitLost(error) from error
                raise
            return result

    def _check_file(self, conn, write: bool) -> None:
        if self.file is None:
            return
        opened = conn.connection.info.get(FILE_ID)
        if opened is not None and _file_id(self.file) == opened:
            return
        self.engine.dispose()  # drop every pooled connection to the old file
        self._schema_missing = True
        what = "this change was not saved" if write else "what this page showed may be gone"
        raise StoreError(f"The progress database {self.file} was deleted or replaced while the app was running: "
                         f"{what}. Reload the page to go on with the database now at that path; to keep the old "
                         "records, restore the file first.")

    def _create_schema(self) -> None:
        with self._schema_lock:
            if self._schema_missing:
                metadata.create_all(self.engine)
                self._schema_missing = False

    # --- learners -----------------------------------------------------------
    # A learner is found only by a key (quiz.identity): a browser's random secret or a sign-in subject.
    # Only its hash is stored. The display name is a label and never finds a record.
    def learner_for_key(self, key: str, create: bool = False, kind: str = "browser") -> int | None:
        """The learner this key opens; with ``create``, a new learner for a key never seen (first answer).

        Without ``create`` nothing is written, so opening pages leaves no trace of a visitor.
        """
        if not key:
            raise ValueError("A learner key is needed to keep progress.")
        digest = identity.hash_key(key)
        found = self.run(lambda conn: conn.execute(
            sa.select(learner_keys.c.learner_id).where(learner_keys.c.key_hash == digest)).scalar(), write=False)
        if found is not None or not create:
            return found

        def work(conn):
            learner = conn.execute(learners.insert().values(
                name=f"{LEARNER_PREFIX}{secrets.token_hex(12)}", created_at=now())).inserted_primary_key[0]
            conn.execute(learner_keys.insert().values(key_hash=digest, learner_id=learner, kind=kind,
                                                      created_at=now()))
            return learner

        try:
            return self.run(work)
        except exc.IntegrityError:  # another tab of this browser created it a moment ago
            return self.run(lambda conn: conn.execute(
                sa.select(learner_keys.c.learner_id).where(learner_keys.c.key_hash == digest)).scalar_one(),
                write=False)

    def add_key(self, learner_id: int, key: str, kind: str = "browser") -> None:
        """Let one more key open this learner's record (a resume link for a legacy learner, a sign-in).

        A key that already opens another learner's record is refused: a record is never taken over.
        """
        digest = identity.hash_key(key)

        def work(conn):
            owner = conn.execute(sa.select(learner_keys.c.learner_id).where(learner_keys.c.key_hash == digest)).scalar()
            if owner == learner_id:
                return
            if owner is not None:
                raise ValueError("This key already opens another learner's progress; nothing was changed.")
            if conn.execute(sa.select(learners.c.id).where(learners.c.id == learner_id)).scalar() is None:
                raise ValueError(f"There is no learner with id {learner_id}.")
            conn.execute(learner_keys.insert().values(key_hash=digest, learner_id=learner_id, kind=kind,
                                                      created_at=now()))

        try:
            self.run(work)
        except exc.IntegrityError:
            raise ValueError("This key already opens another learner's progress; nothing was changed.") from None

    def key_kind(self, key: str) -> str | None:
        """How this key was made ("browser", "oidc"), or None for a key that opens nothing."""
        digest = identity.hash_key(key)
        return self.run(lambda conn: conn.execute(
            sa.select(learner_keys.c.kind).where(learner_keys.c.key_hash == digest)).scalar(), write=False)

    def set_display_name(self, learner_id: int, name: str | None) -> str | None:
        """Store the learner's label, cleaned (quiz.identity.display_label); empty clears it. Returns what was stored."""
        label = identity.display_label(name) or None
        self.run(lambda conn: conn.execute(learners.update().where(learners.c.id == learner_id)
                                           .values(display_name=label)))
        return label

    def display_name(self, learner_id: int) -> str | None:
        """The learner's label, or None if they chose none."""
        return self.run(lambda conn: conn.execute(
            sa.select(learners.c.display_name).where(learners.c.id == learner_id)).scalar(), write=False)

    def legacy_learners(self, name: str) -> list[int]:
        """Ids of the learners from before keys (no key yet) whose old name matches ``name`` as a label
        (quiz.identity.normalise_name): several when "Alice" and "alice" were two records then."""
        wanted = identity.normalise_name(name)
        if not wanted:
            return []
        rows = self.run(lambda conn: conn.execute(
            sa.select(learners.c.id, learners.c.name).where(~_has_key).order_by(learners.c.id)).all(), write=False)
        return [row.id for row in rows if identity.normalise_name(row.name) == wanted]

    def legacy_learner(self, name: str) -> int | None:
        """The one legacy learner (see :meth:`legacy_learners`) of this name, or None; ValueError if several."""
        found = self.legacy_learners(name)
        if len(found) > 1:
            raise ValueError(f"{len(found)} old records match {name!r} (ids {', '.join(map(str, found))}): "
                             "choose one with --id.")
        return found[0] if found else None

    def learner_summaries(self) -> list[LearnerSummary]:
        """Every learner, for an operator: label, old name if legacy, key kinds, answers and last activity."""
        answered = (sa.select(attempts.c.learner_id, sa.func.count(answers.c.id).label("answers"),
                              sa.func.max(answers.c.answered_at).label("last"))
                    .join(answers, answers.c.attempt_id == attempts.c.id).group_by(attempts.c.learner_id).subquery())
        query = (sa.select(learners.c.id, learners.c.name, learners.c.display_name, learners.c.created_at,
                           answered.c.answers, answered.c.last)
                 .outerjoin(answered, answered.c.learner_id == learners.c.id).order_by(learners.c.id))

        def read(conn):
            kinds: dict[int, list[str]] = {}
            for row in conn.execute(sa.select(learner_keys.c.learner_id, learner_keys.c.kind)
                                    .order_by(learner_keys.c.id)):
                kinds.setdefault(row.learner_id, []).append(row.kind)
            return [LearnerSummary(id=row.id, display_name=row.display_name,
                                   legacy_name=None if row.id in kinds else row.name,
                                   key_kinds=tuple(kinds.get(row.id, ())), answers=row.answers or 0,
                                   created_at=as_utc(row.created_at), last_answer=as_utc(row.last))
                    for row in conn.execute(query)]

        return self.run(read, write=False)

    # --- self-study attempts ------------------------------------------------
    def current_attempt(self, learner_id: int, case_id: str, seed: str | None = None) -> AttemptRecord:
        """The latest attempt at this case, finished or not (a finished one shows its reveal), or a new one.

        ``seed`` is the option order a new attempt keeps: the one a learner without a record was shown
        before their first answer created it.
        """

        def work(conn):
            row = conn.execute(
                sa.select(attempts).where(attempts.c.learner_id == learner_id, attempts.c.case_id == case_id,
                                          tutor_attempt)
                .order_by(attempts.c.id.desc()).limit(1)
            ).first()
            if row is None:
                new_id = conn.execute(attempts.insert().values(learner_id=learner_id, case_id=case_id, started_at=now(),
                                                               seed=seed or new_seed())).inserted_primary_key[0]
                row = conn.execute(sa.select(attempts).where(attempts.c.id == new_id)).one()
            return attempt_record(row._mapping)

        return self.run(work)

    def resume(self, learner_id: int, case_id: str) -> tuple[int, AttemptRecord, list[dict[str, str]]]:
        """Learner id, latest attempt at the case and its committed choices, read in one go.

        The player calls this on every rerun, so the common case (the attempt exists) costs one
        read-only connection; only a first visit writes.
        """

        def read(conn):
            row = conn.execute(
                sa.select(attempts).where(attempts.c.learner_id == learner_id, attempts.c.case_id == case_id,
                                          tutor_attempt).order_by(attempts.c.id.desc()).limit(1)).first()
            if row is None:
                return None
            record = attempt_record(row._mapping)
            choices = conn.execute(
                sa.select(answers.c.stage_index, answers.c.question_id, answers.c.option_id)
                .where(answers.c.attempt_id == record.id).order_by(answers.c.stage_index, answers.c.id)).all()
            return learner_id, record, stage_choices(r._mapping for r in choices)

        found = self.run(read, write=False)
        if found is not None:
            return found
        return learner_id, self.current_attempt(learner_id, case_id), []

    def new_attempt(self, learner_id: int, case_id: str) -> AttemptRecord:
        """Start over: abandon any unfinished attempt (its answers stay in history) and open a new one."""

        def work(conn):
            conn.execute(attempts.delete().where(attempts.c.learner_id == learner_id, attempts.c.case_id == case_id,
                                                 tutor_attempt, attempts.c.finished_at.is_(None),
                                                 ~sa.exists().where(answers.c.attempt_id == attempts.c.id)))
            new_id = conn.execute(attempts.insert().values(learner_id=learner_id, case_id=case_id, started_at=now(),
                                                           seed=new_seed())).inserted_primary_key[0]
            return attempt_record(conn.execute(sa.select(attempts).where(attempts.c.id == new_id)).one()._mapping)

        return self.run(work)

    def record_stage(self, attempt_id: int, stage_index: int, stage_kind: str, results: Iterable,
                     finished: tuple[float, int] | None = None, at: datetime | None = None,
                     guard=None, reasoning: Mapping | None = None) -> bool:
        """Store a committed stage's answers in one transaction; False if it was stored before (double click).

        ``at`` is the commit's server time when the caller already read the clock (an exam checks
        its deadline against the very time it stores); ``guard(conn)``, run first in the same
        transaction, may raise to refuse the commit (an exam that another tab has just ended).
        ``reasoning`` (keys ``pad``, ``certainty``, ``problem_representation``, any may be None) is stored
        in the same transaction, so the stage's answers and the learner's reasoning stand or fall together.
        """
        stamp = at or now()
        rows = [dict(attempt_id=attempt_id, stage_index=stage_index, stage_kind=stage_kind, question_id=r.question_id,
                     question_kind=r.kind, option_id=r.chosen.id, best_id=r.best.id, credit=r.credit, answered_at=stamp)
                for r in results]

        def work(conn):
            if guard is not None:
                guard(conn)
            conn.execute(answers.insert(), rows)
            if reasoning is not None:
                conn.execute(stage_reasoning.insert().values(
                    attempt_id=attempt_id, stage_index=stage_index, **reasoning_row(reasoning)))
            if finished is not None:
                conn.execute(attempts.update().where(attempts.c.id == attempt_id).values(
                    finished_at=stamp, earned=finished[0], possible=finished[1]))
            return True

        try:
            return self.run(work)
        except exc.IntegrityError:
            return False

    def committed_choices(self, attempt_id: int) -> list[dict[str, str]]:
        """Stored choices of an attempt, stage by stage, to rebuild it with ``engine.replay``."""
        rows = self.run(lambda conn: conn.execute(
            sa.select(answers.c.stage_index, answers.c.question_id, answers.c.option_id)
            .where(answers.c.attempt_id == attempt_id).order_by(answers.c.stage_index, answers.c.id)).all(), write=False)
        return stage_choices(row._mapping for row in rows)

    def stage_reasoning(self, attempt_id: int) -> dict[int, dict]:
        """The learner's stored reasoning of an attempt, by stage index (stages committed without any are absent)."""
        rows = self.run(lambda conn: conn.execute(
            sa.select(stage_reasoning).where(stage_reasoning.c.attempt_id == attempt_id)).all(), write=False)
        return {row.stage_index: _reasoning(row._mapping) for row in rows}

    def reasoning_history(self, learner_id: int) -> list[dict]:
        """Every stored stage reasoning of a learner, with its attempt's case, oldest first."""
        query = (sa.select(attempts.c.case_id, stage_reasoning)
                 .join(attempts, stage_reasoning.c.attempt_id == attempts.c.id)
                 .where(attempts.c.learner_id == learner_id, visible_attempt)
                 .order_by(stage_reasoning.c.attempt_id, stage_reasoning.c.stage_index))
        return [dict(row._mapping) | _reasoning(row._mapping)
                for row in self.run(lambda conn: conn.execute(query).all(), write=False)]

    def attempts(self, learner_id: int) -> list[AttemptRecord]:
        rows = self.run(lambda conn: conn.execute(
            sa.select(attempts).where(attempts.c.learner_id == learner_id, visible_attempt)
            .order_by(attempts.c.id)).all(), write=False)
        return [attempt_record(row._mapping) for row in rows]

    def answer_history(self, learner_id: int) -> list[dict]:
        """Every stored self-study answer of a learner, with its attempt's case and time."""
        query = (sa.select(attempts.c.case_id, attempts.c.id.label("attempt_id"), answers.c.stage_index, answers.c.stage_kind,
                           answers.c.question_id, answers.c.question_kind, answers.c.option_id, answers.c.best_id,
                           answers.c.credit, answers.c.answered_at)
                 .join(attempts, answers.c.attempt_id == attempts.c.id)
                 .where(attempts.c.learner_id == learner_id, visible_attempt)
                 .order_by(answers.c.answered_at, answers.c.id))
        return [dict(row._mapping) for row in self.run(lambda conn: conn.execute(query).all(), write=False)]

    def record_review(self, learner_id: int, question_id: str, option_id: str, correct: bool,
                      case_id: str | None = None) -> None:
        """A quick-fire answer, or (with ``case_id``) a retry of a case question in "Review my mistakes"."""
        self.run(lambda conn: conn.execute(review_answers.insert().values(
            learner_id=learner_id, question_id=question_id, option_id=option_id, correct=correct, answered_at=now(),
            case_id=case_id)))

    def review_history(self, learner_id: int) -> list[dict]:
        query = sa.select(review_answers).where(review_answers.c.learner_id == learner_id).order_by(review_answers.c.id)
        return [dict(row._mapping) for row in self.run(lambda conn: conn.execute(query).all(), write=False)]

    def reset_learner(self, learner_id: int) -> None:
        """Forget a learner's attempts, answers, exams, review history and review cards (the name stays)."""

        def work(conn):
            ids = sa.select(attempts.c.id).where(attempts.c.learner_id == learner_id)
            conn.execute(answers.delete().where(answers.c.attempt_id.in_(ids)))
            conn.execute(stage_reasoning.delete().where(stage_reasoning.c.attempt_id.in_(ids)))
            conn.execute(attempts.delete().where(attempts.c.learner_id == learner_id))
            mine = sa.select(exams.c.id).where(exams.c.learner_id == learner_id)
            conn.execute(exam_flags.delete().where(exam_flags.c.exam_id.in_(mine)))
            conn.execute(exams.delete().where(exams.c.learner_id == learner_id))
            conn.execute(review_answers.delete().where(review_answers.c.learner_id == learner_id))
            conn.execute(card_reviews.delete().where(card_reviews.c.learner_id == learner_id))
            conn.execute(review_cards.delete().where(review_cards.c.learner_id == learner_id))

        self.run(work)


def reasoning_row(reasoning: Mapping) -> dict:
    """The columns ``record_stage`` stores for a stage's reasoning."""
    return {"pad": reasoning.get("pad"), "certainty": reasoning.get("certainty") or None,
            "problem_representation": (reasoning.get("problem_representation") or "").strip() or None}


def reasoning_as_read(reasoning: Mapping) -> dict:
    """What ``stage_reasoning`` reads back for ``reasoning`` once ``record_stage`` has stored it."""
    return _reasoning(reasoning_row(reasoning))


def _reasoning(row: Mapping) -> dict:
    return {"pad": row["pad"], "certainty": row["certainty"] or {},
            "problem_representation": row["problem_representation"]}


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def stage_choices(rows: Iterable[Mapping]) -> list[dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for row in rows:
        out.setdefault(row["stage_index"], {})[row["question_id"]] = row["option_id"]
    return [out[i] for i in sorted(out)]


_stores: dict[str, Store] = {}


def open_store(url: str) -> Store:
    """The Store for a URL, made once per process: it holds an engine (a pool), never a connection."""
    store = _stores.get(url)
    if store is None:
        store = _stores[url] = Store(url)
    return store


def forget_stores() -> None:
    """Drop cached stores and engines (tests, and after the database file was replaced)."""
    _stores.clear()
    dispose_all()
