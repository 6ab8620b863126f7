"""Instructor authority: the host token and the instructor passcode. No I/O.

Instructor authority is a random *host token* returned when a session is created (or taken
over with the instructor passcode). Only its SHA-256 is stored; every instructor operation
must present the token. The pages keep it in the instructor's server-side session state, never
in a URL, so a student who knows the join code can follow the session but never steer it.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from .errors import NotHost


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


def require_passcode(given: str | None, configured: str | None) -> None:
    if not configured:
        raise NotHost("No instructor passcode is set: set QUIZ_INSTRUCTOR_PASSCODE or instructor_passcode in "
                      ".streamlit/secrets.toml.")
    if not check_passcode(given, configured):
        raise NotHost("Wrong instructor passcode.")
