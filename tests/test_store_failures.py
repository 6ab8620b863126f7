"""A failing progress database (security-probe.md F10, F11; issue 10 item 6): a clear message on every
page, never a traceback box, and nothing shown as saved that was not stored. Each test makes the
failure first: the database file deleted under the running app, made read-only, corrupted or full.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from quiz import store as store_module
from quiz.content import loader

from streamlit.testing.v1 import AppTest

from apptest_support import answer_stage, as_learner, assert_no_exception, fresh_app, page_app, page_text
from conftest import REPO
from learner_support import learner_of

CASES = loader.load_content(REPO / "content").cases
CASE = CASES[min(CASES, key=lambda c: len(CASES[c].stages))]


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch):
    path = tmp_path / "progress.sqlite3"
    monkeypatch.setenv("QUIZ_DATABASE_URL", f"sqlite:///{path}")
    yield path
    release(path)
    store_module.forget_stores()


def best(question):
    return question.answer


def database_files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def make_read_only(path: Path) -> None:
    """What an administrator's ``chattr +i`` (or a wrong owner) does to a database in use.

    As root, permission bits do not stop writes, so the file and its WAL are made immutable; as
    another user they lose their write bits and the pool is emptied, since open handles keep writing.
    """
    targets = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", *map(str, targets)], check=True)
    else:
        for target in targets:
            target.chmod(0o444)
        store_module.dispose_all()


def release(path: Path) -> None:
    targets = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
    if targets and os.geteuid() == 0:
        subprocess.run(["chattr", "-i", *map(str, targets)], check=False)
    for target in targets:
        target.chmod(0o644)


def another_visit(page: str | None = None, **query: str) -> AppTest:
    """A new browser session on the same running server: the open store (its pool) is kept."""
    at = (AppTest.from_file(str(REPO / "app.py"), default_timeout=60) if page is None else
          AppTest.from_string(f"from quiz.ui import {page}\n{page}.render()\n", default_timeout=60))
    learner = query.pop("learner", None)
    for key, value in query.items():
        at.query_params[key] = value
    if learner is not None:
        as_learner(at, learner)
    return at.run()


def stored_answers(path: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(store_module.answers)).scalar_one()
    finally:
        engine.dispose()


# --- F11: the database file deleted while the app runs -----------------------------------

def test_f11_a_write_after_the_file_was_deleted_is_refused_not_lost(database):
    store = store_module.open_store(f"sqlite:///{database}")
    learner = learner_of(store, "Alice")
    for path in database_files(database):
        path.unlink()  # rm progress.sqlite3*
    with pytest.raises(store_module.StoreError, match="deleted or replaced while the app was running"):
        store.current_attempt(learner, CASE.id)
    # afterwards the app goes on with a new file at the path, and what it stores is really there
    again = learner_of(store, "Alice")
    store.current_attempt(again, CASE.id)
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store_module.attempts)).scalar_one() == 1
    engine.dispose()


def test_f11_the_player_never_shows_feedback_for_answers_it_could_not_store(database):
    at = fresh_app(case=CASE.id, learner="Deleted")
    at = answer_stage(at, CASE, 0, best)
    assert "Feedback" in page_text(at)
    assert stored_answers(database) == len(CASE.stages[0].questions)
    continue_label = "See what the authors did" if len(CASE.stages) == 1 else "Continue to stage 2"
    at = next(b for b in at.button if b.label == continue_label).click().run()
    for path in database_files(database):
        path.unlink()
    at = answer_stage(at, CASE, 1, best)
    assert_no_exception(at)
    text = page_text(at)
    assert "Your answers were not saved" in text and "deleted or replaced" in text
    assert "Feedback" not in text
    assert any(b.label == "Commit answers" for b in at.button)  # the stage is still open to commit again


# --- read-only and full: said in words ---------------------------------------------------

def test_a_read_only_database_is_reported_as_a_permissions_problem(database):
    store = store_module.open_store(f"sqlite:///{database}")
    learner_of(store, "Reader")
    make_read_only(database)
    with pytest.raises(store_module.StoreError) as error:
        learner_of(store, "Writer")
    message = str(error.value)
    assert "cannot be written" in message and "permissions" in message, message
    assert "disk i/o error" not in message.lower()
    release(database)
    assert learner_of(store, "Writer")  # and it works again once the file is writable


def test_a_full_disk_is_said_in_words(database):
    store = store_module.open_store(f"sqlite:///{database}")
    learner_of(store, "Before")

    def tiny(dbapi_connection, _record):  # SQLite's own "database or disk is full", from a page quota
        dbapi_connection.execute("PRAGMA max_page_count = 1")

    event.listen(store.engine, "connect", tiny)
    store.engine.dispose()
    try:
        with pytest.raises(store_module.StoreError, match="is full: nothing was saved"):
            store.run(lambda conn: conn.execute(store_module.learners.insert(),
                                                [{"name": f"n{i}" * 20, "created_at": store_module.now()}
                                                 for i in range(2000)]))
    finally:
        event.remove(store.engine, "connect", tiny)
        store.engine.dispose()


# --- F10: every page says it in words ----------------------------------------------------

@pytest.mark.parametrize("page", ["library", "dashboard", "review"])
def test_f10_pages_with_a_read_only_database_show_a_message_not_a_traceback(database, page):
    at = page_app(page, learner="First")  # the store is open and the database fine
    assert_no_exception(at)
    make_read_only(database)
    at = another_visit(page, learner="Second")  # a new browser: opening a page writes nothing...
    assert_no_exception(at)
    at.text_input(key="learner-name").input("Second").run()  # ...typing a display name does
    assert_no_exception(at)
    shown = " ".join(e.value for e in (*at.error, *at.warning))
    assert "cannot be written" in shown and "permissions" in shown, shown
    if page == "library":
        assert any(b.label == "Open case" for b in at.button)  # the cards are still there


def test_f10_the_whole_app_catches_a_database_failure_on_any_page(database):
    fresh_app(learner="First")
    make_read_only(database)
    at = another_visit(learner="Second")
    at.text_input(key="learner-name").input("Second").run()
    assert_no_exception(at)
    assert any("permissions" in e.value for e in (*at.error, *at.warning))


def test_f10_deleting_progress_on_a_read_only_database_does_not_say_deleted(database):
    at = fresh_app(case=CASE.id, learner="Keeper")
    answer_stage(at, CASE, 0, best)
    dashboard = page_app("dashboard", learner="Keeper")
    make_read_only(database)
    dashboard.checkbox(key="reset-confirm").check().run()
    dashboard.button(key="reset-progress").click().run()
    assert_no_exception(dashboard)
    text = page_text(dashboard)
    assert "Your progress was deleted" not in text and "Nothing was deleted" in text
    release(database)
    assert stored_answers(database) == len(CASE.stages[0].questions)


# --- issue 10 item 6: each failure on each page ---------------------------------------------------
# Every page below is opened on a good database, then the database is deleted, made read-only,
# corrupted or filled under the running app, then the page does what a learner, a phone or the
# instructor does next. Never a traceback; the failure said in words; nothing claimed as saved.

KINDS = ("deleted", "read-only", "corrupted", "full")
SAID = {"deleted": "deleted or replaced", "read-only": "cannot be written", "corrupted": "damaged",
        "full": "is full: nothing was saved"}


def corrupt(path: Path) -> None:
    """Garbage over the file in place (same inode, as a bad disk or a stray ``dd`` leaves it)."""
    store_module.dispose_all()  # the last connection checkpoints the WAL into the file and removes it
    with open(path, "r+b") as file:
        file.write(b"this is not a database" * 200)


def fill(url: str, request) -> None:
    """Every write meets SQLite's own SQLITE_FULL, as on a full disk.

    ``PRAGMA max_page_count`` (see :func:`test_a_full_disk_is_said_in_words`) fails only writes that
    need a new page, so a page's one small write may still fit; the driver's error is raised here
    for every INSERT, UPDATE and DELETE instead, reads go on as on a real full disk.
    """
    import sqlite3

    engine = store_module.engine_for(url)

    def full(cursor, statement, parameters, context):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(engine, "do_execute", full)
    request.addfinalizer(lambda: event.remove(engine, "do_execute", full))


@pytest.fixture
def break_database(database, request):
    def broken(kind: str) -> None:
        if kind == "deleted":
            for path in database_files(database):
                path.unlink()
        elif kind == "read-only":
            make_read_only(database)
        elif kind == "corrupted":
            corrupt(database)
        else:
            fill(f"sqlite:///{database}", request)
    return broken


def said(at: AppTest, kind: str) -> str:
    # class pages show messages as plain text: markdown escaped, a word joiner after ":" (no autolink)
    shown = " ".join(e.value for e in (*at.error, *at.warning)).replace("\\", "").replace("\u2060", "")
    assert SAID[kind] in shown, (kind, shown)
    return shown


def failed_well(at: AppTest, kind: str) -> str:
    assert_no_exception(at)
    said(at, kind)
    return page_text(at)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("page", ["library", "dashboard", "review"])
def test_each_failure_on_cases_my_progress_and_review_is_said_not_a_traceback(break_database, page, kind):
    at = page_app(page, learner="First")
    assert_no_exception(at)
    break_database(kind)
    at.text_input(key="learner-name").input("First").run()  # the first thing the learner stores
    failed_well(at, kind)
    if page == "library" and kind in ("read-only", "full"):
        assert any(b.label == "Open case" for b in at.button)  # reading still works: the cards stay


@pytest.mark.parametrize("kind", KINDS)
def test_each_failure_on_the_exam_page_starts_no_exam_and_says_why(database, break_database, kind):
    at = page_app("exam", learner="Examinee")
    at.multiselect(key="exam-chosen").set_value([CASE.id]).run()
    assert_no_exception(at)
    break_database(kind)
    at = next(b for b in at.button if b.label == "Start the exam").click().run()
    text = failed_well(at, kind)
    assert "Time left" not in text and "Commit answers" not in text  # no exam shown as started
    release(database)
    if kind in ("read-only", "full"):  # the file itself is fine: nothing of the exam is in it
        engine = sa.create_engine(f"sqlite:///{database}")
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(store_module.exams)).scalar_one() == 0
        engine.dispose()


@pytest.fixture
def class_pages(database, tmp_path, monkeypatch):
    """The live-class pages on this database, with the class tests' small case and passcode."""
    import factories
    import streamlit as st
    from class_support import PASSCODE
    from quiz import classroom

    monkeypatch.setenv("QUIZ_CONTENT_DIR", str(factories.write_content(tmp_path / "content")))
    monkeypatch.setenv("QUIZ_INSTRUCTOR_PASSCODE", PASSCODE)
    monkeypatch.delenv("QUIZ_PUBLIC_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    store_module.forget_stores()
    yield
    classroom.forget_polls()


@pytest.mark.parametrize("kind", KINDS)
def test_each_failure_on_the_class_join_page_joins_no_one(class_pages, break_database, kind):
    import test_class_app as cls
    from quiz.ui import class_student

    _host, code = cls.open_session("start")
    phone = cls.page("class_student", "class", join=code)
    phone.text_input(key="class-nickname-input").input("Ann")
    break_database(kind)
    next(b for b in phone.button if b.label == "Join").click()
    failed_well(phone.run(), kind)
    joined = class_student.STUDENT_KEY in phone.session_state and phone.session_state[class_student.STUDENT_KEY]
    assert not joined
    assert not phone.radio, "no question shown to a student who could not be stored"


@pytest.mark.parametrize("kind", KINDS)
def test_each_failure_on_a_class_answer_is_an_error_never_saved(class_pages, break_database, kind):
    import test_class_app as cls

    _host, code = cls.open_session("start", "open")
    ann = cls.student(code, "Ann")
    question = cls.CASE.stages[0].questions[0]
    cls.radio(ann, question.id).set_value(question.answer)  # one tap at a time, as on a phone:
    assert "Not saved yet" in page_text(cls.ok(ann.run()))  # the option, then how sure
    break_database(kind)
    cls.sure(ann, question.id).set_value("high")
    text = failed_well(ann.run(), kind)
    assert "Saved" not in text


@pytest.mark.parametrize("kind", KINDS)
def test_each_failure_on_the_instructor_page_is_said_and_the_class_does_not_move(class_pages, break_database,
                                                                                  database, kind):
    import test_class_app as cls
    from quiz import classroom

    host, _code = cls.open_session("start")
    break_database(kind)
    host = host.button(key="class-do-open").click().run()
    failed_well(host, kind)
    release(database)
    if kind in ("read-only", "full"):
        store = store_module.Store(f"sqlite:///{database}")
        [phase] = store.run(lambda conn: conn.execute(sa.select(classroom.storage.class_sessions.c.phase))
                            .scalars().all(), write=False)
        assert phase == "waiting", "answering was not opened"


# --- the case a live class plays stays hidden when the lookup fails (fail closed, not "no class") ----------

@pytest.mark.parametrize("kind", KINDS)
def test_each_failure_keeps_the_class_case_closed_on_the_cases_page(class_pages, break_database, kind):
    import test_class_app as cls

    cls.open_session("start")  # a class is running on cls.CASE
    library = page_app("library", learner="Self-study")
    assert_no_exception(library)
    [held] = [b for b in library.button if b.key == f"open-{cls.CASE.id}"]
    assert held.disabled, "the class's case is closed while the database works"
    break_database(kind)
    library.run()
    assert_no_exception(library)
    opens = [b for b in library.button if b.key.startswith("open-")]
    assert opens, "the cards stay"
    if kind in ("deleted", "corrupted"):  # reads fail too (read-only and full disks still read)
        said(library, kind)
    if kind == "deleted":  # the class went with the file: the page reads the new, empty one at that path
        return
    assert all(b.key != f"open-{cls.CASE.id}" or b.disabled for b in opens)
    if kind == "corrupted":  # the lookup itself fails: no case opens until it is known
        assert all(b.disabled for b in opens)
        assert next(b for b in library.button if b.key == "random-case").disabled


@pytest.mark.parametrize("kind", KINDS)
def test_each_failure_shows_nothing_of_the_class_case_in_the_player(class_pages, break_database, kind):
    import test_class_app as cls

    cls.open_session("start")
    break_database(kind)
    player = page_app("library", learner="Self-study", case=cls.CASE.id)
    assert_no_exception(player)
    if kind == "deleted":  # the class went with the file: the case plays on the new, empty one at that path
        return
    text = page_text(player)
    first = cls.CASE.stages[0]
    assert not player.radio and "Commit" not in text
    assert all(f.text[:40] not in text for f in first.findings), "no finding of the class's case"
    if kind == "corrupted":
        said(player, kind)
    else:
        assert "in use by a live class" in text


@pytest.mark.parametrize("kind", KINDS)
def test_each_failure_on_the_presenter_view_is_said_and_shows_no_key(class_pages, break_database, kind):
    import test_class_app as cls

    _host, code = cls.open_session("start", "open")
    screen = cls.presenter(code)
    break_database(kind)
    screen.run()
    assert_no_exception(screen)
    cls.assert_read_only(screen)  # still the projector: no control appears with the error
    text = cls.sent(screen)
    for secret in (*cls.HIDDEN_UNTIL_REVEAL, *cls.HIDDEN_UNTIL_END, *cls.LATER, "Best answer"):
        assert secret not in text, f"{secret!r} on the projector before the reveal"
    if kind in ("deleted", "corrupted"):  # reads fail too (read-only and full disks still read)
        said(screen, kind)
    else:
        assert code in text and cls.CASE.stages[0].questions[0].prompt in text  # the page goes on showing
