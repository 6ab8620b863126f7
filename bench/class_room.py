"""A live class of N students as their phones would run it, over Streamlit's own websocket protocol.

    python bench/class_room.py [--students 100,300,600] [--processes 1,3] [--postgres URL] [--stages 2]
    python bench/class_room.py --quick                 # 20 students, 1 process, SQLite, 1 stage: ~1 minute

Each configuration (store x app processes x students) starts ``streamlit run app.py`` once per
process, each on its own port of 127.0.0.1 and all on one database (a new SQLite file, or the
PostgreSQL database ``--postgres`` names), and creates a class session on a real case. Then N
simulated students, all in this one asyncio process, each hold one websocket to one process
(round robin, as a sticky proxy would spread them) and speak the browser's protocol with the
``streamlit.proto`` messages:

* **page load**: a ``BackMsg.rerun_script`` with the join link's query string (``join=CODE``),
  no page hash (the server's navigation picks the page) and the browser's ``ContextInfo``;
* **joining**: the widget ids of the nickname input and the *Join* button are read from the
  ``ForwardMsg`` deltas the page sends, as a browser builds its widgets; the form submit sends
  the typed text and the button's trigger, with the query string the server last set
  (``page_info_changed``) and the page hash from the ``navigation`` message;
* **following**: the page's ``run_every`` fragment arrives as a ``ForwardMsg.auto_rerun``
  (interval, fragment id); like the frontend's timer, each student then sends a
  ``rerun_script`` with that ``fragment_id``, ``is_auto_rerun`` and all its widget states every
  interval, until the next full run clears the timers and re-arms them;
* **answering**: a tap on a radio option sends a full rerun with the radio's ``string_value``
  (its option label) among the widget states; widgets a full run no longer draws are dropped,
  as the frontend drops them.

The instructor acts through :func:`quiz.classroom.act` directly (the function the instructor
page's buttons call), not through a websocket: what is measured is what students experience. Per
instructor action (start, open, close, reveal, advance through ``--stages`` stages; with
``--finish`` the final reveal and the end, after the other stages at once, unanswered and not
measured) the **follow latency** is the time from the action to the delta, on each student's
socket, that shows the new stage and phase. While answering is open each student answers every
question of the stage at a random moment within ``--answer-window`` seconds of seeing it open,
and 30% (``--change-rate``; 1: every student, every answer) change their mind once 1-4 s later
(``--change-after``); a thread polls the database every 50 ms, so **submit-to-stored** (the
radio's message sent -> the row in ``class_answers``) is an upper bound within 50 ms. **Lost**
counts students' last choices that the database does not hold when answering closes (the bench
waits up to 15 s for stragglers before it closes). Server **CPU and RSS** come from ``/proc`` of
the app processes (the database server's own CPU is not counted).

Not simulated: the static files a browser fetches first (cached by phones after the first
visit), rendering, and the forward-message cache (the client reports no cached hashes, so the
server sends every element in full, as to a new browser).

Goal on the 2-core machine: at 300 students, follow p95 within two polling intervals and lost = 0.
One summary line per configuration:
``store=S processes=P students=N follow_p50_s=.. follow_p95_s=.. submit_p95_ms=.. lost=L missed=M
cpu_ms_per_poll=.. idle_cpu_pct=.. rss_mb_per_session=..`` where missed counts (student, action)
pairs that did not follow within ``--follow-timeout`` (they count as infinitely late in the
percentiles).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from quiz import classroom  # noqa: E402
from quiz.content import loader  # noqa: E402
from quiz.store import class_answers, class_students, forget_stores, open_store  # noqa: E402
from quiz.ui import class_student, streamlit_patches  # noqa: E402
from streamlit_server import free_port  # noqa: E402

PASSCODE = "bench-passcode"
TICK = os.sysconf("SC_CLK_TCK")
DB_POLL_SECONDS = 0.05
WIDGET_TYPES = {"button", "radio", "text_input", "checkbox", "selectbox", "text_area", "number_input"}


# --- the student page: the only part that knows what quiz/ui/class_student.py draws ---------
# (Adapt these when the join flow or the page's wording changes.)

PHASE_BY_TEXT = {text: phase for phase, (_, text, _) in class_student.STATUS.items()}
STAGE_HEADING = re.compile(r"#### Stage (\d+) of \d+")
SAVED = re.compile(r"✅ Saved: (.+?)(?: · |$)")  # the caption under a question whose answer is stored


def _element_text(element) -> str:
    kind = element.WhichOneof("type")
    if kind == "alert":
        return element.alert.body
    if kind == "markdown":
        return element.markdown.body
    if kind == "exception":
        return f"{element.exception.type}: {element.exception.message}"
    return kind


def page_signal(element) -> tuple[str, object] | None:
    """What one element of the student page tells: ("phase", p), ("stage", n) or ("saved", option label)."""
    kind = element.WhichOneof("type")
    if kind == "alert":
        body = element.alert.body
        if body in PHASE_BY_TEXT:
            return "phase", PHASE_BY_TEXT[body]
    elif kind == "markdown":
        match = STAGE_HEADING.match(element.markdown.body)
        if match:
            return "stage", int(match.group(1))
        saved = SAVED.match(element.markdown.body)
        if saved:
            return "saved", saved.group(1)
    return None


def join_widgets(elements: dict, nickname: str) -> list[WidgetState] | None:
    """The widget states a browser sends when the student types a nickname and taps *Join*."""
    field_id = button_id = None
    for element in elements.values():
        kind = element.WhichOneof("type")
        if kind == "text_input" and element.text_input.label == "Your nickname":
            field_id = element.text_input.id
        elif kind == "button" and element.button.label == "Join" and element.button.is_form_submitter:
            button_id = element.button.id
    if field_id is None or button_id is None:
        return None
    return [WidgetState(id=field_id, string_value=nickname), WidgetState(id=button_id, trigger_value=True)]


def question_radios(elements: dict, session_id: int) -> dict[str, tuple[str, list[str], bool]]:
    """{question id: (widget id, option labels, disabled)} of the radios on the page now."""
    found = {}
    suffix = f"-class-{session_id}-"
    for element in elements.values():
        if element.WhichOneof("type") == "radio" and suffix in element.radio.id:
            question_id = element.radio.id.rsplit(suffix, 1)[1]
            found[question_id] = (element.radio.id, list(element.radio.options), element.radio.disabled)
    return found


# --- the browser's side of the protocol ------------------------------------------------------

class Browser:
    """One browser tab: a websocket, its widget states, its fragment timers and the page it shows."""

    def __init__(self, port: int, query: str, on_element: Callable, on_full_run: Callable,
                 on_full_run_start: Callable) -> None:
        self.port = port
        self.query = query
        self.page_hash = ""
        self.elements: dict[tuple, object] = {}  # delta path -> element, of the latest full run
        self.widgets: dict[str, WidgetState] = {}  # the values this browser holds
        self.timers: dict[str, asyncio.Task] = {}
        self.poll_interval: float | None = None
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.closed = False
        self.recent: deque[tuple[float, str]] = deque(maxlen=14)  # (moment, kind) of the last messages received
        self.on_element, self.on_full_run, self.on_full_run_start = on_element, on_full_run, on_full_run_start
        self.on_message: Callable | None = None  # given every ForwardMsg first (bench/ui_rerun.py's player)

    async def open(self) -> None:
        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/_stcore/stream", subprotocols=["streamlit"],
            origin=f"http://127.0.0.1:{self.port}", max_size=None, open_timeout=120, ping_interval=None)
        self.reader = asyncio.create_task(self._read())
        await self.rerun()  # the frontend asks for a run as soon as it is connected

    async def close(self) -> None:
        self.closed = True
        for timer in self.timers.values():
            timer.cancel()
        if self.ws is not None:
            with suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with suppress(BaseException):
                await self.reader

    async def rerun(self, extra: list[WidgetState] = (), *, fragment_id: str = "", auto: bool = False) -> None:
        """``BackMsg.rerun_script`` as ``sendRerunBackMsg`` builds it: every widget state held, plus triggers."""
        if self.closed:
            return
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        triggers = {w.id: w for w in extra if w.WhichOneof("value") == "trigger_value"}
        for widget in extra:
            if widget.id not in triggers:
                self.widgets[widget.id] = widget
        state.widget_states.widgets.extend([*self.widgets.values(), *triggers.values()])
        if fragment_id:
            state.fragment_id = fragment_id
            state.is_auto_rerun = auto
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url = f"http://127.0.0.1:{self.port}/?{self.query}" if self.query else f"http://127.0.0.1:{self.port}/"
        info.is_embedded, info.color_scheme = False, "light"
        try:
            await self.ws.send(message.SerializeToString())
        except websockets.ConnectionClosed:
            self.closed = True

    def _schedule(self, fragment_id: str, interval: float) -> None:
        """FragmentAutoRerunManager.schedule: one interval timer per fragment, replaced when re-registered."""
        old = self.timers.pop(fragment_id, None)
        if old is not None:
            old.cancel()

        async def tick() -> None:
            while not self.closed:
                await asyncio.sleep(interval)
                await self.rerun(fragment_id=fragment_id, auto=True)

        self.timers[fragment_id] = asyncio.create_task(tick())

    async def _read(self) -> None:
        try:
            async for data in self.ws:
                now = time.monotonic()
                message = ForwardMsg.FromString(data)
                if self.on_message is not None:
                    self.on_message(message, now)
                kind = message.WhichOneof("type")
                if kind == "new_session" and message.metadata.run.fragment_ids:
                    self.recent.append((now, "new_session(fragment)"))
                elif kind == "script_finished":
                    self.recent.append((now, ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)))
                else:
                    self.recent.append((now, kind))
                if kind == "delta":
                    if message.delta.WhichOneof("type") == "new_element":
                        element = message.delta.new_element
                        self.elements[tuple(message.metadata.delta_path)] = element
                        self.on_element(element, now)
                elif kind == "new_session":
                    if not message.metadata.run.fragment_ids:  # a full run: timers go, the page is redrawn
                        for timer in self.timers.values():
                            timer.cancel()
                        self.timers.clear()
                        self.elements = {}
                        self.on_full_run_start()
                elif kind == "navigation":
                    self.page_hash = message.navigation.page_script_hash
                elif kind == "page_info_changed":
                    self.query = message.page_info_changed.query_string
                elif kind == "auto_rerun":
                    self.poll_interval = message.auto_rerun.interval
                    self._schedule(message.auto_rerun.fragment_id, message.auto_rerun.interval)
                elif kind == "script_finished" and message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    drawn = {getattr(e, e.WhichOneof("type")).id for e in self.elements.values()
                             if e.WhichOneof("type") in WIDGET_TYPES}
                    self.widgets = {k: v for k, v in self.widgets.items() if k in drawn}
                    self.on_full_run(now)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed = True


# --- a student ---------------------------------------------------------------------------------

@dataclass
class Send:
    question_id: str
    option_id: str
    at: float  # monotonic time the radio's message left
    label: str = ""  # the option's label, as the page shows it


@dataclass
class Pupil:
    index: int
    port: int
    code: str
    session_id: int
    rng: random.Random
    answer_window: float
    options: dict[str, dict[str, str]]  # question id -> {label: option id}
    change_rate: float = 0.3  # the chance that a student changes their mind on a question
    change_after: tuple[float, float] = (1.0, 4.0)  # seconds from one tap to the next
    changes: int = 1  # changes of mind of a student who changes their mind
    answers: bool = True  # False: follows the class without answering
    seen: dict[tuple, float] = field(default_factory=dict)  # (stage number, phase) -> first moment shown
    sends: list[Send] = field(default_factory=list)
    saved: dict[str, float] = field(default_factory=dict)  # option label -> last moment shown as saved
    joined_at: float | None = None
    started_at: float = 0.0
    answered_stages: set = field(default_factory=set)
    answering: list = field(default_factory=list)
    browser: Browser | None = None
    run_phase: str | None = None
    run_stage: int | None = None
    failed: str | None = None
    missed: list = field(default_factory=list)

    @property
    def nickname(self) -> str:
        return f"bench-{self.index:04d}"

    def _element(self, element, now: float) -> None:
        signal = page_signal(element)
        if signal is None:
            return
        kind, value = signal
        if kind == "phase":
            self.run_phase = value
            if value in (classroom.LOBBY, classroom.FINAL, classroom.ENDED):
                self.seen.setdefault((None, value), now)
        elif kind == "stage" and self.run_phase is not None:
            self.run_stage = value
            self.seen.setdefault((value, self.run_phase), now)
        elif kind == "saved":
            self.saved[value] = now

    def _full_run_start(self) -> None:
        self.run_phase = self.run_stage = None

    def _full_run(self, now: float) -> None:
        if self.answers and self.run_phase == classroom.OPEN and self.run_stage not in self.answered_stages:
            radios = question_radios(self.browser.elements, self.session_id)
            if radios and not any(disabled for _, _, disabled in radios.values()):
                self.answered_stages.add(self.run_stage)
                self.answering.append(asyncio.create_task(self._answer(radios)))

    async def _answer(self, radios: dict) -> None:
        """Tap one option per question at a random moment; ``change_rate`` of them change their mind
        (``changes`` times, each to another option)."""
        plan = []
        for question_id, (widget_id, labels, _) in radios.items():
            at = self.rng.uniform(0.5, self.answer_window)
            label = self.rng.choice(labels)
            plan.append((at, question_id, widget_id, label))
            if self.rng.random() < self.change_rate:
                for _ in range(self.changes):
                    at += self.rng.uniform(*self.change_after)
                    label = self.rng.choice([other for other in labels if other != label])
                    plan.append((at, question_id, widget_id, label))
        begin = time.monotonic()
        for at, question_id, widget_id, label in sorted(plan):
            await asyncio.sleep(max(0.0, begin + at - time.monotonic()))
            self.sends.append(Send(question_id, self.options[question_id][label], time.monotonic(), label))
            await self.browser.rerun([WidgetState(id=widget_id, string_value=label)])

    async def join(self) -> None:
        self.started_at = time.monotonic()
        ready = asyncio.Event()
        self.browser = Browser(self.port, f"{classroom.JOIN_PARAM}={self.code}", self._element,
                               lambda now: (ready.set(), self._full_run(now)), self._full_run_start)
        try:
            await self.browser.open()
            while True:  # the join page's first full run draws the form
                await ready.wait()
                ready.clear()
                changes = join_widgets(self.browser.elements, self.nickname)
                if changes is not None:
                    break
            await self.browser.rerun(changes)
            while (None, classroom.LOBBY) not in self.seen and not any(k[0] for k in self.seen):
                await ready.wait()
                ready.clear()
            self.joined_at = time.monotonic()
        except Exception as error:  # noqa: BLE001 - counted and printed, never hidden
            self.failed = f"{type(error).__name__}: {error}"

    async def close(self) -> None:
        for task in self.answering:
            task.cancel()
        if self.browser is not None:
            await self.browser.close()


# --- the app processes -----------------------------------------------------------------------

@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def start_servers(count: int, env: dict[str, str], work: Path, flags: list[str] = ()) -> list[Server]:
    servers = []
    for number in range(count):
        port = free_port()
        log = work / f"server-{number}.log"
        command = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless=true",
                   f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
                   *(f"--{flag}" for flag in flags)]
        with log.open("w") as out:
            process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=out,
                                       stderr=subprocess.STDOUT)
        servers.append(Server(port, process, log))
    deadline = time.monotonic() + 90
    for server in servers:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{server.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("streamlit did not become healthy in time") from None
                time.sleep(0.2)
    return servers


def stop_servers(servers: list[Server]) -> None:
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


async def warm_up(port: int) -> None:
    """One page load per process first, as the instructor's own visit would: imports, content load."""
    done = asyncio.Event()
    browser = Browser(port, "", lambda e, n: None, lambda n: done.set(), lambda: None)
    await browser.open()
    await asyncio.wait_for(done.wait(), 120)
    await browser.close()


# --- the database, watched as the students' answers land ----------------------------------------

class AnswerWatch(threading.Thread):
    """Polls ``class_answers`` every 50 ms; keeps each (student, question)'s changes with the poll's start time."""

    def __init__(self, url: str, session_id: int) -> None:
        super().__init__(daemon=True)
        self.store = open_store(url)
        self.session_id = session_id
        self.changes: dict[tuple[int, str], list[tuple[float, str]]] = {}
        self.current: dict[tuple[int, str], str] = {}
        self.stop = threading.Event()

    def read(self) -> dict[tuple[int, str], str]:
        rows = self.store.run(lambda conn: conn.execute(
            sa.select(class_answers.c.student_id, class_answers.c.question_id, class_answers.c.option_id)
            .where(class_answers.c.session_id == self.session_id)).all(), write=False)
        return {(s, q): o for s, q, o in rows}

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            for key, option in self.read().items():
                if self.current.get(key) != option:
                    self.current[key] = option
                    self.changes.setdefault(key, []).append((started, option))
            self.stop.wait(max(0.0, DB_POLL_SECONDS - (time.monotonic() - started)))

    def stored_after(self, key: tuple[int, str], send: Send) -> float | None:
        for moment, option in self.changes.get(key, []):
            if option == send.option_id and moment >= send.at:
                return moment - send.at
        return None


# --- one configuration ---------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def machine_busy() -> float:
    """CPU seconds all programs of this machine have used (the cores are shared with other work)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def run_class(store_name: str, url: str, processes: int, count: int, case, args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="class-room-"))
    if url == "sqlite":
        url = f"sqlite:///{work / 'class.sqlite3'}"
    store = open_store(url)
    servers = start_servers(processes, {"QUIZ_DATABASE_URL": url, "QUIZ_INSTRUCTOR_PASSCODE": PASSCODE,
                                        **getattr(args, "env", {})}, work, args.flag)
    pupils: list[Pupil] = []
    try:
        await asyncio.gather(*(warm_up(s.port) for s in servers))
        await asyncio.sleep(1)
        base_rss = sum(s.rss_mb() for s in servers)
        host = await asyncio.to_thread(classroom.create_session, store, case, passcode=PASSCODE, configured=PASSCODE)
        total = len(case.stages)
        labels = {q.id: {o.label: o.id for o in q.options} for s in case.stages for q in s.questions}
        rng = random.Random(args.seed)
        pupils = [Pupil(i, servers[i % processes].port, host.code, host.session_id, random.Random(rng.random()),
                        args.answer_window, labels, args.change_rate, args.change_after, args.changes)
                  for i in range(count)]

        # Students arrive over the join window, each loading the join link and joining.
        join_window = args.join_window if args.join_window is not None else max(2.0, count / 20)
        cpu_before_join = sum(s.cpu() for s in servers)

        async def arrive(pupil: Pupil) -> None:
            await asyncio.sleep(rng.uniform(0, join_window))
            await asyncio.wait_for(pupil.join(), 90)

        results = await asyncio.gather(*(arrive(p) for p in pupils), return_exceptions=True)
        for pupil, result in zip(pupils, results):
            if isinstance(result, BaseException) and pupil.failed is None:
                pupil.failed = f"{type(result).__name__}: {result}"
        failed = [p for p in pupils if p.failed or p.joined_at is None]
        for pupil in failed[:3]:
            print(f"  student {pupil.nickname} did not join: {pupil.failed}", file=sys.stderr, flush=True)
        joined = [p for p in pupils if p not in failed]
        join_s = [p.joined_at - p.started_at for p in joined]
        join_cpu = sum(s.cpu() for s in servers) - cpu_before_join
        interval = next((p.browser.poll_interval for p in joined if p.browser.poll_interval), class_student.POLL_SECONDS)

        # Everyone in the lobby, following: the cost of polling alone.
        await asyncio.sleep(3)
        rss = sum(s.rss_mb() for s in servers)
        cpu0, mine0, t0 = sum(s.cpu() for s in servers), own_cpu(), time.monotonic()
        await asyncio.sleep(args.idle)
        idle_cpu, idle_elapsed = sum(s.cpu() for s in servers) - cpu0, time.monotonic() - t0
        idle_client = own_cpu() - mine0
        polls = len(joined) * idle_elapsed / interval

        ids = await asyncio.to_thread(lambda: dict(store.run(lambda conn: conn.execute(
            sa.select(class_students.c.nickname, class_students.c.id)
            .where(class_students.c.session_id == host.session_id)).all(), write=False)))
        watch = AnswerWatch(url, host.session_id)
        watch.start()

        follow: list[float] = []
        missed = 0
        lost = unconfirmed = unanswered = changed = 0
        submit_s: list[float] = []
        per_action = []
        state = {"stage": 0, "phase": classroom.LOBBY}
        cpu_class0, mine_class0, machine0, class0 = sum(s.cpu() for s in servers), own_cpu(), machine_busy(), time.monotonic()

        async def act(action: str, *, measure: bool = True) -> None:
            nonlocal missed
            current = classroom.session_state(store, host.session_id)
            started = time.monotonic()
            new = await asyncio.to_thread(classroom.act, store, host, action,
                                          expect=(current.stage_index, current.phase), total=total)
            if not measure:
                return
            # The page names no stage in the lobby, the final reveal and the end (see Pupil._element).
            shows_stage = new.phase not in (classroom.LOBBY, classroom.FINAL, classroom.ENDED)
            target = (new.stage_index + 1 if shows_stage else None, new.phase)
            deadline = started + args.follow_timeout
            while time.monotonic() < deadline and not all(target in p.seen for p in joined):
                await asyncio.sleep(0.05)
            late = [p.seen[target] - started for p in joined if target in p.seen]
            for pupil in joined:
                if target not in pupil.seen:
                    pupil.missed.append(action)
            gone = len(joined) - len(late)
            missed += gone
            follow.extend(late + [float("inf")] * gone)
            per_action.append((f"{action}->{target[0] or '-'}/{target[1]}",
                               percentile(late + [float("inf")] * gone, 95), gone))
            state["stage"], state["phase"] = target

        await act("start")
        for stage_number in range(1, min(args.stages, total) + 1):
            await act("open")
            # A page may show the open stage before its run finishes and its taps begin: wait for those too,
            # or their taps race the close below.
            deadline = time.monotonic() + args.follow_timeout
            while time.monotonic() < deadline and not all(stage_number in p.answered_stages or not p.answers
                                                          for p in joined):
                await asyncio.sleep(0.05)
            tasks = [t for p in joined for t in p.answering]
            stage_questions = {q.id for q in case.stages[stage_number - 1].questions}
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), args.answer_window + 60)

            def final_choices() -> dict[tuple[int, str], Send]:
                last = {}
                for pupil in joined:
                    for send in pupil.sends:
                        if send.question_id in stage_questions:
                            last[(ids[pupil.nickname], send.question_id)] = send
                return last

            last = final_choices()
            for pupil in joined:
                for question_id in stage_questions:
                    key = (ids[pupil.nickname], question_id)
                    if key not in last:
                        unanswered += 1
                    chosen = [s.option_id for s in pupil.sends if s.question_id == question_id]
                    changed += any(a != b for a, b in zip(chosen, chosen[1:]))
            def shown_as_saved(pupil: Pupil, question_id: str) -> bool:
                finals = [s for s in pupil.sends if s.question_id == question_id]
                return not finals or pupil.saved.get(finals[-1].label, 0.0) >= finals[-1].at

            # Stragglers still being stored. The database alone cannot tell: after A, B, A the row holds A
            # before the last tap is even read, so a close then refuses that tap (the page says so) while the
            # database still "has" it. A page showing the last choice as saved after its tap can.
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                stored = await asyncio.to_thread(watch.read)
                if all(stored.get(k) == s.option_id for k, s in last.items()) and all(
                        shown_as_saved(p, q) for p in joined for q in stage_questions):
                    break
                await asyncio.sleep(0.2)
            closed_at = time.monotonic()
            await act("close")
            stored = await asyncio.to_thread(watch.read)
            missing = [(k, s) for k, s in last.items() if stored.get(k) != s.option_id]
            lost += len(missing)
            if missing:
                ages = sorted(closed_at - s.at for _, s in missing)
                kept = sum(1 for k, _ in missing if k in stored)
                print(f"  stage {stage_number}: {len(missing)} last choices not stored at close (tapped "
                      f"{ages[0]:.1f}-{ages[-1]:.1f}s before it; {kept} kept an earlier choice)", flush=True)
                nicknames = {number: nickname for nickname, number in ids.items()}
                for (student_id, question_id), send in missing[:3]:
                    pupil = next(p for p in joined if p.nickname == nicknames[student_id])
                    taps = ", ".join(f"{s.option_id} at {s.at - send.at:+.3f}s" for s in pupil.sends
                                     if s.question_id == question_id)
                    print(f"    {pupil.nickname} {question_id}: tapped {taps}; stored "
                          f"{stored.get((student_id, question_id))}", flush=True)
            for pupil in joined:
                for send in pupil.sends:
                    if send.question_id in stage_questions:
                        delay = watch.stored_after((ids[pupil.nickname], send.question_id), send)
                        submit_s.append(delay if delay is not None else float("inf"))
                for question_id in stage_questions:  # the last choice never shown as saved after its tap
                    if not shown_as_saved(pupil, question_id):
                        finals = [s for s in pupil.sends if s.question_id == question_id]
                        unconfirmed += 1
                        taps = ", ".join(f"{s.label!r} at {s.at - closed_at:+.3f}s" for s in finals)
                        shown = {label: f"{at - closed_at:+.3f}s" for label, at in pupil.saved.items()}
                        page = [f"{e.WhichOneof('type')} {_element_text(e)[:100]!r}" for e in pupil.browser.elements.values()
                                if e.WhichOneof("type") in ("alert", "exception", "markdown")]
                        print(f"  {pupil.nickname} {question_id}: last choice never shown as saved; tapped {taps} "
                              f"(times from the close); 'Saved' seen {shown}; its page now: {page}; its last "
                              f"messages: {[(kind, round(at - closed_at, 3)) for at, kind in pupil.browser.recent]}",
                              flush=True)
            await act("reveal")
            if stage_number < min(args.stages, total):
                await act("advance")
        if args.finish:  # through the other stages at once (not followed), then the final reveal and the end
            for pupil in joined:
                pupil.answers = False
            for _ in range(min(args.stages, total), total):
                for action in ("advance", "open", "reveal"):
                    await act(action, measure=False)
            await act("advance")
            await act("end")
        class_cpu = sum(s.cpu() for s in servers) - cpu_class0
        class_client = own_cpu() - mine_class0
        others = max(0.0, machine_busy() - machine0 - class_cpu - class_client) / (time.monotonic() - class0)
        watch.stop.set()
        watch.join()
        sends = sum(len(p.sends) for p in joined)
        stuck = [p for p in joined if p.missed]
        for pupil in stuck[:3]:
            shown = [f"alert {e.alert.body[:90]!r}" if e.WhichOneof("type") == "alert"
                     else f"exception {e.exception.type}: {e.exception.message[:160]!r}"
                     for e in pupil.browser.elements.values() if e.WhichOneof("type") in ("alert", "exception")]
            recent = ", ".join(f"{kind} -{time.monotonic() - at:.1f}s" for at, kind in pupil.browser.recent)
            print(f"  {pupil.nickname} missed {pupil.missed}; polling timers {len(pupil.browser.timers)}; "
                  f"its page shows {shown}; its last messages: {recent}", flush=True)
        disconnected = sum(1 for p in joined if p.browser.closed)
        if disconnected or missed:
            print(f"  {disconnected} of {len(joined)} websockets closed by the server", flush=True)
            errors: dict[str, list[str]] = {}  # error line -> the lines before its first occurrence
            for server in servers:
                lines = server.log.read_text(errors="replace").splitlines()
                for number, line in enumerate(lines):
                    if re.match(r"\s*[\w.]*(Error|Exception)\b", line):
                        errors.setdefault(line.strip(), lines[max(0, number - 6):number])
            print(f"  server logs: {len(errors)} distinct error lines", flush=True)
            for line, before in list(errors.items())[:3]:
                print("    " + "\n    ".join(b[:160] for b in before) + f"\n    {line[:200]}", flush=True)
        for name, p95, gone in per_action:
            print(f"  {name:<22} follow p95 {p95:6.2f}s" + (f"  ({gone} did not follow)" if gone else ""), flush=True)
        return {
            "store": store_name, "processes": processes, "students": count, "joined": len(joined),
            "interval": interval, "join_p50": percentile(join_s, 50), "join_p95": percentile(join_s, 95),
            "join_cpu_s": join_cpu, "follow_p50": percentile(follow, 50), "follow_p95": percentile(follow, 95),
            "follow_max": max(follow) if follow else float("nan"), "missed": missed,
            "submit_p50": percentile(submit_s, 50), "submit_p95": percentile(submit_s, 95), "answers": sends,
            "lost": lost, "unconfirmed": unconfirmed, "unanswered": unanswered, "changed": changed,
            "actions": [{"action": name, "follow_p95": p95, "missed": gone} for name, p95, gone in per_action],
            "stuck": {p.nickname: list(p.missed) for p in stuck},
            "cpu_ms_per_poll": 1000 * idle_cpu / polls if polls else float("nan"),
            "idle_cpu_pct": 100 * idle_cpu / idle_elapsed, "idle_client_pct": 100 * idle_client / idle_elapsed,
            "class_cpu_s": class_cpu, "class_client_s": class_client, "others_pct": 100 * others,
            "rss_mb": rss, "rss_mb_per_session": (rss - base_rss) / max(len(joined), 1),
            "held_back": sum(server.log.read_text(errors="replace").count(streamlit_patches.HELD_BACK)
                             for server in servers),
        }
    finally:
        await asyncio.gather(*(p.close() for p in pupils), return_exceptions=True)
        stop_servers(servers)
        forget_stores()
        shutil.rmtree(work, ignore_errors=True)


def summary_line(r: dict) -> str:
    return (f"store={r['store']} processes={r['processes']} students={r['students']} "
            f"follow_p50_s={r['follow_p50']:.2f} follow_p95_s={r['follow_p95']:.2f} "
            f"submit_p95_ms={1000 * r['submit_p95']:.0f} lost={r['lost']} missed={r['missed']} "
            f"cpu_ms_per_poll={r['cpu_ms_per_poll']:.2f} idle_cpu_pct={r['idle_cpu_pct']:.0f} "
            f"rss_mb_per_session={r['rss_mb_per_session']:.2f}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", default="100,300,600", help="comma-separated class sizes")
    parser.add_argument("--processes", default="1,3", help="comma-separated numbers of app processes")
    parser.add_argument("--postgres", metavar="URL", help="also run every configuration on this PostgreSQL database")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--stages", type=int, default=1, help="stages the instructor takes the class through")
    parser.add_argument("--answer-window", type=float, default=10.0, help="seconds over which a stage's answers arrive")
    parser.add_argument("--join-window", type=float, help="seconds over which students arrive (default N/20, at least 2)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of measuring the lobby's polling")
    parser.add_argument("--follow-timeout", type=float, default=30.0, help="seconds a student may take to follow")
    parser.add_argument("--case", help="case id (default: the case with the fewest stages)")
    parser.add_argument("--flag", action="append", default=[], metavar="SECTION.OPTION=VALUE",
                        help="a Streamlit option for the app processes, e.g. runner.fastReruns=false (repeatable)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="20 students, 1 process, SQLite, 1 stage (about a minute)")
    parser.add_argument("--change-rate", type=float, default=0.3,
                        help="chance that a student changes their mind on a question (1: every answer changes once)")
    parser.add_argument("--change-after", type=lambda v: tuple(float(x) for x in v.split(",")), default=(1.0, 4.0),
                        metavar="MIN,MAX", help="seconds from a first tap to the change of mind (default 1,4)")
    parser.add_argument("--changes", type=int, default=1, help="times a student who changes their mind does")
    parser.add_argument("--finish", action="store_true",
                        help="then the other stages at once (not measured), the final reveal and the end")
    return parser


def load_case(case_id: str | None = None):
    """The case played: ``case_id``, or the case with the fewest stages."""
    content = loader.load_content(REPO / "content")
    return content.cases[case_id] if case_id else min(content.cases.values(), key=lambda c: (len(c.stages), c.id))


def run_configuration(store: str = "sqlite", url: str = "sqlite", *, processes: int = 1, students: int = 20,
                      **options) -> dict:
    """One configuration, as ``main`` runs it, for tests: the figures of :func:`run_class` (printed lines as well).

    ``store`` names it ("sqlite", "postgres"); ``url`` is "sqlite" (a new file) or a database URL;
    ``options`` are the command line's by their ``argparse`` names (``change_rate=1.0``, ``case=...``, ``stages=1``),
    and ``env``: more environment variables for the app processes.
    """
    args = build_parser().parse_args([])
    args.env = options.pop("env", {})
    for name, value in options.items():
        if not hasattr(args, name):
            raise TypeError(f"run_configuration has no option {name!r}")
        setattr(args, name, value)
    return asyncio.run(run_class(store, url, processes, students, load_case(args.case), args))


def main() -> int:
    parser = build_parser()
    args = parser.parse_args()
    if args.quick:
        if args.students == parser.get_default("students"):
            args.students = "20"
        args.processes, args.stages, args.idle, args.answer_window = "1", 1, 4.0, 4.0
    counts = [int(n) for n in args.students.split(",")]
    process_counts = [int(n) for n in args.processes.split(",")]
    stores = ([] if args.no_sqlite else [("sqlite", "sqlite")]) + ([("postgres", args.postgres)] if args.postgres else [])
    if not stores:
        parser.error("--no-sqlite needs --postgres URL")

    case = load_case(args.case)
    print(f"case {case.id}: {len(case.stages)} stages, {args.stages} played; answers over {args.answer_window:g}s; "
          f"{os.cpu_count()} cores; one asyncio client process", flush=True)
    failures = 0
    for store_name, url in stores:
        for processes in process_counts:
            for count in counts:
                print(f"== {store_name}, {processes} process(es), {count} students", flush=True)
                started = time.monotonic()
                r = asyncio.run(run_class(store_name, url, processes, count, case, args))
                print(f"  joined {r['joined']}/{count} (join p50 {r['join_p50']:.2f}s p95 {r['join_p95']:.2f}s, "
                      f"{r['join_cpu_s']:.1f}s server CPU); polling every {r['interval']:g}s; "
                      f"follow max {r['follow_max']:.2f}s; answers sent {r['answers']}, submit p50 "
                      f"{1000 * r['submit_p50']:.0f} ms; unconfirmed {r['unconfirmed']}; runners held back (B5 fix) "
                      f"{r['held_back']}; server RSS {r['rss_mb']:.0f} MB; "
                      f"idle client CPU {r['idle_client_pct']:.0f}%; class CPU server {r['class_cpu_s']:.1f}s "
                      f"client {r['class_client_s']:.1f}s, other programs {r['others_pct']:.0f}% of a core; "
                      f"{time.monotonic() - started:.0f}s", flush=True)
                print(summary_line(r), flush=True)
                goal = r["follow_p95"] <= 2 * r["interval"] and r["lost"] == 0
                print(f"  goal (p95 follow <= {2 * r['interval']:g}s, lost = 0): {'met' if goal else 'NOT met'}", flush=True)
                failures += r["lost"] + (r["students"] - r["joined"])
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
