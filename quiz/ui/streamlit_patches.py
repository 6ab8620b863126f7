"""A fix for a race in Streamlit's server that can leave a student's page blank (docs/deploy.md, B5).

With ``runner.fastReruns = false`` (kept for live-class review B4), a browser session's script
thread runs one request after another and stops when none is left. Its messages reach the page
through the server's event loop, in order, and the session forgets the thread only when its last
event, ``SHUTDOWN``, is handled there. When a request (a tap, or the polling fragment's tick) is
handled after the thread stopped but before its last events were, Streamlit 1.67 starts a new
thread at once, and from then on drops every event of the old one as stale: the end of the last
run never reaches the page. Caught on a phone in a class of 300: a tap's full rerun sent its first
messages, the polling tick came in, and the page was left empty, with no polling timer.

:func:`install` makes the new thread wait until the old one's events are handled (a few
milliseconds; at most :data:`MAX_WAIT_SECONDS`), so they all reach the page first. Nothing else
changes. It depends on ``AppSession`` internals: ``tests/test_streamlit_patches.py`` checks them
against the installed Streamlit, so an upgrade that moves them fails a test instead of silently
losing the fix.
"""
from __future__ import annotations

from typing import Any, Callable

import streamlit
from streamlit.logger import get_logger
from streamlit.runtime.app_session import AppSession, AppSessionState

WRITTEN_FOR = "1.67.0"  # the Streamlit version whose AppSession this was read against
RETRY_SECONDS = 0.005
MAX_WAIT_SECONDS = 1.0
_MARK = "_quiz_waits_for_old_runner"
HELD_BACK = "held back a new script runner until the previous one's events were handled (B5)"
_LOGGER = get_logger(__name__)  # Streamlit's own logger: its level and format (server.log level, default info)


def create_when_free(session: Any, rerun_data: Any, create: Callable[[Any, Any], None], waited: float = 0.0) -> None:
    """Run ``create(session, rerun_data)`` once ``session`` no longer holds a previous script runner.

    While it does, that runner has stopped but its last events still wait on the event loop:
    check again shortly (on the loop, after them). A runner another request started meanwhile
    takes the request itself; one that refuses it is waited for too.
    """
    old = session._scriptrunner
    if old is None or waited >= MAX_WAIT_SECONDS:
        if waited:
            _LOGGER.info("%s: %.0f ms", HELD_BACK, waited * 1000)
        create(session, rerun_data)
        return

    def again() -> None:
        if session._state == AppSessionState.SHUTDOWN_REQUESTED:
            return
        fragment_id = getattr(rerun_data, "fragment_id", None)
        if fragment_id and not session.has_fragment(fragment_id):
            return  # the run that just finished removed it; the request is moot, as Streamlit treats it
        current = session._scriptrunner
        if current is not None and current is not old and current.request_rerun(rerun_data):
            return
        create_when_free(session, rerun_data, create, waited + RETRY_SECONDS)

    session._event_loop.call_later(RETRY_SECONDS, again)


def install() -> None:
    """Patch ``AppSession`` once per process (idempotent); AppTest never reaches it."""
    if getattr(AppSession._create_scriptrunner, _MARK, False):
        return
    original = AppSession._create_scriptrunner

    def _create_scriptrunner(self, initial_rerun_data):
        create_when_free(self, initial_rerun_data, original)

    setattr(_create_scriptrunner, _MARK, True)
    _create_scriptrunner.unpatched = original
    _create_scriptrunner.__doc__ = original.__doc__
    AppSession._create_scriptrunner = _create_scriptrunner


def installed() -> bool:
    return bool(getattr(AppSession._create_scriptrunner, _MARK, False))


def written_for_this_streamlit() -> bool:
    return streamlit.__version__ == WRITTEN_FOR
