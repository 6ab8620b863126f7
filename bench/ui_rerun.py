"""How much a player rerun costs, against an empty Streamlit script, and how fast the app starts.

    python bench/ui_rerun.py [--repeats 20] [--no-browser] [--rounds 5] [--websocket-only]

The figures that count are taken over Streamlit's websocket protocol, as a browser asks for them:
a real `streamlit run` of app.py plays the longest vignette with a 3-entry differential pad at every
stage, and the server process's CPU time is read around each tap (a pad edit, a commit, a Continue),
each of which reruns only its fragment, and how many elements and blocks each tap sends (the one
figure here that does not vary from run to run); the baseline is a full rerun of an empty script on a server
started the same way. Target (issue 11): each tap at most 3x the baseline.

Also printed: the same under AppTest, which reruns the whole page for a widget's tap (it sends no
fragment id; only Continue's rerun by the fragment's key is a fragment's there), so those ratios are
mostly of full-page reruns; and the time from `streamlit run` to the
first rendered library page in headless Chromium. Figures, not pass/fail: this machine is noisy,
and ratios are comparable only within one run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from streamlit.testing.v1 import AppTest  # noqa: E402

from quiz.content import loader  # noqa: E402
from quiz import store  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def empty_rerun(repeats: int) -> float:
    at = AppTest.from_string("import streamlit as st\nst.write('')\n").run()
    return statistics.median(timed(at.run) for _ in range(repeats))


def player_rerun(repeats: int, with_pad: bool = False) -> tuple[float, float | None]:
    """Median seconds per commit/advance rerun, and (``with_pad``) per rerun of editing the pad."""
    from quiz.play import differential

    case = max(loader.load_content(REPO / "content").cases.values(), key=lambda c: len(c.stages))
    samples, edits = [], []
    while len(samples) < repeats:
        store.forget_stores()
        os.environ["QUIZ_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        at.query_params["case"] = case.id  # a first visit: the first commit makes the learner
        at.run()
        for index, stage in enumerate(case.stages[:-1]):
            if len(samples) >= repeats:
                break
            if with_pad:
                pad = next(m for m in at.multiselect if m.key.endswith(f"-pad-{index + 1}"))
                picks = [e.diagnosis for e in differential.expert(stage)][:3]
                edits.append(timed(lambda: pad.set_value(picks).run()))
            for question in stage.questions:
                next(r for r in at.radio if r.key.endswith(f"-{index + 1}-{question.id}")).set_value(question.answer)
            submit = next(b for b in at.button if b.label == "Commit answers")
            commit = timed(lambda: submit.click().run())
            advance = next(b for b in at.button if b.label.startswith("Continue"))
            samples.append(commit + timed(lambda: advance.click().run()))
    # per rerun: a commit and an advance are two reruns
    return statistics.median(samples) / 2, statistics.median(edits) if edits else None


# --- the same over Streamlit's websocket protocol, as a browser asks -----------------------------

class PlayerTab:
    """One browser tab on the player, over the websocket client of bench/class_room.py: it finds the
    widgets of the run just drawn by their keys and sends what a browser sends for a tap, with the
    fragment id of the widget's fragment, so a fragment's rerun is measured as the server runs it."""

    def __init__(self, port: int, case_id: str) -> None:
        from class_room import Browser

        self.browser = Browser(port, f"case={case_id}", lambda element, now: None, lambda now: None, lambda: None)
        self.browser.on_message = self._message
        # delta path -> (order received, element, fragment id): a full run replaces the page, a fragment's
        # run only its own part, as in the frontend
        self.drawn: dict[tuple, tuple[int, object, str]] = {}
        self.received = 0
        self.deltas = 0  # elements and blocks sent, of every run so far
        self.run_started = 0
        self.finished = None
        self.statuses: list[int] = []

    def _message(self, message, now: float) -> None:
        kind = message.WhichOneof("type")
        self.received += 1
        if kind == "new_session":
            self.run_started = self.received
            if not message.metadata.run.fragment_ids:
                self.drawn = {}
        elif kind == "delta":
            self.deltas += 1
        if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            self.drawn[tuple(message.metadata.delta_path)] = (
                self.received, message.delta.new_element, message.delta.fragment_id)
        elif kind == "script_finished":
            self.statuses.append(message.script_finished)
            if message.script_finished != message.FINISHED_EARLY_FOR_RERUN and self.finished is not None:
                self.finished.set()

    def widget(self, kind: str, test, *, this_run: bool = False) -> tuple[object, str]:
        """The newest element of ``kind`` that passes ``test`` (``this_run``: drawn by the last run), and its fragment."""
        for order, element, fragment_id in sorted(self.drawn.values(), key=lambda held: -held[0]):
            if this_run and order < self.run_started:
                break
            if element.WhichOneof("type") == kind and test(getattr(element, kind)):
                return getattr(element, kind), fragment_id
        raise LookupError(f"no {kind} on the page that fits")

    async def send(self, states, fragment_id: str = "") -> None:
        import asyncio

        self.finished = asyncio.Event()
        self.statuses = []
        await self.browser.rerun(states, fragment_id=fragment_id)
        await asyncio.wait_for(self.finished.wait(), 60)


async def protocol_player(port: int, pid: int, case, labels: dict[str, str]
                          ) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Server CPU seconds per tap while playing ``case`` with a 3-entry pad at every stage but the last,
    and the elements and blocks each tap sent."""
    import asyncio

    from element_cost import cpu_seconds
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    from quiz.play import differential

    tab = PlayerTab(port, case.id)
    tab.finished = asyncio.Event()
    for _ in range(120):
        try:
            await tab.browser.open()
            break
        except OSError:
            await asyncio.sleep(0.25)
    await asyncio.wait_for(tab.finished.wait(), 60)
    spent: dict[str, list[float]] = {"pad edit": [], "commit": [], "continue": []}
    sent: dict[str, list[int]] = {kind: [] for kind in spent}

    async def tap(kind: str, states, fragment_id: str) -> None:
        before, deltas = cpu_seconds(pid), tab.deltas
        await tab.send(states, fragment_id)
        spent[kind].append(cpu_seconds(pid) - before)
        sent[kind].append(tab.deltas - deltas)

    for index, stage in enumerate(case.stages[:-1]):
        number = index + 1
        pad, fragment_id = tab.widget("multiselect", lambda w: w.id.endswith(f"-pad-{number}"))
        picks = [labels[e.diagnosis] for e in differential.expert(stage)][:3]
        await tap("pad edit", [WidgetState(id=pad.id, string_array_value={"data": picks})], fragment_id)
        states = []
        for question in stage.questions:
            radio, _ = tab.widget("radio", lambda w: w.id.endswith(f"-{number}-{question.id}"))
            answer = next(o.label for o in question.options if o.id == question.answer)
            states.append(WidgetState(id=radio.id, string_value=answer))
            if question.kind == "diagnosis":
                sure, _ = tab.widget("radio", lambda w: w.id.endswith(f"-{number}-{question.id}-certainty"))
                states.append(WidgetState(id=sure.id, string_value=sure.options[1]))
        submit, fragment_id = tab.widget("button", lambda w: w.label == "Commit answers")
        await tap("commit", [*states, WidgetState(id=submit.id, trigger_value=True)], fragment_id)
        tab.widget("markdown", lambda w: w.body.startswith("##### Feedback"), this_run=True)  # the commit went through
        go, fragment_id = tab.widget("button", lambda w: w.label.startswith("Continue"))
        await tap("continue", [WidgetState(id=go.id, trigger_value=True)], fragment_id)
        tab.widget("multiselect", lambda w: w.id.endswith(f"-pad-{number + 1}"), this_run=True)  # the next stage
    await tab.browser.close()
    return spent, sent


def protocol_figures(rounds: int = 5) -> tuple[float, dict[str, float], dict[str, float]]:
    """Server CPU per rerun of an empty script, and the mean per tap of the player over ``rounds`` plays of
    the longest case, each asked for over the websocket; and the mean elements and blocks a tap sent."""
    import asyncio

    from element_cost import cpu_per_rerun, script
    from streamlit_server import free_port
    import subprocess

    from quiz.ui import pad

    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.py"
        empty.write_text(script(0))
        baseline = asyncio.run(cpu_per_rerun(empty, 300))
        content = loader.load_content(REPO / "content")
        case = max(content.cases.values(), key=lambda c: len(c.stages))
        labels = {i: pad.option_text(e) for i, e in content.catalogue.items()}
        samples: dict[str, list[float]] = {}
        counts: dict[str, list[int]] = {}
        for round_ in range(rounds):
            port = free_port()
            env = {**os.environ, "QUIZ_DATABASE_URL": f"sqlite:///{folder}/protocol-{round_}.sqlite3"}
            server = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), f"--server.port={port}",
                 "--server.address=127.0.0.1"], cwd=REPO, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                spent, sent = asyncio.run(protocol_player(port, server.pid, case, labels))
                for kind, values in spent.items():
                    samples.setdefault(kind, []).extend(values)
                    counts.setdefault(kind, []).extend(sent[kind])
            finally:
                server.terminate()
                server.wait()
    # /proc counts CPU in clock ticks (10 ms): one tap's figure is coarse, the mean over many is not
    return (baseline, {kind: statistics.fmean(values) for kind, values in samples.items()},
            {kind: statistics.fmean(values) for kind, values in counts.items()})


def first_page_seconds() -> float | None:
    from streamlit_server import CHROMIUM, CHROMIUM_ARGS, running_app

    if not Path(CHROMIUM).exists():
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        start = time.perf_counter()
        with running_app({"QUIZ_DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/b.sqlite3"}) as url:
            page = browser.new_page()
            page.goto(url)
            page.get_by_text("Case library").wait_for(timeout=60_000)
            page.get_by_role("button", name="Open case").first.wait_for(timeout=60_000)
            elapsed = time.perf_counter() - start
        browser.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--rounds", type=int, default=5, help="plays of the case over the websocket")
    parser.add_argument("--websocket-only", action="store_true", help="leave out the AppTest figures")
    args = parser.parse_args()
    baseline, taps, elements = protocol_figures(args.rounds)
    print(f"over the websocket, server CPU per tap: empty script {baseline * 1000:.2f} ms a rerun (baseline)")
    for kind, seconds in taps.items():
        print(f"  player {kind:9s} {seconds * 1000:7.2f} ms, ratio {seconds / baseline:5.2f} (target <= 3),"
              f" {elements[kind]:5.1f} elements and blocks sent")
    if args.websocket_only:
        return
    empty = empty_rerun(args.repeats)
    player, _ = player_rerun(args.repeats)
    padded, edit = player_rerun(args.repeats, with_pad=True)
    print(f"under AppTest, full-page reruns (median of {args.repeats}): empty script {empty * 1000:.1f} ms")
    print(f"  player commit/advance {player * 1000:7.1f} ms, ratio {player / empty:5.2f}")
    print(f"  same, with a pad      {padded * 1000:7.1f} ms, ratio {padded / empty:5.2f}")
    print(f"  pad edit              {edit * 1000:7.1f} ms, ratio {edit / empty:5.2f}")
    startup = None if args.no_browser else first_page_seconds()
    if startup is not None:
        print(f"streamlit run -> first library page in Chromium: {startup:.2f} s")
    print(" ".join([f"baseline_ms={baseline * 1000:.2f}",
                    *(f"{kind.replace(' ', '_')}_ratio={seconds / baseline:.2f}" for kind, seconds in taps.items()),
                    f"apptest_ratio={player / empty:.2f}", f"apptest_pad_ratio={padded / empty:.2f}",
                    f"first_page_s={'n/a' if startup is None else f'{startup:.2f}'}"]))

if __name__ == "__main__":
    main()
