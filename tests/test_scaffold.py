"""``python -m quiz new``: the skeleton parses, lists every placeholder, and validates once filled."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from quiz import cli
from quiz.content import loader, scaffold
from quiz.content.checks import PLACEHOLDER
from quiz.content.model import Case

REPO = Path(__file__).resolve().parent.parent

# A catalogue small enough to reason about, used when the real bank is mid-edit and invalid.
MINIMAL_BANK = """\
catalogue:
""" + "".join(
    f"- {{id: {i}, kind: {kind}, label: {i.replace('-', ' ').capitalize()}, description: Test entry.}}\n"
    for kind, ids in {
        "diagnosis": ["leiomyosarcoma", "lymphoma", "schwannoma", "metastatic-carcinoma", "mpnst"],
        "next_step": ["mri-region", "ct-region", "core-needle-biopsy", "ihc-panel", "wide-excision"],
    }.items()
    for i in ids
)


@pytest.fixture
def root(tmp_path: Path, monkeypatch) -> Path:
    """A writable copy of the content folder whose question bank is valid (no source-text checks)."""
    monkeypatch.delenv("QUIZ_SOURCES_DIR", raising=False)
    target = tmp_path / "content"
    shutil.copytree(REPO / "content", target)
    if not scaffold.read_catalogue(target):
        (target / loader.BANK_FILE).write_text(MINIMAL_BANK, encoding="utf-8")
    assert scaffold.read_catalogue(target)
    return target


def new(root: Path, *args: str) -> int:
    return cli.main(["--content", str(root), "new", *args])


def case_problems(root: Path, path: Path):
    """Problems of one case file (validated together with the folder's question bank)."""
    content = loader.load_content(root, case_paths=[path])
    return [p for p in content.problems if Path(p.file).resolve() == path.resolve()]


def todo_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1) if PLACEHOLDER in line]


def fill(text: str) -> str:
    """Replace every placeholder string by plain text, as an author would."""
    counter = iter(range(1, 10_000))
    return re.sub(r'"TODO:[^"]*"', lambda _: f'"Written text number {next(counter)}."', text)


def test_new_writes_a_commented_skeleton_that_parses(root: Path, capsys) -> None:
    assert new(root, "neck-mass") == cli.EXIT_OK
    path = root / "cases" / "neck-mass.yaml"
    assert "wrote" in capsys.readouterr().out
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schema/case.schema.json"
    data = yaml.safe_load(text)
    case = Case.model_validate(data)  # every required field is present and of the right shape
    assert case.id == "neck-mass"
    assert [s.kind for s in case.stages] == ["presentation", "imaging", "histology"]
    assert PLACEHOLDER in case.title and PLACEHOLDER in case.reveal.diagnosis


def test_questions_use_real_catalogue_ids_of_the_right_kind(root: Path) -> None:
    catalogue = scaffold.read_catalogue(root)
    assert new(root, "neck-mass") == cli.EXIT_OK
    case = Case.model_validate(yaml.safe_load((root / "cases" / "neck-mass.yaml").read_text(encoding="utf-8")))
    for stage in case.stages:
        assert sorted(q.kind for q in stage.questions) == ["diagnosis", "next_step"]
        for question in stage.questions:
            assert len(question.options) == 4
            for option in question.options:
                assert option.id in catalogue and catalogue[option.id].kind == question.kind
                assert option.explanation and PLACEHOLDER in option.explanation
            assert question.answer in {o.id for o in question.options}
    assert case.reveal.diagnosis_id in catalogue


def test_validate_reports_every_placeholder_at_its_line(root: Path) -> None:
    assert new(root, "neck-mass") == cli.EXIT_OK
    path = root / "cases" / "neck-mass.yaml"
    lines = todo_lines(path.read_text(encoding="utf-8"))
    problems = case_problems(root, path)
    placeholders = [p for p in problems if p.message.startswith("placeholder not filled in")]
    assert len(placeholders) == len(lines) > 20
    assert sorted(p.line for p in placeholders) == lines
    assert all(p.severity == "error" for p in placeholders)
    assert problems == placeholders, "the skeleton should report nothing but its placeholders"


def test_filled_skeleton_validates_cleanly(root: Path, capsys) -> None:
    assert new(root, "neck-mass") == cli.EXIT_OK
    path = root / "cases" / "neck-mass.yaml"
    filled = fill(path.read_text(encoding="utf-8"))
    assert PLACEHOLDER not in filled
    path.write_text(filled, encoding="utf-8")
    assert case_problems(root, path) == []
    capsys.readouterr()
    assert cli.main(["--content", str(root), "validate", str(path)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "1 valid cases, 0 errors" in out
    assert not [line for line in out.splitlines() if "neck-mass.yaml:" in line]


def test_skeleton_without_a_catalogue_uses_labelled_options() -> None:
    text = scaffold.render("neck-mass", {})
    Case.model_validate(yaml.safe_load(text))
    parsed = loader.parse_case(text.encode(), "neck-mass.yaml", {}, stem="neck-mass")
    errors = [p for p in parsed.problems if p.severity == "error"]
    assert len(errors) == len(todo_lines(text))
    assert all(p.message.startswith("placeholder not filled in") for p in errors)
    filled = loader.parse_case(fill(text).encode(), "neck-mass.yaml", {}, stem="neck-mass")
    assert filled.model is not None
    assert [p.message for p in filled.problems] == ["no diagnosis_id: answers cannot be compared across cases"]


def test_refuses_to_overwrite_without_force(root: Path, capsys) -> None:
    path = root / "cases" / "neck-mass.yaml"
    path.write_text("id: neck-mass\n", encoding="utf-8")
    assert new(root, "neck-mass") == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err
    assert path.read_text(encoding="utf-8") == "id: neck-mass\n"
    assert new(root, "neck-mass", "--force") == cli.EXIT_OK
    assert path.read_text(encoding="utf-8").startswith("# yaml-language-server:")


@pytest.mark.parametrize(
    "bad", ["Neck-Mass", "neck mass", "-neck", "neck-", "neck--mass", "../evil", "neck/mass", "x" * 81, ""]
)
def test_rejects_an_invalid_id(root: Path, capsys, bad: str) -> None:
    before = sorted(p.name for p in (root / "cases").iterdir())
    assert new(root, "--", bad) == cli.EXIT_USAGE  # "--": an id may start with "-"
    assert "invalid case id" in capsys.readouterr().err
    assert sorted(p.name for p in (root / "cases").iterdir()) == before


def test_missing_content_folder_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert new(tmp_path / "nowhere", "neck-mass") == cli.EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err


def test_creates_the_cases_folder_of_a_new_content_folder(tmp_path: Path) -> None:
    (tmp_path / loader.BANK_FILE).write_text(MINIMAL_BANK, encoding="utf-8")
    assert new(tmp_path, "neck-mass") == cli.EXIT_OK
    assert (tmp_path / "cases" / "neck-mass.yaml").is_file()


def test_pick_prefers_the_listed_ids_then_fills_from_the_catalogue() -> None:
    catalogue = {e.id: e for e in loader.parse_bank(MINIMAL_BANK.encode(), "q.yaml").model.catalogue}
    assert scaffold.pick("diagnosis", ["schwannoma", "unknown-id", "mri-region"], catalogue) == [
        "schwannoma", "leiomyosarcoma", "lymphoma", "metastatic-carcinoma"]
    assert scaffold.pick("next_step", [], catalogue, 2) == ["mri-region", "ct-region"]


# --- quiz init: a fresh bank ------------------------------------------------------------------

def _quiz(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZ_")}
    return subprocess.run([sys.executable, "-m", "quiz", *args], cwd=REPO, env={**env, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)


def test_init_makes_a_bank_that_validates_strictly_as_it_is(tmp_path):
    bank = tmp_path / "bank"
    made = _quiz("init", str(bank))
    assert made.returncode == 0, made.stderr
    assert (bank / "schema" / "case.schema.json").is_file() and (bank / "schema" / "questions.schema.json").is_file()
    assert [p.name for p in (bank / "cases").iterdir()] == ["right-sided-pain-numbness-weakness.yaml"]
    checked = _quiz("--content", str(bank), "validate", "--strict")
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.strip().splitlines()[-1] == "2 files, 1 valid cases, 0 errors, 0 warnings"
    # the example can go: the bank still validates, and a new skeleton takes its options from it
    (bank / "cases" / "right-sided-pain-numbness-weakness.yaml").unlink()
    assert _quiz("--content", str(bank), "validate", "--strict").returncode == 0
    assert _quiz("--content", str(bank), "new", "my-first-case").returncode == 0


def test_init_refuses_a_folder_that_holds_files(tmp_path):
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "notes.txt").write_text("mine", encoding="utf-8")
    refused = _quiz("init", str(tmp_path / "bank"))
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"error: {tmp_path / 'bank'} already exists and is not an empty folder; choose a new folder"
    assert (tmp_path / "bank" / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_schema_with_content_writes_into_that_folder(tmp_path):
    done = _quiz("--content", str(tmp_path), "schema")
    assert done.returncode == 0
    assert done.stdout.splitlines() == [f"wrote {tmp_path / 'schema' / 'case.schema.json'}",
                                        f"wrote {tmp_path / 'schema' / 'questions.schema.json'}"]
