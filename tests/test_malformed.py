"""The corpus of hostile and broken files in tests/malformed/, checked two ways.

Each file must give exactly the error listed in ``malformed/expected.yaml`` (line,
column, field, message fragment), both through ``python -m quiz validate FILE`` run as
a subprocess (exit code 1, no traceback, ``path:line:column: field.path: message``
lines) and through :func:`quiz.content.loader.parse_case` directly.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import factories
from quiz.content import loader, yaml_reader

REPO = Path(__file__).resolve().parent.parent
MALFORMED = Path(__file__).resolve().parent / "malformed"
EXPECTED: list[dict] = yaml.safe_load((MALFORMED / "expected.yaml").read_text(encoding="utf-8"))
IDS = [entry["file"] for entry in EXPECTED]

#: ``path:line:column: [field.path: ]message`` (file-level problems have no field path)
LINE = re.compile(r"^(?P<path>[^:\s][^:]*):(?P<line>\d+):(?P<column>\d+): "
                  r"(?:(?P<field>[A-Za-z_][\w.\[\]-]*): )?(?P<message>\S.*)$")
SUMMARY = re.compile(r"^\d+ files, \d+ valid cases, \d+ errors, \d+ warnings$")


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZ_")}
    env["PYTHONPATH"] = str(REPO)
    return env


def run_validate(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quiz", *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=60)


def parse_output(stdout: str) -> tuple[list[dict], str]:
    """Problem lines as dicts, and the summary line; fails on any line of another form."""
    lines = stdout.splitlines()
    assert lines, "no output"
    summary = lines[-1]
    assert SUMMARY.match(summary), summary
    problems = []
    for line in lines[:-1]:
        match = LINE.match(line)
        assert match, f"not a path:line:column: field: message line: {line!r}"
        problems.append({**match.groupdict(), "field": match["field"] or ""})
    return problems, summary


@pytest.fixture(scope="module")
def content_root(tmp_path_factory) -> Path:
    """A content folder holding only the test catalogue (its cases/ is empty)."""
    return factories.write_content(tmp_path_factory.mktemp("content"), cases={})


@pytest.fixture(scope="module")
def cli_runs(content_root) -> dict[str, tuple[int, str, str]]:
    """``python -m quiz validate FILE`` for every corpus file, run in parallel once."""
    running = {}
    for entry in EXPECTED:
        files = [str((MALFORMED / f).relative_to(REPO)) for f in [*entry.get("with", []), entry["file"]]]
        running[entry["file"]] = subprocess.Popen(
            [sys.executable, "-m", "quiz", "--content", str(content_root), "validate", *files],
            cwd=REPO, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=120)
        out[name] = (process.returncode, stdout, stderr)
    return out


def test_every_file_has_an_expectation():
    on_disk = {str(p.relative_to(MALFORMED)) for p in MALFORMED.rglob("*.yaml")} - {"expected.yaml"}
    listed = {f for entry in EXPECTED for f in [entry["file"], *entry.get("with", [])]}
    assert on_disk == listed


@pytest.mark.parametrize("entry", EXPECTED, ids=IDS)
def test_validate_cli(entry, cli_runs):
    code, stdout, stderr = cli_runs[entry["file"]]
    assert "Traceback" not in stdout + stderr
    assert stderr == ""
    assert code == 1, stdout
    problems, summary = parse_output(stdout)
    errors = [p for p in problems if not p["message"].startswith("warning: ")]
    assert len(errors) == 1, stdout
    [problem] = errors
    assert problem["path"] == str(Path("tests", "malformed", entry["file"]))
    assert (int(problem["line"]), int(problem["column"])) == (entry["line"], entry["column"]), stdout
    assert problem["field"] == entry["field"], stdout
    assert entry["message"] in problem["message"], stdout
    assert ", 1 errors," in summary


@pytest.mark.parametrize("entry", EXPECTED, ids=IDS)
def test_parse_case(entry, content_root):
    path = MALFORMED / entry["file"]
    if entry.get("with"):  # a problem between files: only a folder load can see it
        content = loader.load_content(content_root, case_paths=[MALFORMED / f for f in entry["with"]] + [path])
        problems = content.problems
        assert len(content.cases) == 1
    else:
        parsed = loader.parse_case(path.read_bytes(), path.name, factories.catalogue_entries(), stem=path.stem)
        assert parsed.model is None
        problems = parsed.problems
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1, [str(p) for p in problems]
    [problem] = errors
    assert (problem.line, problem.column) == (entry["line"], entry["column"]), str(problem)
    assert problem.field == entry["field"], str(problem)
    assert entry["message"] in problem.message, str(problem)
    assert "\n" not in problem.message


def oversize_bytes() -> bytes:
    text = factories.minimal_case("oversize")
    padding = "x" * (yaml_reader.MAX_BYTES + 1024)
    return text.replace("  year: 2020\n", f"  year: 2020\n  note: {padding}\n").encode()


def test_oversize_parse_case():
    raw = oversize_bytes()
    assert len(raw) > yaml_reader.MAX_BYTES
    parsed = loader.parse_case(raw, "oversize.yaml", factories.catalogue_entries(), stem="oversize")
    [problem] = parsed.problems
    assert (problem.line, problem.column, problem.field) == (1, 1, "")
    assert f"larger than the limit of {yaml_reader.MAX_BYTES:,} bytes" in problem.message


def test_oversize_cli(tmp_path, content_root):
    path = tmp_path / "oversize.yaml"
    path.write_bytes(oversize_bytes())
    result = run_validate("--content", str(content_root), "validate", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    [problem], _ = parse_output(result.stdout)
    assert (problem["line"], problem["column"], problem["field"]) == ("1", "1", "")
    assert "larger than the limit of 1,048,576 bytes" in problem["message"]
