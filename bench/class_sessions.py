"""How many students' live pages one Streamlit process holds: memory per session, CPU per refresh.

    python bench/class_sessions.py [--pages 10,25,50] [--seconds 20]

Starts ``streamlit run app.py`` (as the browser tests do), creates a class session on a real
case and opens answering, then opens K headless Chromium pages on the student URL
(``/?join=CODE``), each joining under its own nickname, and leaves them following the session:
every page's fragment polls the session version every two seconds. For each K it reads from
/proc the server process's resident memory and the CPU time it spends over ``--seconds``
seconds, and how long all K pages take to show the next stage after the instructor advances
(each one's poll notices and reruns its page).

Printed per K: RSS, RSS per session over the one-page baseline, CPU share of one core while
idle-following, CPU per fragment refresh, the follow latency and the server CPU per page for
the full rerun that follows. All pages run in one headless Chromium on the same 2-core machine:
past a few dozen pages the browser, not the server, sets the follow latency (the browser's CPU
time is printed beside it). The last line is
``pages=K rss_mb=.. mb_per_session=.. cpu_ms_per_refresh=.. follow_s=.. sessions_per_core=..``
for the largest K, where sessions_per_core is how many pages one process could keep polling
every two seconds with one core (a Streamlit process runs its sessions' scripts under one GIL).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from quiz import classroom  # noqa: E402
from quiz.content import loader  # noqa: E402
from quiz.store import forget_stores, open_store  # noqa: E402
from streamlit_server import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

PASSCODE = "bench-passcode"
TICK = os.sysconf("SC_CLK_TCK")


def server_pid(port: int) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part == f"--server.port={port}".encode() for part in command):
            return int(entry.name)
    raise RuntimeError(f"no process serves port {port}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def others_cpu(exclude: int) -> float:
    """CPU seconds of every other process of this machine's Chromium (the browser's share of the work)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == exclude:
            continue
        try:
            if b"chrom" in (entry / "cmdline").read_bytes()[:200]:
                total += cpu_seconds(int(entry.name))
        except OSError:
            continue
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default="10,25,50", help="comma-separated numbers of student pages")
    parser.add_argument("--seconds", type=float, default=20.0, help="idle-following measurement time per K")
    args = parser.parse_args()
    counts = sorted({int(k) for k in args.pages.split(",")})

    content = loader.load_content(REPO / "content")
    case = min(content.cases.values(), key=lambda c: (len(c.stages), c.id))
    work = Path(tempfile.mkdtemp(prefix="class-sessions-"))
    url_db = f"sqlite:///{work / 'class.sqlite3'}"
    env = {"QUIZ_DATABASE_URL": url_db, "QUIZ_INSTRUCTOR_PASSCODE": PASSCODE}
    store = open_store(url_db)
    host = classroom.create_session(store, case, passcode=PASSCODE, configured=PASSCODE)
    total = len(case.stages)

    def step(action: str) -> None:
        state = classroom.session_state(store, host.session_id)
        classroom.act(store, host, action, expect=(state.stage_index, state.phase), total=total)

    step("start")
    step("open")
    from playwright.sync_api import sync_playwright

    results = []
    with running_app(env) as url, sync_playwright() as playwright:
        pid = server_pid(int(url.rsplit(":", 1)[1]))
        # Many pages in one headless browser: keep background pages from being throttled.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows"])
        context = browser.new_context(viewport={"width": 390, "height": 844})
        pages = []

        def open_page() -> None:
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{url}/?join={host.code}")
            page.get_by_label("Your nickname", exact=True).fill(f"p{len(pages):03d}")
            page.get_by_role("button", name="Join").click()
            page.get_by_text("Answering is open").first.wait_for()
            pages.append(page)

        open_page()
        time.sleep(3)
        base_rss = rss_mb(pid)
        print(f"server pid {pid}; one page: RSS {base_rss:.1f} MB", flush=True)
        stage_number = 1
        for count in counts:
            while len(pages) < count:
                open_page()
            time.sleep(4)  # let joins and first renders settle
            rss = rss_mb(pid)
            before, started = cpu_seconds(pid), time.monotonic()
            time.sleep(args.seconds)
            used, elapsed = cpu_seconds(pid) - before, time.monotonic() - started
            refreshes = count * elapsed / 2.0
            per_refresh_ms = 1000 * used / refreshes

            # The instructor moves on: how long until every page shows it?
            step("reveal")
            browser_before = others_cpu(pid)
            moved = time.monotonic()
            for page in pages:
                page.get_by_text("The key is revealed").first.wait_for()
            follow = time.monotonic() - moved
            cpu_follow = cpu_seconds(pid)
            browser_follow = others_cpu(pid) - browser_before
            if count != counts[-1]:  # on to the next stage for the next K
                if stage_number >= total:
                    raise SystemExit(f"the case has {total} stages: use at most {total} --pages steps")
                step("advance")
                step("open")
                stage_number += 1
                for page in pages:
                    page.get_by_text("Answering is open").first.wait_for()
            results.append({
                "pages": count, "rss_mb": rss, "mb_per_session": (rss - base_rss) / max(count - 1, 1),
                "cpu_share": used / elapsed, "cpu_ms_per_refresh": per_refresh_ms, "follow_s": follow,
                "sessions_per_core": 2000 / per_refresh_ms if per_refresh_ms else float("inf"),
                # server CPU while the pages followed, less what their polling costs meanwhile, per page
                "rerun_cpu_ms": max(0.0, 1000 * (cpu_follow - before - used) - count * follow / 2.0 * per_refresh_ms) / count,
                "browser_cpu_s": browser_follow,
            })
            r = results[-1]
            print(f"K={count:4d}  RSS {r['rss_mb']:.1f} MB ({r['mb_per_session']:.3f} MB/session)  "
                  f"idle-following CPU {100 * r['cpu_share']:.1f}% of a core = {r['cpu_ms_per_refresh']:.2f} ms per "
                  f"refresh  follow {r['follow_s']:.2f}s  full rerun ~{r['rerun_cpu_ms']:.1f} ms CPU/page "
                  f"(browser CPU meanwhile {r['browser_cpu_s']:.1f}s)", flush=True)
        browser.close()
    forget_stores()
    shutil.rmtree(work, ignore_errors=True)
    last = results[-1]
    print(f"pages={last['pages']} rss_mb={last['rss_mb']:.0f} mb_per_session={last['mb_per_session']:.2f} "
          f"cpu_ms_per_refresh={last['cpu_ms_per_refresh']:.2f} follow_s={last['follow_s']:.2f} "
          f"sessions_per_core={last['sessions_per_core']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
