"""The core package works without Streamlit: the command line, tests and exports must not import it.

Streamlit belongs to ``app.py`` and ``quiz/ui/`` only. The check runs in a fresh
interpreter, importing the modules one by one, so it names the first that pulls it in.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUIRED = ["model", "loader", "engine", "checks", "evidence", "yaml_reader", "cli"]
OPTIONAL = ["store", "progress", "classroom"]


def core_modules() -> list[str]:
    present = {p.stem for p in (REPO / "quiz").glob("*.py")} - {"__init__", "__main__"}
    others = sorted(present - set(REQUIRED) - set(OPTIONAL))
    return REQUIRED + [m for m in OPTIONAL if m in present] + others


SCRIPT = """
import json, sys
culprits = {}
for name in sys.argv[1:]:
    __import__("quiz." + name)
    loaded = sorted(m for m in sys.modules if m == "streamlit" or m.startswith("streamlit."))
    if loaded and not culprits:
        culprits[name] = loaded[:5]
print(json.dumps({"culprits": culprits, "imported": [m for m in sys.argv[1:] if "quiz." + m in sys.modules]}))
"""


def test_core_modules_do_not_import_streamlit():
    modules = core_modules()
    assert set(REQUIRED) <= set(modules)
    result = subprocess.run([sys.executable, "-c", SCRIPT, *modules], cwd=REPO, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["imported"] == modules
    assert report["culprits"] == {}, f"imports streamlit: {report['culprits']}"
