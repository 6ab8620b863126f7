"""What Streamlit itself charges per element: server CPU per rerun of synthetic pages, against an empty script.

    python bench/element_cost.py [--reruns 300]

Starts `streamlit run` on generated scripts (an empty one; then 10, 30 and 60 elements, two
thirds Markdown and one third radios, about the mix of the player) with this app's runner
settings, reruns each over Streamlit's websocket protocol (the client of bench/class_room.py) and
prints the server process's CPU time per rerun and its ratio to the empty script's. It bounds what
any page of that many elements can cost: bench/ui_rerun.py's target (the player at most 3x an
empty script) needs a rerun that draws fewer than about 30 elements. Figures, not pass/fail.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench"), str(REPO / "tests")]

from class_room import Browser  # noqa: E402
from streamlit_server import free_port  # noqa: E402


def script(elements: int) -> str:
    radios = elements // 3
    lines = ["import streamlit as st", "st.write('')"]
    lines += [f"st.markdown('Finding **{i}**: a line of text about the case, as a stage shows it.')"
              for i in range(elements - radios)]
    lines += [f"st.radio('Question {i}', ['a', 'b', 'c', 'd'], index=None, key='q{i}')" for i in range(radios)]
    return "\n".join(lines) + "\n"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def cpu_per_rerun(path: Path, reruns: int) -> float:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(path), "--server.headless=true", f"--server.port={port}",
         "--server.address=127.0.0.1", "--runner.postScriptGC=false", "--runner.fastReruns=false",
         "--runner.magicEnabled=false", "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        done = asyncio.Event()
        browser = Browser(port, "", lambda element, now: None, lambda now: done.set(), lambda: None)
        for _ in range(120):  # the server takes a few seconds to listen
            try:
                await browser.open()
                break
            except OSError:
                await asyncio.sleep(0.25)
        await asyncio.wait_for(done.wait(), 60)
        start = cpu_seconds(server.pid)
        for _ in range(reruns):
            done.clear()
            await browser.rerun()
            await asyncio.wait_for(done.wait(), 60)
        used = cpu_seconds(server.pid) - start
        await browser.close()
        return used / reruns
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = {}
        for elements in (0, 10, 30, 60):
            path = Path(folder) / f"page_{elements}.py"
            path.write_text(script(elements))
            started = time.monotonic()
            figures[elements] = asyncio.run(cpu_per_rerun(path, args.reruns))
            print(f"{elements:3d} elements: {figures[elements] * 1000:6.2f} ms server CPU per rerun, "
                  f"ratio {figures[elements] / figures[0]:5.2f} ({time.monotonic() - started:.0f} s)", flush=True)
        per_element = (figures[60] - figures[0]) / 60
        print(f"empty_ms={figures[0] * 1000:.2f} per_element_ms={per_element * 1000:.3f} "
              + " ".join(f"ratio_{n}={figures[n] / figures[0]:.2f}" for n in (10, 30, 60)))


if __name__ == "__main__":
    main()
