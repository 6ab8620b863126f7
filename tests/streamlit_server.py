"""Start the real app with ``streamlit run`` on a free local port, for browser tests and benches."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("QUIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(env: dict[str, str], *, timeout: float = 60.0, port: int | None = None,
                args: tuple[str, ...] = ()) -> Iterator[str]:
    """Yield the base URL of ``streamlit run app.py`` started with ``env`` added; stop it afterwards.

    ``port`` when the URL must be known before the app starts (an OIDC redirect URI); ``args`` are
    more ``streamlit run`` options, such as ``--secrets.files=...``.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless=true",
               f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
               "--server.fileWatcherType=none", "--runner.postScriptGC=false", *args]
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{process.stdout.read()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not become healthy in time")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def learner_page(browser, url: str, learner: str, **options):
    """A page in a new browser context whose cookie holds the test learner's key (learner_support):
    the same ``learner`` in two contexts is one learner on two devices."""
    from learner_support import learner_key

    context = browser.new_context(**options)
    context.add_cookies([{"name": "quiz_learner", "value": learner_key(learner), "url": url}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page
