"""Where content, sources and the database are: one environment variable each."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    content_dir: Path
    database_url: str
    sources_dirs: tuple[Path, ...]  # searched in order
    instructor_passcode: str | None


def current() -> Settings:
    """Read the settings afresh, so tests and deployments can change them by environment."""
    content = Path(os.environ.get("QUIZ_CONTENT_DIR") or REPO / "content")
    database = os.environ.get("QUIZ_DATABASE_URL") or f"sqlite:///{REPO / 'data' / 'quiz.sqlite3'}"
    sources = os.environ.get("QUIZ_SOURCES_DIR")
    return Settings(
        content_dir=content,
        database_url=database,
        sources_dirs=tuple(Path(part) for part in (sources or "").split(os.pathsep) if part),
        instructor_passcode=os.environ.get("QUIZ_INSTRUCTOR_PASSCODE") or None,
    )
