"""``python -m quiz validate|schema``: located problems, and exit codes 0 valid, 1 invalid, 2 usage."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import factories
from quiz import cli
from quiz.content import schema

REPO = Path(__file__).resolve().parent.parent
PROBLEM_LINE = re.compile(r"^[^:\s][^:]*:\d+:\d+: (?:[A-Za-z_][\w.\[\]-]*: )?\S.*$")
SUMMARY = re.compile(r"^(\d+) files, (\d+) valid cases, (\d+) errors, (\d+) warnings$")


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("QUIZ_")}
    base["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-m", "quiz", *args], cwd=REPO, env={**base, **(env or {})},
                            capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def summary(stdout: str) -> tuple[int, ...]:
    lines = stdout.splitlines()
    match = SUMMARY.match(lines[-1])
    assert match, stdout
    for line in lines[:-1]:
        assert PROBLEM_LINE.match(line) or line.startswith("  "), line  # details of a problem are indented
    return tuple(int(n) for n in match.groups())


@pytest.fixture
def content(tmp_path) -> Path:
    """A valid folder with two cases, one of which has a lint warning."""
    warned = factories.minimal_case("warned").replace(
        "title: A growing lump in the thigh of a 50-year-old man", "title: A soft-tissue sarcoma of the thigh")
    return factories.write_content(tmp_path / "content", {"clean": factories.minimal_case("clean"), "warned": warned})


def break_case(root: Path, stem: str = "clean") -> Path:
    path = root / "cases" / f"{stem}.yaml"
    path.write_text(factories.minimal_case(stem).replace("minutes: 10", "minutes: lots"), encoding="utf-8")
    return path


# --- exit codes (as a subprocess) ---------------------------------------------------

def test_valid_folder_exits_0(content):
    result = run("validate", str(content))
    assert result.returncode == 0, result.stdout
    assert summary(result.stdout) == (3, 2, 0, 1)
    assert result.stdout.splitlines()[0].endswith("title: warning: names the diagnosis ('Soft-tissue sarcoma'); "
                                                  "describe the presentation instead")


def test_invalid_folder_exits_1_with_located_lines(content):
    path = break_case(content)
    result = run("validate", str(content))
    assert result.returncode == 1
    assert summary(result.stdout) == (3, 1, 1, 1)
    assert f"{os.path.relpath(path, REPO)}:13:10: minutes: input should be a valid integer" in result.stdout


def test_strict_turns_warnings_into_errors(content):
    result = run("validate", "--strict", str(content))
    assert result.returncode == 1
    assert summary(result.stdout) == (3, 2, 1, 0)
    assert "warning:" not in result.stdout


@pytest.mark.parametrize("args", [
    ["validate", "--bogus"],
    ["--content"],
    [],
    ["frobnicate"],
    ["validate", "does/not/exist.yaml"],
    ["validate", "no-such-folder/"],
])
def test_usage_errors_exit_2(args, content):
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip()


def test_sources_must_be_a_folder(content, tmp_path):
    result = run("validate", "--sources", str(tmp_path / "missing"), str(content))
    assert result.returncode == 2
    assert "is not a folder" in result.stderr


def test_help_exits_0():
    assert run("validate", "--help").returncode == 0


# --- finding the content root (in-process) ---------------------------------------------

def test_a_case_file_is_validated_against_its_own_folders_catalogue(content, capsys):
    assert cli.main(["validate", str(content / "cases" / "clean.yaml")]) == 0
    assert capsys.readouterr().out.strip() == "2 files, 1 valid cases, 0 errors, 0 warnings"


def test_the_cases_folder_means_the_whole_content_folder(content, capsys):
    assert cli.main(["validate", str(content / "cases")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "3 files, 2 valid cases, 0 errors, 1 warnings"


def test_content_option_and_environment_variable(content, capsys, monkeypatch, tmp_path):
    stray = tmp_path / "stray" / "clean.yaml"  # no questions.yaml near it: the --content catalogue is used
    stray.parent.mkdir()
    stray.write_text(factories.minimal_case("clean"), encoding="utf-8")
    assert cli.main(["--content", str(content), "validate", str(stray)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("QUIZ_CONTENT_DIR", str(content))
    assert cli.main(["validate"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "3 files, 2 valid cases, 0 errors, 1 warnings"
    break_case(content)
    assert cli.main(["validate"]) == 1


def test_several_files_are_validated_together(content, capsys):
    other = content / "cases" / "other.yaml"
    other.write_text(factories.minimal_case("other"), encoding="utf-8")
    assert cli.main(["validate", str(other), str(content / "cases" / "clean.yaml")]) == 0
    assert capsys.readouterr().out.strip() == "3 files, 2 valid cases, 0 errors, 0 warnings"


# --- schema -----------------------------------------------------------------------------

def test_schema_writes_what_render_returns(tmp_path, capsys):
    assert cli.main(["schema", "--out", str(tmp_path / "schema")]) == 0
    written = sorted(p.name for p in (tmp_path / "schema").iterdir())
    assert written == sorted(schema.render())
    for name, text in schema.render().items():
        assert (tmp_path / "schema" / name).read_text(encoding="utf-8") == text
    assert capsys.readouterr().out.count("wrote ") == len(written)
