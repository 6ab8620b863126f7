"""How much a player rerun costs, against an empty Streamlit script, and how fast the app starts.

    python bench/ui_rerun.py [--repeats 20] [--no-browser]

Prints the median time of (a) an empty script's rerun under AppTest, (b) a commit-and-advance
rerun of the player (commit a stage, then continue to the next) on a real vignette, their ratio
(target: at most 3), the same with a differential pad kept at every stage and the rerun of editing the pad, and (c) the time from `streamlit run` to the first rendered library page in
headless Chromium. Figures, not pass/fail: this machine is noisy.
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
    args = parser.parse_args()
    empty = empty_rerun(args.repeats)
    player, _ = player_rerun(args.repeats)
    padded, edit = player_rerun(args.repeats, with_pad=True)
    print(f"empty script rerun:          {empty * 1000:8.1f} ms (median of {args.repeats})")
    print(f"player commit/advance rerun: {player * 1000:8.1f} ms (median of {args.repeats})")
    print(f"ratio player/empty:          {player / empty:8.2f} (target <= 3)")
    print(f"same, with a 3-entry pad:    {padded * 1000:8.1f} ms, ratio {padded / empty:.2f} (target <= 3)")
    print(f"pad edit rerun:              {edit * 1000:8.1f} ms, ratio {edit / empty:.2f}")
    startup = None if args.no_browser else first_page_seconds()
    if startup is not None:
        print(f"streamlit run -> first library page in Chromium: {startup:.2f} s")
    print(f"empty_ms={empty * 1000:.1f} player_ms={player * 1000:.1f} ratio={player / empty:.2f} "
          f"pad_ms={padded * 1000:.1f} pad_ratio={padded / empty:.2f} pad_edit_ratio={edit / empty:.2f} "
          f"first_page_s={'n/a' if startup is None else f'{startup:.2f}'}")


if __name__ == "__main__":
    main()
