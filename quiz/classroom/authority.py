"""Instructor authority: the host token, the instructor passcode and its lockout rule. No I/O.

Instructor authority is a random *host token* returned when a session is created (or taken
over with the instructor passcode). Only its SHA-256 is stored; every instructor operation
must present the token. The pages keep it in the instructor's server-side session state, never
in a URL, so a student who knows the join code can follow the session but never steer it.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .errors import NotHost

#: The shortest instructor passcode the app accepts: a passphrase, not a PIN.
MIN_PASSCODE_LENGTH = 12
#: After this many wrong passcodes within WINDOW, from any session or process, guessing is locked:
#: first for FIRST_LOCK after the latest failure, doubling with each further failure, at most MAX_LOCK.
FAILURES_BEFORE_LOCK = 5
WINDOW = timedelta(minutes=10)
FIRST_LOCK = timedelta(seconds=30)
MAX_LOCK = timedelta(minutes=15)


@dataclass(frozen=True)
class Host:
    """The instructor's proof of authority over one session. Keep it server-side only."""

    session_id: int
    code: str
    token: str = field(repr=False)


def digest(token: str) -> str:
    """What the database keeps of a secret: its SHA-256, never the secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_passcode(given: str | None, configured: str | None) -> bool:
    """True when an instructor passcode is configured and ``given`` equals it (constant time)."""
    if not configured or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), configured.strip().encode())


def passcode_problem(configured: str | None) -> str | None:
    """Why the configured passcode cannot be used (None when it can): missing, or too short to resist guessing."""
    if not configured or not configured.strip():
        return ("No instructor passcode is set: set QUIZ_INSTRUCTOR_PASSCODE or instructor_passcode in "
                ".streamlit/secrets.toml.")
    length = len(configured.strip())
    if length < MIN_PASSCODE_LENGTH:
        return (f"The instructor passcode is too short ({length} characters): set one of at least "
                f"{MIN_PASSCODE_LENGTH} characters, e.g. four unrelated words, and restart the app.")
    return None


def require_passcode(given: str | None, configured: str | None) -> None:
    problem = passcode_problem(configured)
    if problem:
        raise NotHost(problem)
    if not check_passcode(given, configured):
        raise NotHost("Wrong instructor passcode.")


def locked_until(failures: Sequence[datetime], moment: datetime) -> datetime | None:
    """Until when passcode guesses are refused, given the failures (and guesses in flight) of the last WINDOW.

    None when a guess may be checked now. The lock runs from the latest failure and doubles with
    every failure past the threshold, so a guesser anywhere gets a handful of tries per quarter hour.
    """
    recent = sorted(t for t in failures if t > moment - WINDOW)
    if len(recent) < FAILURES_BEFORE_LOCK:
        return None
    lock = min(FIRST_LOCK * 2 ** (len(recent) - FAILURES_BEFORE_LOCK), MAX_LOCK)
    until = recent[-1] + lock
    return until if until > moment else None
