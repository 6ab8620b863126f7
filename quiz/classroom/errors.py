"""What can go wrong in a class session; every message is for the person who tried."""
from __future__ import annotations


class ClassError(Exception):
    """A class-session move that cannot be done; the message is for the person who tried."""


class NoSuchSession(ClassError):
    pass


class SessionEnded(ClassError):
    pass


class NicknameTaken(ClassError):
    pass


class NoSuchStudent(ClassError):
    pass


class BadInput(ClassError):
    pass


class NotHost(ClassError):
    """The caller does not hold this session's current host token."""


class PasscodeLocked(NotHost):
    """Too many wrong instructor passcodes lately: no guess is checked until ``until`` (UTC)."""

    def __init__(self, message: str, until):
        super().__init__(message)
        self.until = until


class NotAllowed(ClassError):
    """The session's state does not allow this action (e.g. revealing before anyone could answer)."""


class Stale(ClassError):
    """The session moved on since the caller looked (a double click, another instructor window)."""


class AnsweringClosed(ClassError):
    pass
