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
REQUIRED = ["content.model", "content.loader", "play.engine", "content.checks", "content.evidence",
            "content.yaml_reader", "cli", "store", "play.progress"]


def core_modules() -> list[str]:
    """Every module of ``quiz/`` outside ``quiz/ui/``, the required ones first."""
    present = set()
    for path in (REPO / "quiz").rglob("*.py"):
        parts = path.relative_to(REPO / "quiz").with_suffix("").parts
        if parts[0] == "ui" or parts[-1] == "__main__":
            continue
        present.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    present.discard("")
    return REQUIRED + sorted(present - set(REQUIRED))


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
