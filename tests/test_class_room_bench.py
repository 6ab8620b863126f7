"""bench/class_room.py runs: five simulated phones over Streamlit's websocket protocol follow a class and lose nothing.

Not a timed test: the figures are printed for people to read (docs/deploy.md); this only checks
that the protocol client still works against the real app (it joins through the page's own
widgets, follows every instructor action, and its answers reach the database).
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(
    r"^store=sqlite processes=1 students=5 follow_p50_s=(\d+\.\d\d) follow_p95_s=(\d+\.\d\d) "
    r"submit_p95_ms=(\d+) lost=(\d+) missed=(\d+) cpu_ms_per_poll=\d+\.\d\d idle_cpu_pct=\d+ "
    r"rss_mb_per_session=-?\d+\.\d\d$", re.M)


@pytest.mark.bench
def test_quick_class_over_the_websocket_protocol() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "class_room.py"), "--quick", "--students", "5"],
                          cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = SUMMARY.findall(done.stdout)
    assert len(lines) == 1, done.stdout
    follow_p50, follow_p95, _, lost, missed = lines[0]
    assert (lost, missed) == ("0", "0"), done.stdout
    assert 0 < float(follow_p50) <= float(follow_p95), done.stdout
    assert "joined 5/5" in done.stdout
    for action in ("start->1/waiting", "open->1/open", "close->1/closed", "reveal->1/revealed"):
        assert action in done.stdout, done.stdout
