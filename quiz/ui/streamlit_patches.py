"""A fix for a race in Streamlit's server that can leave a student's page blank (docs/deploy.md, B5).

With ``runner.fastReruns = false`` (kept for live-class review B4), a browser session's script
thread runs one request after another and stops when none is left. Its messages reach the page
through the server's event loop, in order, and the session forgets the thread only when its last
event, ``SHUTDOWN``, is handled there. When a request (a tap, or the polling fragment's tick) is
handled after the thread stopped but before its last events were, Streamlit 1.67 starts a new
thread at once, and from then on drops every event of the old one as stale: the end of the last
run never reaches the page. Caught on a phone in a class of 300: a tap's full rerun sent its first
messages, the polling tick came in, and the page was left empty, with no polling timer.

:func:`install` holds such requests back, in the order they came, until the old thread's last
event is handled (a few milliseconds; at most :data:`MAX_WAIT_SECONDS`), so every message of the
old thread reaches the page first; then one new thread takes them, oldest first, merged as
Streamlit merges reruns. Nothing else changes. It depends on ``AppSession`` internals: ``tests/test_streamlit_patches.py`` checks them
against the installed Streamlit, so an upgrade that moves them fails a test instead of silently
losing the fix.
"""
from __future__ import annotations

import asyncio
import weakref
from typing import Any, Callable

import streamlit
from streamlit.logger import get_logger
from streamlit.runtime.app_session import AppSession, AppSessionState
from streamlit.runtime.scriptrunner import ScriptRunnerEvent

WRITTEN_FOR = "1.67.0"  # the Streamlit version whose AppSession this was read against
MAX_WAIT_SECONDS = 1.0  # then the old behaviour: a runner that never reports its end is not waited for
_MARK = "_quiz_waits_for_old_runner"
HELD_BACK = "held back a new script runner until the previous one's events were handled (B5)"
_LOGGER = get_logger(__name__)  # Streamlit's own logger: its level and format (server.log level, default info)

_held: weakref.WeakKeyDictionary[Any, list] = weakref.WeakKeyDictionary()  # session -> its requests, in order


def hold_or_create(session: Any, rerun_data: Any, create: Callable[[Any, Any], None]) -> None:
    """Where Streamlit would start a new runner: do it now, or hold the request back, in arrival order.

    A request is held while the session still holds a previous runner (stopped, its last events
    still waiting on the event loop) or while earlier requests are held, so none overtakes another.
    """
    loop = session._event_loop
    try:
        on_loop = asyncio.get_running_loop() is loop
    except RuntimeError:
        on_loop = False
    if not on_loop:  # e.g. a file watcher's thread (developer mode): as Streamlit does
        create(session, rerun_data)
        return
    queue = _held.get(session)
    if queue is None and session._scriptrunner is None:
        create(session, rerun_data)
        return
    if queue is None:
        queue = _held[session] = []
        loop.call_later(MAX_WAIT_SECONDS, _give_up, session, queue, create)
    queue.append(rerun_data)


def _give_up(session: Any, queue: list, create: Callable[[Any, Any], None]) -> None:
    if _held.get(session) is queue:  # still the same wait: the old runner never reported its end
        release(session, create, timed_out=True)


def release(session: Any, create: Callable[[Any, Any], None], timed_out: bool = False) -> None:
    """Start a runner for the held requests, oldest first; later ones join it as Streamlit merges reruns."""
    queue = _held.pop(session, None)
    if not queue:
        return
    if session._state == AppSessionState.SHUTDOWN_REQUESTED:
        return
    _LOGGER.info("%s%s: %d request(s)", HELD_BACK, " (gave up waiting)" if timed_out else "", len(queue))
    runner = None
    for rerun_data in queue:
        fragment_id = getattr(rerun_data, "fragment_id", None)
        if fragment_id and not session.has_fragment(fragment_id):
            continue  # removed by the run that just ended: moot, as Streamlit treats it
        try:
            if runner is None or not runner.request_rerun(rerun_data):
                create(session, rerun_data)
                runner = session._scriptrunner
        except Exception as error:  # as handle_backmsg would: an error page, not a lost request
            session.handle_backmsg_exception(error)
            return


def after_event(session: Any, event: Any, create: Callable[[Any, Any], None]) -> None:
    """Once the old runner's SHUTDOWN is handled (every event of it was), release what waited for it."""
    if event == ScriptRunnerEvent.SHUTDOWN and session._scriptrunner is None and session in _held:
        release(session, create)


def install() -> None:
    """Patch ``AppSession`` once per process (idempotent); AppTest never reaches it."""
    if getattr(AppSession._create_scriptrunner, _MARK, False):
        return
    create = AppSession._create_scriptrunner
    handle = AppSession._handle_scriptrunner_event_on_event_loop

    def _create_scriptrunner(self, initial_rerun_data):
        hold_or_create(self, initial_rerun_data, create)

    def _handle_scriptrunner_event_on_event_loop(self, *args, **kwargs):
        handle(self, *args, **kwargs)
        after_event(self, kwargs["event"] if "event" in kwargs else args[1], create)

    for patched, original in ((_create_scriptrunner, create), (_handle_scriptrunner_event_on_event_loop, handle)):
        setattr(patched, _MARK, True)
        patched.unpatched = original
        patched.__doc__ = original.__doc__
    AppSession._create_scriptrunner = _create_scriptrunner
    AppSession._handle_scriptrunner_event_on_event_loop = _handle_scriptrunner_event_on_event_loop


def installed() -> bool:
    return all(getattr(method, _MARK, False) for method in
               (AppSession._create_scriptrunner, AppSession._handle_scriptrunner_event_on_event_loop))


def written_for_this_streamlit() -> bool:
    return streamlit.__version__ == WRITTEN_FOR
