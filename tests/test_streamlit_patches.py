"""The fix for Streamlit's stale-runner race (quiz.ui.streamlit_patches; docs/deploy.md, B5).

The race needs a busy server to show (1 page in 300, once); these tests pin its two halves: the
Streamlit internals the fix relies on are still there, and a new script runner starts only after
every event the previous one left on the event loop was handled, so none of them is dropped.
"""
from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace

from streamlit.runtime.app_session import AppSession, AppSessionState

from quiz.ui import streamlit_patches


def test_the_fix_was_written_for_the_installed_streamlit_and_its_internals_are_there():
    assert streamlit_patches.written_for_this_streamlit(), (
        "Streamlit was upgraded: check quiz/ui/streamlit_patches.py against the new AppSession, then WRITTEN_FOR")
    rerun = inspect.getsource(AppSession.request_rerun)
    assert "self._scriptrunner.request_rerun(rerun_data)" in rerun and "self._create_scriptrunner(rerun_data)" in rerun
    handle = inspect.getsource(AppSession._handle_scriptrunner_event_on_event_loop)
    assert "sender is not self._scriptrunner" in handle  # the events a new runner makes stale
    assert "self._scriptrunner = None" in handle  # on the old runner's SHUTDOWN


class FakeSession(SimpleNamespace):
    def has_fragment(self, fragment_id):
        return fragment_id in self.fragments


def play(with_fix: bool) -> list[str]:
    """A runner stopped with two events still queued; a polling tick asks for a new runner."""
    loop = asyncio.new_event_loop()
    happened: list[str] = []
    old = object()
    session = FakeSession(_scriptrunner=old, _event_loop=loop, _state=AppSessionState.APP_IS_RUNNING,
                          fragments={"poll"})

    def create(s, data):
        s._scriptrunner = "new"
        happened.append(f"new runner for {data.fragment_id}")

    def event(name):  # what _handle_scriptrunner_event_on_event_loop does with an event of ``old``
        if session._scriptrunner is not old:
            happened.append(f"dropped {name}")
            return
        happened.append(name)
        if name == "shutdown":
            session._scriptrunner = None

    tick = SimpleNamespace(fragment_id="poll")
    loop.call_soon(lambda: (streamlit_patches.create_when_free(session, tick, create) if with_fix
                            else create(session, tick)))
    loop.call_soon(event, "the full run's elements and end")
    loop.call_soon(event, "shutdown")
    loop.run_until_complete(asyncio.sleep(0.05))
    loop.close()
    return happened


def test_without_the_fix_the_last_run_is_dropped_and_with_it_every_event_arrives_first():
    assert play(with_fix=False) == ["new runner for poll", "dropped the full run's elements and end",
                                    "dropped shutdown"]
    assert play(with_fix=True) == ["the full run's elements and end", "shutdown", "new runner for poll"]


def test_a_runner_started_meanwhile_takes_the_request_and_nothing_waits_past_the_limit():
    loop = asyncio.new_event_loop()
    taken = []
    newer = SimpleNamespace(request_rerun=lambda data: taken.append(data) or True)
    old = object()
    session = FakeSession(_scriptrunner=old, _event_loop=loop, _state=AppSessionState.APP_IS_RUNNING,
                          fragments=set())
    created = []
    tap = SimpleNamespace(fragment_id=None)
    streamlit_patches.create_when_free(session, tap, lambda s, d: created.append(d))
    loop.call_soon(setattr, session, "_scriptrunner", newer)  # a tap's request started another runner
    loop.run_until_complete(asyncio.sleep(0.05))
    assert taken == [tap] and created == []

    session._scriptrunner = old  # an old runner that never reports its end
    streamlit_patches.create_when_free(session, tap, lambda s, d: created.append(d))
    loop.run_until_complete(asyncio.sleep(streamlit_patches.MAX_WAIT_SECONDS * 3))
    loop.close()
    assert created == [tap]


def test_the_app_installs_the_fix(database, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from apptest_support import REPO

    current = AppSession._create_scriptrunner
    monkeypatch.setattr(AppSession, "_create_scriptrunner", getattr(current, "unpatched", current))
    assert not streamlit_patches.installed()
    AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert streamlit_patches.installed()
