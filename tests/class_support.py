"""Helpers for the live-class tests: database URLs (SQLite, and PostgreSQL when asked) and workers.

``QUIZ_TEST_POSTGRES_URL`` (e.g. from ``bash .ci/postgres.sh``) adds a PostgreSQL variant of
every test that takes the ``class_url`` fixture; those variants are marked ``postgres``.
"""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from quiz import classroom
from quiz import store as store_module

POSTGRES_URL = os.environ.get("QUIZ_TEST_POSTGRES_URL")
# In CI the PostgreSQL runs are part of the suite: a missing server fails them instead of skipping.
POSTGRES_REQUIRED = bool(os.environ.get("CI"))
PASSCODE = "test-passcode"

BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not POSTGRES_URL and not POSTGRES_REQUIRED,
                                   reason="QUIZ_TEST_POSTGRES_URL is not set (scripts/test.sh starts a server)")])]


def database_url(backend: str, tmp_path) -> str:
    """A fresh database for one test: a new SQLite file, or the PostgreSQL database with empty class tables."""
    store_module.forget_stores()
    classroom.forget_polls()
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'class.sqlite3'}"
    if not POSTGRES_URL:
        pytest.fail("QUIZ_TEST_POSTGRES_URL is not set: in CI, scripts/test.sh starts PostgreSQL and sets it")
    engine = sa.create_engine(POSTGRES_URL)
    try:
        store_module.metadata.drop_all(engine)  # a throwaway test database: every table starts empty
        store_module.metadata.create_all(engine)
    finally:
        engine.dispose()
    return POSTGRES_URL


def submit_many(url: str, session_id: int, code: str, prefix: str, students: int, case_dict: dict,
                stage_index: int, rounds: int = 3) -> list[tuple[str, str, str]]:
    """In a separate process: ``students`` join and each answers every question of the stage
    ``rounds`` times (changing their mind, and resubmitting the last choice once more, as a retry).

    Returns (nickname, question_id, final option) for every answer that was acknowledged.
    """
    import factories

    from quiz.store import open_store

    store = open_store(url)
    case = factories.load_case(case_dict)
    questions = case.stages[stage_index].questions
    acknowledged: dict[tuple[str, str], str] = {}
    joined = [classroom.join(store, code, f"{prefix}{i}") for i in range(students)]
    for round_ in range(rounds):
        for student in joined:
            for question in questions:
                option = question.options[(student.id + round_) % len(question.options)].id
                classroom.submit(store, student, case, stage_index, question.id, option)
                acknowledged[(student.nickname, question.id)] = option
    for student in joined:  # a retry of the last answer must not count twice
        for question in questions:
            classroom.submit(store, student, case, stage_index, question.id, acknowledged[(student.nickname, question.id)])
    store_module.forget_stores()
    return [(nickname, question_id, option) for (nickname, question_id), option in acknowledged.items()]


def guess_many(url: str, guesses: list[str], configured: str) -> list[str]:
    """In a separate process: try each passcode once; "right", "wrong" or "locked" for each."""
    from quiz.store import open_store

    store = open_store(url)
    outcomes = []
    for guess in guesses:
        try:
            outcomes.append("right" if classroom.try_passcode(store, guess, configured) else "wrong")
        except classroom.PasscodeLocked:
            outcomes.append("locked")
    store_module.forget_stores()
    return outcomes
