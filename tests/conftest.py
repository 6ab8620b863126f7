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
