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
from streamlit.runtime.scriptrunner import ScriptRunnerEvent

from quiz.ui import streamlit_patches


def test_the_fix_was_written_for_the_installed_streamlit_and_its_internals_are_there():
    assert streamlit_patches.written_for_this_streamlit(), (
        "Streamlit was upgraded: check quiz/ui/streamlit_patches.py against the new AppSession, then WRITTEN_FOR")
    def source(method):  # Streamlit's own, whether or not the app installed the fix in this process
        return inspect.getsource(getattr(method, "unpatched", method))

    rerun = source(AppSession.request_rerun)
    assert "self._scriptrunner.request_rerun(rerun_data)" in rerun and "self._create_scriptrunner(rerun_data)" in rerun
    assert "self._scriptrunner = ScriptRunner(" in source(AppSession._create_scriptrunner)
    handle = source(AppSession._handle_scriptrunner_event_on_event_loop)
    assert "sender is not self._scriptrunner" in handle  # the events a new runner makes stale
    assert "self._scriptrunner = None" in handle  # on the old runner's SHUTDOWN


class FakeRunner:
    """Takes reruns while it runs, as ScriptRequests does; remembers them in order."""

    def __init__(self, first):
        self.reruns = [first]

    def request_rerun(self, data):
        self.reruns.append(data)
        return True


class FakeSession(SimpleNamespace):
    __hash__ = object.__hash__  # one session, one entry: as AppSession, hashed by identity

    def has_fragment(self, fragment_id):
        return fragment_id in self.fragments

    def handle_backmsg_exception(self, error):
        self.errors.append(error)


def session_with_stopped_runner(loop):
    return FakeSession(_scriptrunner=object(), _event_loop=loop, _state=AppSessionState.APP_IS_RUNNING,
                       fragments={"poll"}, errors=[])


def play(with_fix: bool) -> list[str]:
    """A runner stopped with two events still queued; a polling tick, then a tap, ask for a new runner."""
    loop = asyncio.new_event_loop()
    happened: list[str] = []
    session = session_with_stopped_runner(loop)
    old = session._scriptrunner

    def create(s, data):
        s._scriptrunner = FakeRunner(data)
        happened.append(f"new runner for {data.name}")

    def request(data):  # AppSession.request_rerun once the old runner refused it
        if isinstance(session._scriptrunner, FakeRunner):
            session._scriptrunner.request_rerun(data)
            happened.append(f"{data.name} joins the runner")
        elif with_fix:
            streamlit_patches.hold_or_create(session, data, create)
        else:
            create(session, data)

    def event(name):  # AppSession._handle_scriptrunner_event_on_event_loop, for an event of ``old``
        if session._scriptrunner is not old:
            happened.append(f"dropped {name}")
            return
        happened.append(name)
        if name == "shutdown":
            session._scriptrunner = None
            if with_fix:
                streamlit_patches.after_event(session, ScriptRunnerEvent.SHUTDOWN, create)

    async def scene():
        loop.call_soon(request, SimpleNamespace(name="tick", fragment_id="poll"))
        loop.call_soon(event, "the full run's elements and end")
        loop.call_soon(request, SimpleNamespace(name="tap", fragment_id=None))
        loop.call_soon(event, "shutdown")
        loop.call_soon(request, SimpleNamespace(name="later tap", fragment_id=None))
        await asyncio.sleep(0.01)

    loop.run_until_complete(scene())
    loop.close()
    return [*happened, "it took " + ", ".join(d.name for d in session._scriptrunner.reruns)]


def test_without_the_fix_the_last_run_is_dropped_and_with_it_every_event_arrives_first_in_order():
    assert play(with_fix=False) == ["new runner for tick", "dropped the full run's elements and end",
                                    "tap joins the runner", "dropped shutdown", "later tap joins the runner",
                                    "it took tick, tap, later tap"]
    assert play(with_fix=True) == ["the full run's elements and end", "shutdown", "new runner for tick",
                                   "later tap joins the runner", "it took tick, tap, later tap"]


def test_held_requests_reach_the_new_runner_oldest_first():
    loop = asyncio.new_event_loop()
    session = session_with_stopped_runner(loop)
    taps = [SimpleNamespace(name=n, fragment_id=None) for n in ("A", "B", "C")]

    create_calls = []

    def create(s, d):
        create_calls.append(d)
        s._scriptrunner = FakeRunner(d)

    async def scene_with(create):
        for tap in taps:
            streamlit_patches.hold_or_create(session, tap, create)
        assert create_calls == []  # all three wait for the old runner
        session._scriptrunner = None
        streamlit_patches.after_event(session, ScriptRunnerEvent.SHUTDOWN, create)

    loop.run_until_complete(scene_with(create))
    loop.close()
    assert create_calls == [taps[0]] and session._scriptrunner.reruns == taps


def test_an_old_runner_that_never_reports_its_end_is_waited_for_one_second_only():
    loop = asyncio.new_event_loop()
    session = session_with_stopped_runner(loop)
    created = []

    async def scene():
        streamlit_patches.hold_or_create(session, SimpleNamespace(fragment_id=None), lambda s, d: created.append(d))
        await asyncio.sleep(streamlit_patches.MAX_WAIT_SECONDS / 2)
        assert created == []
        await asyncio.sleep(streamlit_patches.MAX_WAIT_SECONDS)

    loop.run_until_complete(scene())
    loop.close()
    assert len(created) == 1


def test_a_failed_start_is_reported_as_streamlit_would_and_a_removed_fragment_is_dropped():
    loop = asyncio.new_event_loop()
    session = session_with_stopped_runner(loop)

    def broken(s, d):
        raise RuntimeError("can't start new thread")

    async def scene():
        streamlit_patches.hold_or_create(session, SimpleNamespace(fragment_id="gone"), broken)
        streamlit_patches.hold_or_create(session, SimpleNamespace(fragment_id=None), broken)
        session._scriptrunner = None
        streamlit_patches.after_event(session, ScriptRunnerEvent.SHUTDOWN, broken)

    loop.run_until_complete(scene())
    loop.close()
    assert [str(e) for e in session.errors] == ["can't start new thread"]  # the tap's; the tick was moot


def test_the_app_installs_the_fix(database, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from apptest_support import REPO

    for name in ("_create_scriptrunner", "_handle_scriptrunner_event_on_event_loop"):
        current = getattr(AppSession, name)
        monkeypatch.setattr(AppSession, name, getattr(current, "unpatched", current))
    assert not streamlit_patches.installed()
    AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert streamlit_patches.installed()
