"""The Author page (AppTest) against the real vignettes, and the app on its own content folder.

Broken drafts show located errors; a real vignette pasted or uploaded previews stage by stage
without spoilers, to the reveal; oversized uploads are refused; nothing is ever written into
``content/``; the exports are offered. ``QUIZ_CONTENT_DIR`` points the app's library and
``python -m quiz --content DIR`` at a copy of ``content/`` with one more case.
"""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quiz.content import export, loader, yaml_reader
from quiz import store as store_module
from quiz.ui import author, common
from test_content import sources_dir

from apptest_support import (answer_stage, assert_no_exception, click, fresh_app, key_texts, page_app, page_text,
                             flat, reveal_texts, texts_of_stage)
from conftest import REPO

CONTENT = REPO / "content"
CASES = loader.load_content(CONTENT).cases
CASE_IDS = sorted(CASES)


def case_text(case_id: str) -> str:
    return (CONTENT / "cases" / f"{case_id}.yaml").read_text(encoding="utf-8")


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if "__pycache__" not in p.parts)

#: The seed reports' folder as the test run was given it, read before any test clears the variable.
SOURCES_ENV = os.environ.get("QUIZ_SOURCES_DIR")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A throw-away progress database and no sources folder; content/ is listed before and after each test."""
    for name in ("QUIZ_CONTENT_DIR", "QUIZ_SOURCES_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QUIZ_DATABASE_URL", f"sqlite:///{tmp_path / 'progress.sqlite3'}")
    before = listing(CONTENT)
    yield
    store_module.forget_stores()
    assert listing(CONTENT) == before, "the Author page must never write into content/"


def paste(at, text: str):
    at.text_area(key=author.TEXT_KEY).set_value(text)
    return at.run()


def problems(at):
    """The problems table as dicts (the first dataframe on the page while a draft is shown)."""
    assert at.table, "no problems table on the page"
    return at.table[0].value.reset_index().to_dict("records")


def line_of(text: str, pattern: str, start: int = 0) -> int:
    """1-based number of the first line at or after ``start`` (0-based) matching ``pattern``."""
    lines = text.splitlines()
    return next(i for i in range(start, len(lines)) if re.match(pattern, lines[i])) + 1


def has_preview(at) -> bool:
    return any(b.label == "Commit answers" for b in at.button)


# --- located errors ----------------------------------------------------------------------

def test_empty_page_explains_itself():
    at = page_app("author")
    assert_no_exception(at)
    text = page_text(at)
    assert "python -m quiz new ID" in text and "docs/authoring.md" in text
    assert "appear in the library" in text
    assert not has_preview(at)


def test_answer_naming_no_option_is_located():
    case_id = CASE_IDS[0]
    text = case_text(case_id)
    answer_line = line_of(text, r"^\s+answer:\s")  # the first question of the first stage
    lines = text.splitlines()
    lines[answer_line - 1] = re.sub(r"answer:.*", "answer: no-such-option", lines[answer_line - 1])
    at = paste(page_app("author"), "\n".join(lines) + "\n")
    assert_no_exception(at)
    rows = problems(at)
    wrong = [r for r in rows if r["Field"] == "stages[0].questions[0].answer"]
    assert wrong, rows
    assert wrong[0]["Line"] == answer_line
    assert wrong[0]["Severity"].endswith("Error")
    assert "'no-such-option' is not one of the options" in wrong[0]["Message"]
    page = page_text(at)
    assert "Errors make the case unplayable" in page
    assert f"{author.PASTED_NAME}:{answer_line}:" in page  # the validate-style lines, too
    assert not has_preview(at)


def test_each_problem_of_a_pasted_draft_has_a_button_to_its_line():
    case_id = CASE_IDS[0]
    text = case_text(case_id)
    answer_line = line_of(text, r"^\s+answer:\s")
    lines = text.splitlines()
    lines[answer_line - 1] = re.sub(r"answer:.*", "answer: no-such-option", lines[answer_line - 1])
    at = paste(page_app("author"), "\n".join(lines) + "\n")
    go = [b for b in at.button if b.label == f"Go to line {answer_line} in the draft"]
    assert go, [b.label for b in at.button]
    assert not any("setSelectionRange" in str(getattr(e, "proto", "")) for e in at.get("html"))
    go[0].click()
    at.run()
    assert_no_exception(at)
    scripts = [e.proto.body for e in at.get("html") if "setSelectionRange" in e.proto.body]
    assert len(scripts) == 1 and f"Math.min({answer_line}," in scripts[0]
    assert author.PASTE_LABEL in scripts[0]
    at.toggle(key="author-numbered").set_value(True)
    at.run()
    numbered = [c for c in at.code if c.language == "yaml" and "no-such-option" in c.value]
    assert numbered and numbered[0].proto.show_line_numbers


def test_duplicate_key_is_located_and_stops_the_read():
    text = case_text(CASE_IDS[1])
    difficulty = line_of(text, r"^difficulty:")
    lines = text.splitlines()
    lines.insert(difficulty, lines[difficulty - 1])  # the same key again on the next line
    answer = line_of(text, r"^\s+answer:\s")  # now one line further down
    lines[answer] = re.sub(r"answer:.*", "answer: no-such-option", lines[answer])  # hidden behind the YAML error
    at = paste(page_app("author"), "\n".join(lines) + "\n")
    assert_no_exception(at)
    rows = problems(at)
    assert len(rows) == 1, rows
    assert rows[0]["Line"] == difficulty + 1
    assert rows[0]["Field"] == "(whole file)"
    assert rows[0]["Severity"].endswith("Error")
    assert "duplicate key 'difficulty'" in rows[0]["Message"]
    assert f"first at line {difficulty}" in rows[0]["Message"]
    assert not has_preview(at)


def test_warnings_are_shown_in_words_and_the_case_still_previews():
    text = case_text(CASE_IDS[2])
    explanation = line_of(text, r"^\s+explanation:")
    lines = text.splitlines()
    indent = len(lines[explanation - 1]) - len(lines[explanation - 1].lstrip())
    # drop the option's explanation, with any continuation lines of a block scalar
    end = explanation
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
        end += 1
    del lines[explanation - 1:end]
    at = paste(page_app("author"), "\n".join(lines) + "\n")
    assert_no_exception(at)
    rows = problems(at)
    assert rows and all(r["Severity"].endswith("Warning") for r in rows), rows
    assert any("has no explanation" in r["Message"] for r in rows)
    assert "The case plays, but read the warnings" in page_text(at)
    assert has_preview(at)


def test_unknown_field_gets_a_hint_at_its_key():
    text = case_text(CASE_IDS[0])
    minutes = line_of(text, r"^minutes:")
    lines = text.splitlines()
    lines[minutes - 1] = lines[minutes - 1].replace("minutes:", "minuts:")
    rows = problems(paste(page_app("author"), "\n".join(lines) + "\n"))
    unknown = next(r for r in rows if r["Field"] == "minuts")
    assert unknown["Line"] == minutes and unknown["Column"] == 1
    assert "did you mean 'minutes'" in unknown["Message"]


# --- the preview -------------------------------------------------------------------------

def best(question):
    return question.answer


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_real_vignette_previews_to_the_reveal_without_spoilers(case_id):
    case = CASES[case_id]
    at = paste(page_app("author"), case_text(case_id))
    assert_no_exception(at)
    text = page_text(at)
    assert "No errors and no warnings" in text
    assert not at.table  # no problems table
    total = len(case.stages)
    for index in range(total):
        text = page_text(at)
        assert f"Stage {index + 1} of {total}" in text
        for finding in case.stages[index].findings:
            assert flat(finding.text) in text, f"stage {index + 1} finding missing"
        seen = {t for k in range(index + 1) for t in texts_of_stage(case, k)}
        hidden = [t for j in range(index + 1, total) for t in texts_of_stage(case, j) if t not in seen]
        hidden += list(key_texts(case, index)) + list(reveal_texts(case))
        for secret in hidden:
            assert secret not in text, f"before commit {index + 1}: shown too early: {secret[:80]!r}"
        at = answer_stage(at, case, index, best)
        assert_no_exception(at)
        text = page_text(at)
        assert "Feedback" in text and "Correct" in text
        at = click(at, f"Continue to stage {index + 2}" if index + 1 < total else "See what the authors did")
        assert_no_exception(at)
    text = page_text(at)
    for part in reveal_texts(case):
        assert part in text
    assert any(m.value == "100%" for m in at.metric)
    assert (at.dataframe[0].value["Credit"] == 1).all()

    at = click(at, "Restart preview")
    assert_no_exception(at)
    text = page_text(at)
    assert f"Stage 1 of {total}" in text and "Feedback" not in text
    assert case.reveal.diagnosis not in text
    radios = [r for r in at.radio if r.key.endswith(f"-1-{case.stages[0].questions[0].id}")]
    assert radios and radios[0].value is None  # the restarted form starts with nothing chosen


def test_editing_the_draft_keeps_answers_that_still_fit():
    case = CASES[CASE_IDS[0]]
    text = case_text(case.id)
    at = paste(page_app("author"), text)
    at = answer_stage(at, case, 0, best)
    at = click(at, "Continue to stage 2")
    at = paste(at, text.replace(case.title, case.title + " (edited)", 1))
    assert_no_exception(at)
    page = page_text(at)
    assert f"Stage 2 of {len(case.stages)}" in page and "starts again" not in page
    # an edit the committed answers no longer fit (a renamed question) restarts the preview
    qid = case.stages[0].questions[0].id
    renamed = re.sub(rf"(\bid:\s*){re.escape(qid)}\b", r"\g<1>renamed-question", text, count=1)
    assert renamed != text
    at = paste(at, renamed)
    assert_no_exception(at)
    page = page_text(at)
    assert "starts again" in page
    assert f"Stage 1 of {len(case.stages)}" in page and "Feedback" not in page


def test_upload_of_a_real_vignette_previews_and_is_downloadable():
    case_id = CASE_IDS[3]
    at = page_app("author")
    upload = (f"{case_id}.yaml", case_text(case_id).encode(), "application/x-yaml")
    at.file_uploader(key=author.UPLOAD_KEY).set_value(upload)
    at = at.run()
    assert_no_exception(at)
    assert "No errors and no warnings" in page_text(at)
    assert has_preview(at)
    assert "Download the YAML" in [b.label for b in at.get("download_button")]


def test_upload_under_another_name_reports_the_id():
    case_id = CASE_IDS[3]
    at = page_app("author")
    upload = ("renamed.yml", case_text(case_id).encode(), "application/x-yaml")
    at.file_uploader(key=author.UPLOAD_KEY).set_value(upload)
    rows = problems(at.run())
    assert any(r["Field"] == "id" and "must equal the file name 'renamed'" in r["Message"] for r in rows), rows


def test_oversized_upload_is_rejected():
    at = page_app("author")
    big = b"# padding\n" * (yaml_reader.MAX_BYTES // 10 + 1)
    assert len(big) > yaml_reader.MAX_BYTES
    at.file_uploader(key=author.UPLOAD_KEY).set_value(("huge.yaml", big, "application/x-yaml"))
    at = at.run()
    assert_no_exception(at)
    errors = [e.value for e in at.error]
    assert any("over the limit" in e and "huge.yaml" in e and f"{yaml_reader.MAX_BYTES:,}" in e for e in errors), errors
    assert not at.table and not has_preview(at)
    assert "Download the YAML" not in [b.label for b in at.get("download_button")]


def test_oversized_paste_is_rejected():
    at = paste(page_app("author"), "# padding\n" * (yaml_reader.MAX_BYTES // 10 + 1))
    assert_no_exception(at)
    assert any("The pasted text is" in e.value and "over the limit" in e.value for e in at.error)
    assert not at.table and not has_preview(at)


def test_image_paths_outside_the_content_folder_are_never_read(tmp_path):
    """A draft's image path is the one field that makes the server open a file: only content/ images are read."""
    import yaml

    data = yaml.safe_load(case_text(CASE_IDS[0]))
    data["stages"][0]["images"] = [
        {"path": "../data/quiz.sqlite3.png", "caption": "c", "alt": "a", "credit": "x"},
        {"path": str(tmp_path / "secret.png"), "caption": "c", "alt": "a", "credit": "x"},
        {"path": "cases/missing.png", "caption": "c", "alt": "a", "credit": "x"},
    ]
    (tmp_path / "secret.png").write_bytes(b"not for the browser")
    at = paste(page_app("author"), yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    assert_no_exception(at)
    messages = [r["Message"] for r in problems(at)]
    assert sum("outside the content folder" in m for m in messages) == 2, messages
    assert any("no such file in the content folder" in m for m in messages), messages
    assert has_preview(at) and not at.get("image")


def test_image_inside_the_content_folder_is_shown(tmp_path, monkeypatch):
    import yaml
    from PIL import Image as PILImage

    root = tmp_path / "bank"
    shutil.copytree(CONTENT, root)
    (root / "images").mkdir()
    PILImage.new("RGB", (4, 4), "white").save(root / "images" / "figure-1.png")
    monkeypatch.setenv("QUIZ_CONTENT_DIR", str(root))
    data = yaml.safe_load(case_text(CASE_IDS[0]))
    data["stages"][0]["images"] = [{"path": "images/figure-1.png", "caption": "Figure 1", "alt": "a", "credit": "x"}]
    draft = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    # F5: an anonymous draft naming an image of the content folder must not display it
    monkeypatch.delenv("QUIZ_INSTRUCTOR_PASSCODE", raising=False)
    at = paste(page_app("author"), draft)
    assert_no_exception(at)
    assert "No errors and no warnings" in page_text(at)
    assert has_preview(at) and not at.get("image")
    assert "shows images only to instructors" in page_text(at)

    monkeypatch.setenv("QUIZ_INSTRUCTOR_PASSCODE", "letmein-images")
    at = paste(page_app("author"), draft)
    assert has_preview(at) and not at.get("image")
    at.text_input(key="image-passcode-input").input("letmein-images")
    at.button(key="FormSubmitter:image-passcode-form-Enter").click().run()
    assert_no_exception(at)
    assert len(at.get("image")) == 1


def test_sources_check_is_automatic_and_confined(tmp_path, monkeypatch):
    sources = tmp_path / "sources"
    sources.mkdir()
    case = CASES[CASE_IDS[0]]
    quote = case.stages[0].findings[0].evidence[0]
    (tmp_path / "outside.txt").write_text(quote, encoding="utf-8")
    monkeypatch.setenv("QUIZ_SOURCES_DIR", str(sources))
    monkeypatch.setenv("QUIZ_INSTRUCTOR_PASSCODE", "a-long-passphrase")
    text = case_text(case.id)
    at = paste(page_app("author"), text)
    # quote checks show passages of the reports, so they wait for the instructor passcode
    assert not [c for c in at.checkbox if c.key == author.SOURCES_KEY]
    assert "Quote checks and the source search show passages of the reports" in page_text(at)
    at.text_input(key="sources-passcode-input").input("a-long-passphrase")
    at = at.button(key="FormSubmitter:sources-passcode-form-Enter").click().run()
    assert at.checkbox(key=author.SOURCES_KEY).value is True
    rows = problems(at)
    assert any(r["Field"] == "source.text_file" and "not found" in r["Message"] for r in rows), rows
    # a text_file outside the sources folder is not opened: no quote is reported found or missing
    line = line_of(text, r"^\s+text_file:")
    lines = text.splitlines()
    lines[line - 1] = re.sub(r"text_file:.*", "text_file: ../outside.txt", lines[line - 1])
    rows = problems(paste(at, "\n".join(lines) + "\n"))
    assert [r["Message"] for r in rows] == ["must name a file inside the sources folder; quotes not checked"]
    assert rows[0]["Line"] == line
    at.checkbox(key=author.SOURCES_KEY).uncheck()
    at = at.run()
    assert "No errors and no warnings" in page_text(at)


def test_a_missing_quote_shows_its_help_and_the_source_search_finds_the_passage(tmp_path, monkeypatch):
    case = CASES[CASE_IDS[0]]
    if SOURCES_ENV:  # the autouse fixture cleared it; sources_dir() reads it
        monkeypatch.setenv("QUIZ_SOURCES_DIR", SOURCES_ENV)
    monkeypatch.setenv("QUIZ_SOURCES_DIR", str(sources_dir()))
    monkeypatch.setenv("QUIZ_INSTRUCTOR_PASSCODE", "a-long-passphrase")
    quote = case.stages[0].findings[0].evidence[0]
    words = quote.split()
    altered = " ".join(words[:3] + ["truly"] + words[3:])
    text = case_text(case.id).replace(quote, altered, 1)
    at = page_app("author")
    at.session_state[common.PASSCODE_KEY] = "a-long-passphrase"
    at = paste(at, text)
    [row] = [r for r in problems(at) if "quote not found" in r["Message"]]
    assert row["Message"].startswith(f'quote not found in {case.source.text_file}: "{altered}"')
    assert "nearest passage" in row["Message"] and "first difference after" in row["Message"]
    # each problem in full, beside the lines it points at
    details = [t.value for t in at.get("text")]
    assert row["Message"] in details
    line = text.splitlines()[row["Line"] - 1]
    assert any(f"> {row['Line']} | {line}" in c.value for c in at.code)
    at.text_input(key="author-source-search").input(" ".join(words[:4])).run()
    assert any(c.value.startswith("- \"") and " ".join(words[:4]) in c.value for c in at.code)


# --- exports -----------------------------------------------------------------------------

def test_export_downloads_need_the_instructor_passcode(monkeypatch):
    monkeypatch.delenv("QUIZ_INSTRUCTOR_PASSCODE", raising=False)
    at = page_app("author")
    assert not at.get("download_button") or all("GIFT" not in b.label and "CSV" not in b.label
                                                 for b in at.get("download_button"))
    assert "Exporting the answer keys is locked" in page_text(at)

    monkeypatch.setenv("QUIZ_INSTRUCTOR_PASSCODE", "letmein")
    assert "too short" in page_text(page_app("author")), "a short passcode locks the exports too"
    monkeypatch.setenv("QUIZ_INSTRUCTOR_PASSCODE", "let-me-in-please")
    at = page_app("author")
    assert not [b for b in at.get("download_button") if "GIFT" in b.label]
    at.text_input(key="export-passcode-input").input("wrong")
    at.button(key="FormSubmitter:export-passcode-form-Enter").click().run()
    assert not [b for b in at.get("download_button") if "GIFT" in b.label]
    assert "Wrong passcode." in page_text(at)
    at.text_input(key="export-passcode-input").input("let-me-in-please")
    at.button(key="FormSubmitter:export-passcode-form-Enter").click().run()

    labels = [b.label for b in at.get("download_button")]
    assert "Download GIFT (Moodle question bank)" in labels
    assert "Download CSV with answer keys (for instructors)" in labels
    text = page_text(at)
    assert "For instructors only" in text and "answer keys" in text
    content = loader.load_content(CONTENT)
    gift, csv_text = author._export_texts(content)
    assert gift == export.to_gift(content) and csv_text == export.to_csv(content)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert {r["case_id"] for r in rows if r["question_set"] == "case"} == set(content.cases)
    count = sum(1 for _ in export.questions(content))
    assert f"{count} questions" in text


# --- an own content folder ---------------------------------------------------------------

def own_bank(tmp_path: Path) -> tuple[Path, str, str]:
    """A copy of content/ with one more valid case: a real one under a new id and title."""
    root = tmp_path / "bank"
    shutil.copytree(CONTENT, root)
    source_id = CASE_IDS[0]
    new_id = "extra-copied-vignette"
    new_title = "Extra copied vignette for the content-folder test"
    text = case_text(source_id)
    text = re.sub(rf"^id: {re.escape(source_id)}$", f"id: {new_id}", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^title: .*$", f"title: {new_title}", text, count=1, flags=re.MULTILINE)
    assert f"id: {new_id}" in text and f"title: {new_title}" in text
    (root / "cases" / f"{new_id}.yaml").write_text(text, encoding="utf-8")
    return root, new_id, new_title


def test_quiz_content_dir_adds_the_extra_case_to_the_library(tmp_path, monkeypatch):
    root, new_id, new_title = own_bank(tmp_path)
    monkeypatch.setenv("QUIZ_CONTENT_DIR", str(root))
    at = fresh_app()
    assert_no_exception(at)
    assert new_title in page_text(at)
    assert f"open-{new_id}" in [b.key for b in at.button]
    assert f"{len(CASES) + 1} of {len(CASES) + 1} cases" in page_text(at)
    # the Author page validates against that folder too
    author_page = page_app("author")
    assert "bank" in page_text(author_page)
    monkeypatch.delenv("QUIZ_CONTENT_DIR")
    assert new_title not in page_text(fresh_app())


def test_command_line_content_option_counts_the_extra_case(tmp_path):
    root, _, _ = own_bank(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZ_")}
    env["PYTHONPATH"] = str(REPO)
    files = len(CASES) + 2  # the cases and questions.yaml
    expected = f"{files} files, {len(CASES) + 1} valid cases, 0 errors"
    run = subprocess.run([sys.executable, "-m", "quiz", "--content", str(root), "validate"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith(expected), run.stdout
    run = subprocess.run([sys.executable, "-m", "quiz", "validate"], cwd=REPO,
                         env={**env, "QUIZ_CONTENT_DIR": str(root)}, capture_output=True, text=True, timeout=120)
    assert run.stdout.splitlines()[-1].startswith(expected), run.stdout


# --- the loader's confinement of source.text_file ------------------------------------------

def test_parse_case_does_not_open_text_files_outside_the_sources_folder(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    case_id = CASE_IDS[0]
    text = case_text(case_id)
    for escape in ("../outside.txt", str(tmp_path / "outside.txt")):
        raw = re.sub(r"text_file:.*", f"text_file: {escape}", text, count=1).encode()
        parsed = loader.parse_case(raw, "x.yaml", loader.load_content(CONTENT).catalogue, stem=case_id, sources=sources)
        assert parsed.model is not None
        messages = [p.message for p in parsed.problems]
        assert messages == ["must name a file inside the sources folder; quotes not checked"]
