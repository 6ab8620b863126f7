"""The set-up commands of the README: a virtual environment made once and reused, clear refusals.

The whole suite runs inside the environment ``scripts/venv.sh`` made (``scripts/test.sh`` sources it),
so these tests check that a second run reuses it and that a Python it cannot use gets a message.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def source_venv(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    script = 'set -euo pipefail; source scripts/venv.sh; command -v python'
    return subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})


def test_a_second_run_reuses_the_environment(tmp_path):
    if not (Path(sys.prefix) / "pyvenv.cfg").exists():
        pytest.fail(f"the suite must run inside the venv scripts/venv.sh makes (sys.prefix is {sys.prefix}); "
                    "run it with bash scripts/test.sh")
    done = source_venv(tmp_path, QUIZ_VENV=sys.prefix, QUIZ_PYTHON=sys.executable)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(Path(sys.prefix) / "bin" / "python")
    assert "making a virtual environment" not in done.stderr
    assert "installing" not in done.stderr


def test_a_too_old_python_is_refused_with_its_version(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text('#!/bin/sh\nif [ "$1" = "-V" ]; then echo "Python 3.9.2"; exit 0; fi\nexit 1\n')
    fake.chmod(0o755)
    done = source_venv(tmp_path, QUIZ_PYTHON=str(fake), QUIZ_VENV=str(tmp_path / "venv"))
    assert done.returncode == 1
    assert "Python 3.9.2 is too old: this app needs Python 3.11 or newer" in done.stderr
    assert not (tmp_path / "venv").exists()


def test_a_missing_python_is_named(tmp_path):
    done = source_venv(tmp_path, QUIZ_PYTHON="python3-not-here", QUIZ_VENV=str(tmp_path / "venv"))
    assert done.returncode == 1
    assert "python3-not-here not found" in done.stderr


def test_a_refusal_in_an_interactive_shell_leaves_the_shell_open(tmp_path):
    """README: ``source scripts/venv.sh`` in one's own shell; a refusal must not close that shell."""
    script = 'source scripts/venv.sh; echo "shell still open, status $?"'
    done = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "QUIZ_PYTHON": "python3-not-here", "QUIZ_VENV": str(tmp_path / "venv")})
    assert "python3-not-here not found" in done.stderr
    assert "shell still open, status 1" in done.stdout


def test_the_systemd_unit_is_valid_and_starts_the_app_from_the_venv(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing (Debian package systemd)")
    unit = (REPO / "deploy" / "quiz.service").read_text()
    assert "ExecStart=/srv/quiz/.venv/bin/python -m streamlit run /srv/quiz/app.py" in unit
    local = tmp_path / "quiz.service"
    local.write_text(unit.replace("/srv/quiz/.venv", sys.prefix).replace("/srv/quiz", str(REPO)))
    (REPO / "data").mkdir(exist_ok=True)
    done = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr
