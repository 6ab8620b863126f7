"""Shared fixtures: the real content folder and helpers to play real vignettes."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from quiz import loader  # noqa: E402


@pytest.fixture(scope="session")
def content():
    """The repository's content folder, loaded once."""
    return loader.load_content(REPO / "content")


@pytest.fixture(scope="session")
def cases(content):
    assert content.cases, "no valid case in content/cases"
    return content.cases
