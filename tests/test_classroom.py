"""The live-class core (quiz.classroom): codes, authority, answers, tallies, results, concurrency
from threads and processes, and a server restart mid-session. The state machine alone: test_class_machine.py.

Every test taking ``url`` runs on SQLite and, with QUIZ_TEST_POSTGRES_URL set, on PostgreSQL.
"""
from __future__ import annotations

import logging
import multiprocessing
import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

import factories
from class_support import BACKENDS, PASSCODE, database_url, guess_many, submit_many
from quiz import classroom as C
from quiz.play import engine
from quiz import store as store_module
from quiz.store import class_answers, class_students, open_store

SECRET_MARKERS = ("EXPLAIN", "KEYNOTE", "REVEALED")
CASE = factories.load_case()
TOTAL = len(CASE.stages)


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    yield database_url(request.param, tmp_path)
    store_module.forget_stores()
    C.forget_polls()


@pytest.fixture
def store(url):
    return open_store(url)


def new_session(store):
    return C.create_session(store, CASE, passcode=PASSCODE, configured=PASSCODE)


def step(store, host, action):
    state = C.session_state(store, host.session_id)
    return C.act(store, host, action, expect=(state.stage_index, state.phase), total=TOTAL)


def open_stage(store, host, index):
    """Drive a new session to stage ``index`` with answering open."""
    state = step(store, host, "start")
    for _ in range(index):
        step(store, host, "open")
        step(store, host, "reveal")
        state = step(store, host, "advance")
    state = step(store, host, "open")
    assert (state.stage_index, state.phase) == (index, C.OPEN)
    return state


def rows(store, session_id):
    query = sa.select(class_answers.c.student_id, class_answers.c.question_id, class_answers.c.option_id).where(
        class_answers.c.session_id == session_id)
    return store.run(lambda conn: conn.execute(query).all(), write=False)


# --- join codes ------------------------------------------------------------------

def test_codes_are_six_unambiguous_random_characters():
    codes = {C.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}", code)
    assert not set("01OIL") & set(C.ALPHABET)
    seen = set("".join(codes))
    assert seen == set(C.ALPHABET), "every character of the alphabet is drawn"


@pytest.mark.parametrize("typed, expected", [
    ("k7m2qx", "K7M2QX"), (" K7M-2QX ", "K7M2QX"), ("K7 M2 QX", "K7M2QX"),
    ("K7M2Q", None), ("K7M2QXX", None), ("K0M2QX", None), ("", None), (None, None), ("<scrip", None)])
def test_typed_codes_are_normalised(typed, expected):
    assert C.normalise_code(typed) == expected


def test_join_url_is_the_app_root_with_the_code():
    assert C.join_url("https://class.example.org/", "K7M2QX") == "https://class.example.org/?join=K7M2QX"


# --- authority -----------------------------------------------------------------

def test_creating_a_session_needs_the_configured_passcode(store):
    with pytest.raises(C.NotHost, match="No instructor passcode"):
        C.create_session(store, CASE, passcode="", configured=None)
    with pytest.raises(C.NotHost, match="Wrong"):
        C.create_session(store, CASE, passcode="guess", configured=PASSCODE)
    host = new_session(store)
    assert C.normalise_code(host.code) == host.code
    assert host.token not in repr(host)
    stored = store.run(lambda conn: conn.execute(sa.text("SELECT host_secret FROM class_sessions")).scalar(),
                        write=False)
    assert stored != host.token and len(stored) == 64, "only a digest of the token is stored"


def test_only_the_host_token_steers_the_session(store):
    host = new_session(store)
    student = C.join(store, host.code, "Mallory")
    forged = C.Host(host.session_id, host.code, "a-guess")
    for action in ("start", "end"):
        with pytest.raises(C.NotHost):
            C.act(store, forged, action, expect=(0, C.LOBBY), total=TOTAL)
    with pytest.raises(C.NotHost):
        C.result_rows(store, forged, CASE)
    with pytest.raises(C.NotHost):
        C.students(store, forged)
    with pytest.raises(C.NotHost):
        C.take_control(store, host.code, passcode="guess", configured=PASSCODE)
    assert not C.is_host(store, forged) and not C.is_host(store, None)
    assert C.session_state(store, host.session_id).phase == C.LOBBY
    assert student.nickname == "Mallory"


def test_taking_control_rotates_the_token(store):
    host = new_session(store)
    other = C.take_control(store, host.code.lower(), passcode=PASSCODE, configured=PASSCODE)
    assert other.session_id == host.session_id and other.token != host.token
    assert C.is_host(store, other) and not C.is_host(store, host)
    with pytest.raises(C.NotHost, match="another instructor window"):
        step(store, host, "start")
    assert step(store, other, "start").phase == C.WAITING


def test_a_double_click_never_skips_a_stage(store):
    host = new_session(store)
    open_stage(store, host, 0)
    step(store, host, "reveal")
    seen = C.session_state(store, host.session_id)
    after = C.act(store, host, "advance", expect=(seen.stage_index, seen.phase), total=TOTAL)
    with pytest.raises(C.Stale):
        C.act(store, host, "advance", expect=(seen.stage_index, seen.phase), total=TOTAL)
    now = C.session_state(store, host.session_id)
    assert (now.stage_index, now.phase) == (1, C.WAITING) == (after.stage_index, after.phase)
    assert now.version == seen.version + 1


def test_every_change_bumps_the_version_and_polls_are_cached(store):
    host = new_session(store)
    first = C.poll_version(store, host.session_id)
    step(store, host, "start")
    assert C.poll_version(store, host.session_id, max_age=60) == first, "cached for a moment"
    assert C.poll_version(store, host.session_id, max_age=0) == first + 1
    assert C.poll_version(store, 999_999, max_age=0) == -1


# --- students --------------------------------------------------------------------

def test_nicknames_are_unique_ignoring_case_and_only_the_seat_comes_back(store):
    host = new_session(store)
    ann = C.join(store, host.code, "  Ann   Lee ")
    assert ann.nickname == "Ann Lee" and len(ann.seat) >= 20 and ann.seat not in repr(ann)
    with pytest.raises(C.NicknameTaken, match="ask your instructor to release your seat"):
        C.join(store, host.code, "ann lee")
    again = C.rejoin(store, host.code.lower(), ann.seat)
    assert again == ann
    for wrong in ("Ann Lee", "", None, ann.seat[:-1], C.join(store, new_session(store).code, "Ann Lee").seat):
        with pytest.raises(C.NoSuchStudent):
            C.rejoin(store, host.code, wrong)
    assert C.joined_count(store, host.session_id) == 1


def test_a_released_seat_goes_to_the_next_phone_with_its_answers(store):
    host = new_session(store)
    ann, bob = C.join(store, host.code, "Ann"), C.join(store, host.code, "Bob")
    open_stage(store, host, 0)
    q0 = CASE.stages[0].questions[0]
    C.submit(store, ann, CASE, 0, q0.id, "lipoma")
    with pytest.raises(C.NotHost):
        C.release_seat(store, C.Host(host.session_id, host.code, "guessed"), ann.id)
    version = C.session_state(store, host.session_id).version
    C.release_seat(store, host, ann.id)
    assert C.session_state(store, host.session_id).version == version + 1, "the old phone notices at its next poll"
    assert [(s.nickname, s.seated, s.answers) for s in C.roster(store, host)] == [("Ann", False, 1), ("Bob", True, 0)]
    with pytest.raises(C.NoSuchStudent, match="released"):
        C.submit(store, ann, CASE, 0, q0.id, q0.answer)  # the old phone can no longer answer
    with pytest.raises(C.NoSuchStudent, match="released"):
        C.my_answers(store, ann)
    new_phone = C.join(store, host.code, "ann")
    assert new_phone.id == ann.id and new_phone.seat != ann.seat
    assert C.my_answers(store, new_phone) == {q0.id: "lipoma"}
    with pytest.raises(C.NicknameTaken):
        C.join(store, host.code, "Ann")  # taken again, by the new phone

    C.remove_student(store, host, bob.id)
    assert [s.nickname for s in C.roster(store, host)] == ["Ann"]
    with pytest.raises(C.NoSuchStudent, match="removed"):
        C.my_answers(store, bob)
    with pytest.raises(C.NoSuchStudent):
        C.remove_student(store, host, bob.id)


@pytest.mark.parametrize("nickname, problem", [("", "Choose a nickname"), ("   ", "Choose a nickname"),
                                               ("x" * 25, "at most 24")])
def test_bad_nicknames_are_refused(store, nickname, problem):
    host = new_session(store)
    with pytest.raises(C.BadInput, match=problem):
        C.join(store, host.code, nickname)


def test_nicknames_lose_control_characters_but_keep_their_text(store):
    host = new_session(store)
    student = C.join(store, host.code, "<b>Zoë</b>\u0000\u202e")
    assert student.nickname == "<b>Zoë</b>", "stored as typed, minus control characters; pages show it as plain text"


def test_wrong_and_ended_codes_say_so(store):
    with pytest.raises(C.NoSuchSession, match="not a join code"):
        C.open_for_joining(store, "12")
    with pytest.raises(C.NoSuchSession, match="No class session has the code"):
        C.join(store, "ZZZZZZ", "Ann")
    host = new_session(store)
    ann = C.join(store, host.code, "Ann")
    step(store, host, "end")
    with pytest.raises(C.SessionEnded, match="has ended"):
        C.join(store, host.code, "Bob")
    assert C.rejoin(store, host.code, ann.seat).nickname == "Ann", "a student may still come back to see the end"


# --- the instructor passcode against parallel guessing (security probe F12) -------------

LONG_PASSCODE = "four unrelated words here"


def test_a_passcode_shorter_than_twelve_characters_is_refused(store):
    for short in ("123456", "letmein", " eleven-char"):
        assert "at least 12 characters" in C.passcode_problem(short)
        with pytest.raises(C.NotHost, match="too short"):
            C.create_session(store, CASE, passcode=short, configured=short)
        with pytest.raises(C.NotHost, match="too short"):
            C.try_passcode(store, short, short)
    assert C.passcode_problem(LONG_PASSCODE) is None and "No instructor passcode" in C.passcode_problem(None)


def test_parallel_guesses_meet_one_failure_counter_with_backoff(store, caplog):
    caplog.set_level(logging.WARNING, logger="quiz")

    def guess(text):
        try:
            return "right" if C.try_passcode(store, text, LONG_PASSCODE, source="198.51.100.7") else "wrong"
        except C.PasscodeLocked as locked:
            return locked

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(guess, [f"guess-{i}" for i in range(40)]))
    wrong = [o for o in outcomes if o == "wrong"]
    locked = [o for o in outcomes if isinstance(o, C.PasscodeLocked)]
    assert len(wrong) == C.authority.FAILURES_BEFORE_LOCK, "only five of forty parallel guesses were checked"
    assert len(locked) == 35 and all("Try again" in str(o) and o.until > store_module.now() for o in locked)
    assert isinstance(guess(LONG_PASSCODE), C.PasscodeLocked), "even the right passcode waits out the lock"
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("quiz")]
    assert sum("Wrong instructor passcode from 198.51.100.7" in line for line in lines) == 5, "a log line per failure"
    assert sum("refused unchecked" in line for line in lines) == 36


def test_the_lock_grows_with_each_failure_and_ends():
    start = store_module.now()
    failures = [start + timedelta(seconds=i) for i in range(5)]
    assert C.locked_until(failures[:4], start + timedelta(seconds=5)) is None
    assert C.locked_until(failures, start + timedelta(seconds=5)) == failures[-1] + timedelta(seconds=30)
    assert C.locked_until(failures, failures[-1] + timedelta(seconds=31)) is None, "the lock ends"
    six = failures + [start + timedelta(seconds=40)]
    assert C.locked_until(six, start + timedelta(seconds=41)) == six[-1] + timedelta(seconds=60), "and doubles"
    many = [start + timedelta(seconds=i) for i in range(30)]
    assert C.locked_until(many, many[-1]) == many[-1] + timedelta(minutes=15), "at most a quarter hour"
    assert C.locked_until(failures, start + timedelta(minutes=11)) is None, "old failures are forgotten"


def test_guesses_from_separate_processes_share_the_counter(store, url):
    store_module.forget_stores()
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        outcomes = pool.starmap(guess_many, [(url, [f"p{n}-{i}" for i in range(4)], LONG_PASSCODE) for n in range(4)])
    flat = [o for outcome in outcomes for o in outcome]
    assert flat.count("wrong") == C.authority.FAILURES_BEFORE_LOCK and flat.count("locked") == 11


def test_a_right_passcode_leaves_no_failure_behind(store):
    for _ in range(10):
        assert C.try_passcode(store, f" {LONG_PASSCODE} ", LONG_PASSCODE) is True
    assert C.try_passcode(store, "nope", LONG_PASSCODE) is False


def test_a_database_from_before_seats_gets_the_new_columns_and_keeps_its_students(store, url):
    """Old rows have no seat: the first phone to join under such a nickname takes it, answers kept."""
    host = new_session(store)
    ann = C.join(store, host.code, "Ann")
    open_stage(store, host, 0)
    q0 = CASE.stages[0].questions[0]
    C.submit(store, ann, CASE, 0, q0.id, "lipoma")

    def downgrade(conn):
        conn.execute(sa.text("ALTER TABLE class_students DROP COLUMN seat_hash"))
        conn.execute(sa.text("ALTER TABLE class_sessions DROP COLUMN hide_case"))
        conn.execute(sa.text("DROP TABLE passcode_attempts"))

    store.run(downgrade)
    store_module.forget_stores()
    upgraded = open_store(url)
    columns = {c["name"] for c in sa.inspect(upgraded.engine).get_columns("class_students")}
    assert "seat_hash" in columns
    assert C.cases_in_class(upgraded) == set(), "old sessions hide nothing"
    assert C.try_passcode(upgraded, "wrong", PASSCODE) is False
    again = C.join(upgraded, host.code, "ann")
    assert again.id == ann.id and C.my_answers(upgraded, again) == {q0.id: "lipoma"}
    with pytest.raises(C.NicknameTaken):
        C.join(upgraded, host.code, "Ann")


# --- a countdown closes answering (issue 13, presenter view) ------------------------------

def test_a_countdown_closes_answering_at_zero(store):
    host = new_session(store)
    ann = C.join(store, host.code, "Ann")
    step(store, host, "start")
    with pytest.raises(C.BadInput):
        C.act(store, host, "open", expect=(0, C.WAITING), total=TOTAL, seconds=0)
    with pytest.raises(C.BadInput):
        C.act(store, host, "end", expect=(0, C.WAITING), total=TOTAL, seconds=30)
    state = C.act(store, host, "open", expect=(0, C.WAITING), total=TOTAL, seconds=30)
    assert (state.closes_at - state.updated_at).total_seconds() == 30
    assert 29 <= C.seconds_left(state, store_module.now()) <= 30
    q0 = CASE.stages[0].questions[0]
    C.submit(store, ann, CASE, 0, q0.id, "lipoma")
    assert C.live(store, host.session_id, CASE).closes_at == state.closes_at

    past = store_module.now() - timedelta(seconds=1)  # thirty seconds later
    store.run(lambda conn: conn.execute(store_module.class_sessions.update().values(closes_at=past)))
    with pytest.raises(C.AnsweringClosed):
        C.submit(store, ann, CASE, 0, q0.id, q0.answer)  # at zero, before any page noticed
    assert C.poll_version(store, host.session_id, max_age=0) == state.version + 1, "the first poll closes it"
    closed = C.session_state(store, host.session_id)
    assert closed.phase == C.CLOSED and C.seconds_left(closed, store_module.now()) is None
    assert C.close_if_due(store, host.session_id) is False, "closed once, however many pages notice"
    assert C.my_answers(store, ann) == {q0.id: "lipoma"}
    reopened = step(store, host, "open")
    assert reopened.closes_at is None, "reopening without a countdown has none"


# --- a case kept out of self-study during class (live-class S1) --------------------------

def test_a_running_session_hides_its_case_until_the_final_reveal(store):
    host = new_session(store)
    assert C.cases_in_class(store) == {CASE.id}
    open_stage(store, host, TOTAL - 1)
    step(store, host, "reveal")
    assert C.cases_in_class(store) == {CASE.id}, "hidden until the final reveal"
    step(store, host, "advance")
    assert C.cases_in_class(store) == set()
    shown = C.create_session(store, CASE, passcode=PASSCODE, configured=PASSCODE, hide_case=False)
    assert C.cases_in_class(store) == set(), "the instructor may leave it playable"
    hidden = new_session(store)
    step(store, hidden, "end")
    assert C.cases_in_class(store) == set(), "an ended session hides nothing"
    assert shown.code != hidden.code


def test_a_window_learns_it_lost_control_from_the_live_panel(store):
    host = new_session(store)
    assert C.live(store, host.session_id, CASE, host).in_control is True
    C.take_control(store, host.code, passcode=PASSCODE, configured=PASSCODE)
    assert C.live(store, host.session_id, CASE, host).in_control is False
    assert C.live(store, host.session_id, CASE).in_control is None


# --- answers -------------------------------------------------------------------

def test_answers_are_taken_only_while_open_and_only_for_the_stage_on_screen(store):
    host = new_session(store)
    ann = C.join(store, host.code, "Ann")
    q0 = CASE.stages[0].questions[0]
    with pytest.raises(C.AnsweringClosed):
        C.submit(store, ann, CASE, 0, q0.id, q0.answer)  # lobby
    step(store, host, "start")
    with pytest.raises(C.AnsweringClosed):
        C.submit(store, ann, CASE, 0, q0.id, q0.answer)  # findings shown, answering not open
    step(store, host, "open")
    q1 = CASE.stages[1].questions[0]
    with pytest.raises(C.AnsweringClosed):
        C.submit(store, ann, CASE, 1, q1.id, q1.answer)  # a later stage
    with pytest.raises(C.BadInput):
        C.submit(store, ann, CASE, 0, q1.id, q1.answer)  # a question of another stage
    with pytest.raises(C.BadInput):
        C.submit(store, ann, CASE, 0, q0.id, "not-an-option")
    C.submit(store, ann, CASE, 0, q0.id, "lipoma")
    step(store, host, "close")
    with pytest.raises(C.AnsweringClosed):
        C.submit(store, ann, CASE, 0, q0.id, q0.answer)
    assert C.my_answers(store, ann) == {q0.id: "lipoma"}


def test_changing_and_resubmitting_keeps_one_answer(store):
    host = new_session(store)
    ann = C.join(store, host.code, "Ann")
    open_stage(store, host, 0)
    q0 = CASE.stages[0].questions[0]
    for option in ("lipoma", "abscess", "schwannoma", "schwannoma", "schwannoma"):
        C.submit(store, ann, CASE, 0, q0.id, option)
    assert rows(store, host.session_id) == [(ann.id, q0.id, "schwannoma")]


def test_a_student_of_another_session_cannot_answer_here(store):
    first, second = new_session(store), new_session(store)
    outsider = C.join(store, second.code, "Eve")
    open_stage(store, first, 0)
    q0 = CASE.stages[0].questions[0]
    forged = C.Student(outsider.id, first.session_id, first.code, outsider.nickname, outsider.seat)
    with pytest.raises((C.AnsweringClosed, C.NoSuchStudent)):
        C.submit(store, forged, CASE, 0, q0.id, q0.answer)
    assert rows(store, first.session_id) == []


def test_tallies_and_live_counts(store):
    host = new_session(store)
    people = [C.join(store, host.code, name) for name in ("Ann", "Bob", "Cy", "Di")]
    open_stage(store, host, 0)
    q_dx, q_next = CASE.stages[0].questions
    for person, option in zip(people, ("lipoma", "lipoma", "abscess", "soft-tissue-sarcoma")):
        C.submit(store, person, CASE, 0, q_dx.id, option)
    C.submit(store, people[0], CASE, 0, q_next.id, "mri")
    assert C.tallies(store, host.session_id, [q_dx.id, q_next.id]) == {
        q_dx.id: {"lipoma": 2, "abscess": 1, "soft-tissue-sarcoma": 1}, q_next.id: {"mri": 1}}
    live = C.live(store, host.session_id, CASE)
    assert (live.joined, live.answered, live.phase) == (4, 1, C.OPEN)
    assert live.tallies[q_dx.id]["lipoma"] == 2



def test_revealed_tallies_are_read_once_per_version_and_moment(store, monkeypatch):
    """A reveal redraws every phone at once: one grouped count per process and version, not one per phone."""
    host = new_session(store)
    people = [C.join(store, host.code, name) for name in ("Ann", "Bob", "Cy")]
    open_stage(store, host, 0)
    q_dx = CASE.stages[0].questions[0]
    for person, option in zip(people, ("lipoma", "lipoma", "abscess")):
        C.submit(store, person, CASE, 0, q_dx.id, option)
    step(store, host, "close")
    revealed = step(store, host, "reveal")
    reads = []
    real = C.storage.tallies
    monkeypatch.setattr(C.storage, "tallies", lambda *a, **k: reads.append(a) or real(*a, **k))
    C.forget_polls()
    first = C.revealed_tallies(store, revealed, [q_dx.id])
    assert first == {q_dx.id: {"lipoma": 2, "abscess": 1}}
    first[q_dx.id]["lipoma"] = 99  # a caller's change never reaches the next phone
    for _ in range(50):
        assert C.revealed_tallies(store, revealed, [q_dx.id]) == {q_dx.id: {"lipoma": 2, "abscess": 1}}
    assert len(reads) == 1
    C.remove_student(store, host, people[2].id)  # the one change a revealed stage can see
    assert C.revealed_tallies(store, revealed, [q_dx.id], max_age=0) == {q_dx.id: {"lipoma": 2}}
    moved = step(store, host, "advance")  # a new version reads afresh
    C.revealed_tallies(store, moved, [q_dx.id])
    assert len(reads) == 3



def test_read_seat_is_the_session_and_this_seats_answers_in_one_read(store):
    host = new_session(store)
    ann, bob = C.join(store, host.code, "Ann"), C.join(store, host.code, "Bob")
    opened = open_stage(store, host, 0)
    q_dx = CASE.stages[0].questions[0]
    C.submit(store, ann, CASE, 0, q_dx.id, "lipoma")
    C.submit(store, bob, CASE, 0, q_dx.id, "abscess")
    reading = C.read_seat(store, ann)
    assert reading.state == C.session_state(store, host.session_id) == opened
    assert reading.choices == C.my_choices(store, ann) == {q_dx.id: ("lipoma", None)} and reading.lost is None
    C.remove_student(store, host, bob.id)
    gone = C.read_seat(store, bob)
    assert gone.choices == {} and "removed you" in gone.lost
    with pytest.raises(C.NoSuchStudent, match="removed you"):
        C.my_choices(store, bob)  # the same words as before
    with pytest.raises(C.NoSuchSession):
        C.read_seat(store, C.Student(bob.id, 999_999, bob.code, bob.nickname, bob.seat))


# --- what students see ---------------------------------------------------------

def test_the_student_view_holds_no_key_before_the_reveal(store):
    host = new_session(store)
    ann = C.join(store, host.code, "Ann")
    state = C.session_state(store, host.session_id)
    view = C.student_view(CASE, state, {})
    assert view.current is None and view.past == () and view.reveal is None
    state = open_stage(store, host, 0)
    q0 = CASE.stages[0].questions[0]
    C.submit(store, ann, CASE, 0, q0.id, "schwannoma")
    view = C.student_view(CASE, state, C.my_answers(store, ann), C.tallies(store, state.id, [q0.id]))
    text = repr(view)
    for marker in (*SECRET_MARKERS, "LATER", "best=", "credit=", ", answer=", "acceptable="):
        assert marker not in text, marker
    assert view.can_answer and view.current.questions[0].chosen == "schwannoma"
    assert view.current.questions[0].shares is None, "no class shares before the reveal either"

    state = step(store, host, "reveal")
    view = C.student_view(CASE, state, C.my_answers(store, ann), C.tallies(store, state.id, [q0.id]))
    graded = view.current.questions[0]
    assert graded.result.credit == 0.5 and graded.key.best.id == q0.answer and graded.shares == {"schwannoma": 1}
    assert "EXPLAIN" in repr(view) and "KEYNOTE" in repr(view)
    assert "LATER" not in repr(view) and "REVEALED" not in repr(view)
    assert view.current.questions[1].result is None and view.current.questions[1].key is not None
    assert view.score == engine.Score(0.5, 2)


def test_a_late_joiner_lands_on_the_current_stage_and_the_final_reveal_comes_last(store):
    host = new_session(store)
    open_stage(store, host, 1)
    late = C.join(store, host.code, "Late")
    state = C.session_state(store, host.session_id)
    view = C.student_view(CASE, state, C.my_answers(store, late))
    assert view.current.index == 1 and [s.index for s in view.past] == [0]
    assert view.past[0].revealed and view.reveal is None
    for _ in range(TOTAL - 1):
        step(store, host, "reveal")
        state = step(store, host, "advance")
        if state.phase == C.WAITING:
            step(store, host, "open")
    assert state.phase == C.FINAL
    view = C.student_view(CASE, state, {})
    assert view.current is None and len(view.past) == TOTAL
    assert "REVEALED" in view.reveal.diagnosis and view.score == engine.Score(0.0, 6)
    ended = C.student_view(CASE, step(store, host, "end"), {})
    assert ended.reveal is not None, "the final reveal stays after the end"


def test_ending_early_shows_no_more_than_was_revealed(store):
    host = new_session(store)
    open_stage(store, host, 0)
    state = step(store, host, "end")
    view = C.student_view(CASE, state, {})
    assert view.past == () and view.current is None and view.reveal is None
    assert "EXPLAIN" not in repr(view)


# --- results --------------------------------------------------------------------

def test_results_per_student_question_and_stage_and_csv(store):
    host = new_session(store)
    ann, bob, cy = (C.join(store, host.code, n) for n in ("Ann", "=HYPERLINK(1)", "Cy"))
    open_stage(store, host, 0)
    q_dx, q_next = CASE.stages[0].questions
    C.submit(store, ann, CASE, 0, q_dx.id, q_dx.answer)
    C.submit(store, ann, CASE, 0, q_next.id, q_next.answer)
    C.submit(store, bob, CASE, 0, q_dx.id, "schwannoma")
    C.submit(store, cy, CASE, 0, q_dx.id, "lipoma")
    result = C.result_rows(store, host, CASE)
    assert len(result) == 4
    assert [r["nickname"] for r in result if r["question_id"] == q_dx.id] == ["=HYPERLINK(1)", "Ann", "Cy"]
    stages = C.stage_summary(CASE, result, 3)
    assert stages[0] | {} == stages[0] and stages[0]["answers"] == 4 and stages[0]["correct"] == 2
    assert stages[0]["percent_correct"] == 50.0 and stages[0]["percent_of_class"] == round(100 * 2 / 6, 1)
    assert stages[1]["answers"] == 0 and stages[1]["percent_correct"] is None
    per_student = {r["nickname"]: r for r in C.student_summary(CASE, result, C.students(store, host))}
    assert per_student["Ann"]["score"] == 2 and per_student["Ann"]["S1 diagnosis"].startswith("✓")
    assert per_student["=HYPERLINK(1)"]["S1 diagnosis"].startswith("½")
    assert per_student["Cy"]["S1 diagnosis"].startswith("✗")
    questions = C.question_summary(CASE, result)
    assert questions[0]["answers"] == 3 and questions[0]["percent_correct"] == round(100 / 3, 1)
    csv_text = C.results_csv(result)
    lines = csv_text.splitlines()
    assert lines[0].split(",") == C.RESULT_COLUMNS and len(lines) == 5
    assert "'=HYPERLINK(1)" in csv_text and "\n=HYPERLINK" not in csv_text, "no formula injection"


def test_running_sessions_lists_the_ones_not_ended(store):
    first, second = new_session(store), new_session(store)
    step(store, first, "end")
    assert [s.code for s in C.running_sessions(store)] == [second.code]


# --- concurrency --------------------------------------------------------------------

def test_threads_submitting_at_once_lose_nothing(store):
    host = new_session(store)
    open_stage(store, host, 0)
    questions = CASE.stages[0].questions
    people = [C.join(store, host.code, f"t{i}") for i in range(40)]
    barrier = threading.Barrier(len(people))
    expected: dict[tuple[int, str], str] = {}
    lock = threading.Lock()

    def student(person):
        rng = random.Random(person.id)
        barrier.wait()
        for _ in range(3):
            for question in questions:
                option = rng.choice(question.options).id
                C.submit(store, person, CASE, 0, question.id, option)
                with lock:
                    expected[(person.id, question.id)] = option
        for question in questions:  # a retry
            C.submit(store, person, CASE, 0, question.id, expected[(person.id, question.id)])

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        list(pool.map(student, people))
    recorded = {(s, q): o for s, q, o in rows(store, host.session_id)}
    assert recorded == expected
    assert C.live(store, host.session_id, CASE).answered == len(people)


def test_closing_while_answers_fly_keeps_every_acknowledged_answer(store):
    host = new_session(store)
    open_stage(store, host, 0)
    question = CASE.stages[0].questions[0]
    people = [C.join(store, host.code, f"c{i}") for i in range(30)]
    acknowledged, refused = set(), set()
    lock = threading.Lock()
    start = threading.Barrier(len(people) + 1)

    def student(person):
        start.wait()
        try:
            C.submit(store, person, CASE, 0, question.id, question.answer)
            with lock:
                acknowledged.add(person.id)
        except C.AnsweringClosed:
            with lock:
                refused.add(person.id)

    with ThreadPoolExecutor(max_workers=len(people) + 1) as pool:
        futures = [pool.submit(student, p) for p in people]
        start.wait()
        step(store, host, "close")
        for future in futures:
            future.result()
    recorded = {s for s, _, _ in rows(store, host.session_id)}
    assert recorded == acknowledged and not recorded & refused
    assert len(acknowledged) + len(refused) == len(people)


def test_separate_processes_submitting_at_once_lose_nothing(store, url):
    host = new_session(store)
    open_stage(store, host, 0)
    store_module.forget_stores()  # no pooled connection may cross into the children
    context = multiprocessing.get_context("spawn")
    processes, per_process = 4, 15
    with context.Pool(processes) as pool:
        outcomes = pool.starmap(submit_many, [(url, host.session_id, host.code, f"p{n}-", per_process,
                                               factories.case_dict(), 0) for n in range(processes)])
    store = open_store(url)
    expected = {(nick, q): o for outcome in outcomes for nick, q, o in outcome}
    query = (sa.select(class_students.c.nickname, class_answers.c.question_id, class_answers.c.option_id)
             .join(class_students, class_students.c.id == class_answers.c.student_id)
             .where(class_answers.c.session_id == host.session_id))
    recorded = {(n, q): o for n, q, o in store.run(lambda conn: conn.execute(query).all(), write=False)}
    assert len(expected) == processes * per_process * len(CASE.stages[0].questions)
    assert recorded == expected
    assert C.joined_count(store, host.session_id) == processes * per_process


def test_many_students_join_at_once_with_distinct_and_clashing_names(store):
    host = new_session(store)
    names = [f"s{i}" for i in range(30)] + ["same", "Same", "SAME", "sAme", "same"] * 2
    outcomes = []
    lock = threading.Lock()

    def attempt(name):
        try:
            student = C.join(store, host.code, name)
            result = student.nickname
        except C.NicknameTaken:
            result = "taken"
        with lock:
            outcomes.append(result)

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        list(pool.map(attempt, names))
    assert outcomes.count("taken") == 9 and len([o for o in outcomes if o.lower() == "same"]) == 1
    assert C.joined_count(store, host.session_id) == 31


# --- a restart in the middle of a session ----------------------------------------------

def test_a_restart_mid_session_resumes_for_instructor_and_students(store, url):
    host = new_session(store)
    ann, bob = C.join(store, host.code, "Ann"), C.join(store, host.code, "Bob")
    open_stage(store, host, 1)
    q = CASE.stages[1].questions[0]
    C.submit(store, ann, CASE, 1, q.id, q.answer)
    C.submit(store, bob, CASE, 1, q.id, "lipoma")

    store_module.forget_stores()  # the server restarts: new processes, no memory of anyone
    C.forget_polls()
    fresh = open_store(url)
    assert fresh is not store
    with pytest.raises(C.NotHost):
        step(fresh, C.Host(host.session_id, host.code, "lost-with-the-old-process"), "close")
    resumed = C.take_control(fresh, host.code, passcode=PASSCODE, configured=PASSCODE)
    state = C.session_state(fresh, resumed.session_id)
    assert (state.stage_index, state.phase) == (1, C.OPEN)
    ann_again = C.rejoin(fresh, host.code, ann.seat)
    assert ann_again.id == ann.id and C.my_answers(fresh, ann_again) == {q.id: q.answer}
    C.submit(fresh, ann_again, CASE, 1, q.id, "abscess")  # answering goes on
    state = step(fresh, resumed, "reveal")
    view = C.student_view(CASE, state, C.my_answers(fresh, ann_again))
    assert view.current.questions[0].result.chosen.id == "abscess"
    assert len(C.result_rows(fresh, resumed, CASE)) == 2


# --- the database drops every connection in the middle of a session --------------------

@pytest.mark.parametrize("url", [b for b in BACKENDS if b.id == "postgres"], indirect=True)
def test_a_database_restart_mid_session_costs_no_answer_and_no_error(store, url):
    """PostgreSQL restarted (or a proxy cut idle connections): every pooled connection is dead.

    The next read and the next answer each go through on a new connection, and each answer is
    stored once: a statement that failed on a dead connection never committed, so it is run again.
    """
    host = new_session(store)
    ann, bob = C.join(store, host.code, "Ann"), C.join(store, host.code, "Bob")
    open_stage(store, host, 1)
    q = CASE.stages[1].questions[0]
    C.submit(store, ann, CASE, 1, q.id, q.answer)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:  # what a restart does to the app's pooled connections
            cut = conn.execute(sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    finally:
        engine.dispose()
    assert cut >= 1
    assert C.session_state(store, host.session_id).phase == C.OPEN
    C.submit(store, bob, CASE, 1, q.id, "lipoma")
    assert C.my_answers(store, bob) == {q.id: "lipoma"}
    state = step(store, host, "reveal")
    assert sorted(row["option_id"] for row in C.result_rows(store, host, CASE)) == sorted([q.answer, "lipoma"])
    assert state.phase == C.REVEALED


@pytest.mark.parametrize("url", [b for b in BACKENDS if b.id == "postgres"], indirect=True)
def test_a_connection_lost_during_the_commit_is_not_run_again_and_the_message_says_so(store, url):
    """The commit may have reached the server before the connection died: running it again could
    save an answer twice, so the person is told it may or may not have been saved."""
    from sqlalchemy import event

    host = new_session(store)
    ann = C.join(store, host.code, "Ann")
    open_stage(store, host, 1)
    q = CASE.stages[1].questions[0]
    killer = sa.create_engine(url, poolclass=sa.pool.NullPool)
    calls = []

    def cut_this_connection(conn):
        calls.append(1)
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with killer.begin() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    event.listen(store.engine, "commit", cut_this_connection)
    try:
        with pytest.raises(store_module.StoreError, match="may or may not have been saved"):
            C.submit(store, ann, CASE, 1, q.id, q.answer)
    finally:
        event.remove(store.engine, "commit", cut_this_connection)
        killer.dispose()
    assert calls == [1]  # tried once
    assert C.my_answers(store, ann) in ({}, {q.id: q.answer})
