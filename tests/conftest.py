"""Shared fixtures: the real content folder and helpers to play real vignettes."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from quiz.content import loader  # noqa: E402


@pytest.fixture(scope="session")
def content():
    """The repository's content folder, loaded once."""
    return loader.load_content(REPO / "content")


@pytest.fixture(scope="session")
def cases(content):
    assert content.cases, "no valid case in content/cases"
    return content.cases


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A fresh SQLite progress database for the app under test (``QUIZ_DATABASE_URL``); its URL.

    Test files of the real app use it for every test with ``pytestmark = pytest.mark.usefixtures("database")``.
    """
    from quiz import store

    url = f"sqlite:///{tmp_path / 'progress.sqlite3'}"
    monkeypatch.setenv("QUIZ_DATABASE_URL", url)
    yield url
    store.forget_stores()  # the next test's URL gets a new engine


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright; a missing browser fails, it never skips."""
    from streamlit_server import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
