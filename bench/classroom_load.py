"""A room of N students answering a live class session at once, through the pages' own functions.

    python bench/classroom_load.py --students 300 [--url URL] [--case ID] [--window 2.0]

N students join one session (all at once, one thread each) and answer every question of a
real case from ``content/``. For every stage the instructor opens answering and each student
submits each question after a random delay within ``--window`` seconds (the burst); 30% change
their mind once and 10% resubmit the same answer (a double tap), as phones do. Meanwhile a
presenter thread runs the live chart's query (``classroom.tallies``) and the whole presenter
panel (``classroom.live``) in a loop, as the instructor page does every two seconds, but
non-stop. Then the instructor closes and reveals, and the next stage begins.

Everything goes through ``quiz.classroom`` (``join``, ``submit``, ``tallies``, ``live``,
``act``), exactly what the pages call, on a SQLite file like the default store (in
``bench/out/``) or on the database ``--url`` names (e.g. PostgreSQL from ``.ci/postgres.sh``).

Targets at N=300 on the 2-core machine: lost=0, p95 submit <= 50 ms, chart query <= 10 ms.
The last line is machine-readable:
``students=N answers_submitted=A answers_recorded=R lost=L p95_submit_ms=X histogram_ms=Y``
where A counts the distinct (student, question) answers acknowledged, R the rows stored, L
the acknowledged answers missing or different in the database, and Y the p95 of the chart query
while the bursts run.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from quiz import classroom  # noqa: E402
from quiz.content import loader  # noqa: E402
from quiz.store import class_answers, forget_stores, open_store  # noqa: E402

PASSCODE = "bench-passcode"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def summary(name: str, values_ms: list[float]) -> str:
    if not values_ms:
        return f"{name}: none"
    return (f"{name}: n={len(values_ms)} median={statistics.median(values_ms):.2f} ms "
            f"p95={percentile(values_ms, 95):.2f} ms p99={percentile(values_ms, 99):.2f} ms max={max(values_ms):.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--url", help="database URL (default: a new SQLite file in bench/out/)")
    parser.add_argument("--case", help="case id (default: the case with the most questions)")
    parser.add_argument("--window", type=float, default=2.0,
                        help="seconds over which a question's answers arrive (0 = all at the same instant)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file made in bench/out/")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    content = loader.load_content(REPO / "content")
    if not content.cases:
        print("no valid case in content/", file=sys.stderr)
        return 2
    case = content.cases[args.case] if args.case else max(
        content.cases.values(), key=lambda c: (sum(len(s.questions) for s in c.stages), c.id))
    url = args.url
    made = None
    if not url:
        out = REPO / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        made = out / f"classroom-{int(time.time())}.sqlite3"
        url = f"sqlite:///{made}"
    store = open_store(url)
    total = len(case.stages)
    questions = sum(len(s.questions) for s in case.stages)
    print(f"database: {url.split('@')[-1]}  case: {case.id} ({total} stages, {questions} questions)  "
          f"students: {args.students}  window: {args.window}s", flush=True)

    host = classroom.create_session(store, case, passcode=PASSCODE, configured=PASSCODE)

    def step(action: str) -> None:
        state = classroom.session_state(store, host.session_id)
        classroom.act(store, host, action, expect=(state.stage_index, state.phase), total=total)

    # Everyone joins at once.
    join_ms: list[float] = []
    lock = threading.Lock()

    def join(index: int):
        started = time.perf_counter()
        student = classroom.join(store, host.code, f"student-{index:04d}")
        with lock:
            join_ms.append(1000 * (time.perf_counter() - started))
        return student

    with ThreadPoolExecutor(max_workers=args.students) as pool:
        students = list(pool.map(join, range(args.students)))
    print(summary("join", join_ms), flush=True)

    submit_ms: list[float] = []
    chart_ms: list[float] = []
    panel_ms: list[float] = []
    acknowledged: dict[tuple[int, str], str] = {}
    submits = refused = errors = 0
    step("start")
    for index, stage in enumerate(case.stages):
        step("open")
        ids = [q.id for q in stage.questions]
        plans = []  # per student: (delay, question, option) in time order
        for student in students:
            plan = []
            for question in stage.questions:
                options = [o.id for o in question.options]
                at = rng.uniform(0, args.window)
                plan.append((at, question.id, rng.choice(options)))
                roll = rng.random()
                if roll < 0.3:  # a change of mind a moment later
                    plan.append((at + rng.uniform(0.05, 0.5), question.id, rng.choice(options)))
                elif roll < 0.4:  # a double tap: the same answer twice
                    plan.append((at + 0.02, question.id, plan[-1][2]))
            plans.append((student, sorted(plan)))

        stop = threading.Event()

        def presenter():
            while not stop.is_set():
                started = time.perf_counter()
                classroom.tallies(store, host.session_id, ids)
                middle = time.perf_counter()
                classroom.live(store, host.session_id, case)
                ended = time.perf_counter()
                with lock:
                    chart_ms.append(1000 * (middle - started))
                    panel_ms.append(1000 * (ended - middle))
                time.sleep(0.05)

        watcher = threading.Thread(target=presenter)
        watcher.start()
        begin = time.perf_counter()

        def answer(item):
            nonlocal submits, refused, errors
            student, plan = item
            for at, question_id, option_id in plan:
                delay = begin + at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                started = time.perf_counter()
                try:
                    classroom.submit(store, student, case, index, question_id, option_id)
                except classroom.AnsweringClosed:
                    with lock:
                        refused += 1
                    continue
                except Exception as error:  # noqa: BLE001 - counted and reported, never hidden
                    with lock:
                        errors += 1
                    print(f"submit failed: {type(error).__name__}: {error}", file=sys.stderr)
                    continue
                elapsed = 1000 * (time.perf_counter() - started)
                with lock:
                    submits += 1
                    submit_ms.append(elapsed)
                    acknowledged[(student.id, question_id)] = option_id

        with ThreadPoolExecutor(max_workers=args.students) as pool:
            list(pool.map(answer, plans))
        burst = time.perf_counter() - begin
        stop.set()
        watcher.join()
        live = classroom.live(store, host.session_id, case)
        print(f"stage {index + 1}/{total}: {sum(len(p) for _, p in plans)} submits in {burst:.2f}s, "
              f"answered {live.answered} of {live.joined}", flush=True)
        step("close")
        step("reveal")
        step("advance")

    # The chart's query on its own, after the bursts, on the session's full answer table.
    ids = [q.id for q in case.stages[0].questions]
    quiet_ms = []
    for _ in range(200):
        started = time.perf_counter()
        classroom.tallies(store, host.session_id, ids)
        quiet_ms.append(1000 * (time.perf_counter() - started))

    stored = store.run(lambda conn: conn.execute(
        sa.select(class_answers.c.student_id, class_answers.c.question_id, class_answers.c.option_id)
        .where(class_answers.c.session_id == host.session_id)).all(), write=False)
    recorded = {(s, q): o for s, q, o in stored}
    lost = sum(1 for key, option in acknowledged.items() if recorded.get(key) != option)
    extra = len(set(recorded) - set(acknowledged))
    rows = classroom.result_rows(store, host, case)
    assert len(rows) == len(recorded)

    print(summary("submit", submit_ms))
    print(summary("chart query (tallies) during bursts", chart_ms))
    print(summary("presenter panel (live) during bursts", panel_ms))
    print(summary("chart query (tallies) at rest", quiet_ms))
    print(f"submit calls: {submits} acknowledged, {refused} refused (closed), {errors} errors; "
          f"rows never acknowledged: {extra}")
    forget_stores()
    if made is not None and not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{made}{suffix}").unlink(missing_ok=True)
    print(f"students={args.students} answers_submitted={len(acknowledged)} answers_recorded={len(recorded)} "
          f"lost={lost} p95_submit_ms={percentile(submit_ms, 95):.1f} histogram_ms={percentile(chart_ms, 95):.1f}")
    return 0 if lost == 0 and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
