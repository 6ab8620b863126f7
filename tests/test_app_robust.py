"""The real app (AppTest) against the probes of security-probe.md and new-user-self-study.md that are pages:
F1/F2 on the Author page, F7 markdown in query parameters, F8 what the content notice tells learners,
F9 a broken file mid-session, B10 one upload limit, and what learners see (B3, B4, B5, B7, scrolling).
Each test makes the attack or the situation first.
"""
from __future__ import annotations

import pickle
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from quiz import store as store_module
from quiz.content import loader, yaml_reader
from quiz.ui import author

from apptest_support import answer_stage, assert_no_exception, click, fresh_app, page_app, page_text
from conftest import REPO

CONTENT = REPO / "content"
CASES = loader.load_content(CONTENT).cases
LIVER = CASES["abnormal-liver-tests-abdominal-discomfort"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    for name in ("QUIZ_CONTENT_DIR", "QUIZ_SOURCES_DIR", "QUIZ_INSTRUCTOR_PASSCODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QUIZ_DATABASE_URL", f"sqlite:///{tmp_path / 'progress.sqlite3'}")
    yield
    store_module.forget_stores()


def best(question):
    return question.answer


def paste(at, text: str):
    at.text_area(key=author.TEXT_KEY).set_value(text)
    return at.run()


def charts(at) -> list:
    return list(at.get("vega_lite_chart"))


def own_content(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    monkeypatch.setenv("QUIZ_CONTENT_DIR", str(root))
    return root


# --- F1, F2: the Author page stays small -------------------------------------------------

def test_f1_ninety_nine_thousand_empty_stages_give_a_short_table_and_keep_nothing_big():
    at = paste(page_app("author"), "stages:\n" + "- {}\n" * 99_000)
    assert_no_exception(at)
    rows = at.table[0].value.reset_index().to_dict("records")
    assert len(rows) <= 201
    assert any(r["Field"] == "stages" and "too many items (99,000)" in r["Message"] for r in rows), rows[:5]
    kept = at.session_state[author.PARSED_KEY][2]
    assert len(pickle.dumps(kept)) < 100_000  # the check, not the 99,000-value document behind it


def test_f2_a_draft_of_near_miss_ids_gets_twenty_hints_at_most():
    text = (CONTENT / "cases" / f"{LIVER.id}.yaml").read_text(encoding="utf-8")
    options = sorted({o.id for s in LIVER.stages for q in s.questions for o in q.options})
    for option in options:  # every catalogue id one letter off
        text = re.sub(rf"(- id: ){re.escape(option)}\b", rf"\g<1>{option[:-1]}x", text)
    at = paste(page_app("author"), text)
    assert_no_exception(at)
    messages = [r["Message"] for r in at.table[0].value.reset_index().to_dict("records")]
    assert sum("is not in the catalogue" in m for m in messages) > 20
    assert sum("did you mean" in m for m in messages) <= 20


# --- B10, F3: one limit, said the same everywhere ----------------------------------------

def test_b10_the_upload_limit_is_one_megabyte_everywhere():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == 1  # enforced by the server on every upload request
    assert yaml_reader.MAX_BYTES == 2**20  # Streamlit's "1MB" is a MiB
    at = page_app("author")
    [uploader] = at.get("file_uploader")
    assert uploader.proto.max_upload_size_mb == 1
    captions = " ".join(c.value for c in at.caption)
    assert "1 MB" in captions and "KiB" not in captions


# --- F7: query parameters are shown as text ----------------------------------------------

PAYLOAD = "[Session expired - log in again](http://attacker.example/login)![t](http://attacker.example/t.png)"


def test_f7_a_case_link_holding_markdown_is_shown_as_plain_text():
    at = fresh_app(case=PAYLOAD, learner="Ada")
    assert_no_exception(at)
    markdown_bodies = [e.value for e in (*at.error, *at.markdown, *at.caption, *at.info, *at.warning)]
    assert not [b for b in markdown_bodies if "attacker.example" in b], markdown_bodies
    assert any(PAYLOAD[:80] in c.value for c in at.code)


def test_f7_a_join_link_holding_markdown_is_shown_as_plain_text():
    at = page_app("class_student", join=PAYLOAD)
    assert_no_exception(at)
    markdown_bodies = [e.value for e in (*at.error, *at.markdown, *at.caption, *at.info, *at.warning)]
    assert not [b for b in markdown_bodies if "attacker.example" in b], markdown_bodies
    assert any("attacker.example" in c.value for c in at.code)


# --- F8, F9: a broken file, seen by learners and authors ---------------------------------

def break_answer(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(\n\s+answer: )(\S+)", r"\1\2-typo", text, count=1), encoding="utf-8")


def test_f8_learners_see_where_a_file_is_broken_but_not_the_message(tmp_path, monkeypatch):
    root = own_content(tmp_path, monkeypatch)
    bad = root / "cases" / "broken-draft.yaml"
    text = (root / "cases" / f"{LIVER.id}.yaml").read_text(encoding="utf-8").replace(f"id: {LIVER.id}", "id: broken-draft", 1)
    bad.write_text(text.replace("diagnosis_id: metastatic-leiomyosarcoma", "diagnosis_id: metastatic-leiomyosarcomx"),
                   encoding="utf-8")
    at = fresh_app()
    assert_no_exception(at)
    learners = page_text(at)
    assert "broken-draft.yaml" in learners and "reveal.diagnosis_id" in learners
    assert "metastatic-leiomyosarcoma" not in learners and "did you mean" not in learners
    authors = page_text(page_app("author"))
    assert "did you mean 'metastatic-leiomyosarcoma'?" in authors  # the authors' page says what is wrong


def test_f9_a_case_broken_mid_session_stays_playable(tmp_path, monkeypatch):
    root = own_content(tmp_path, monkeypatch)
    at = fresh_app(case=LIVER.id, learner="Mid Class")
    at = answer_stage(at, LIVER, 0, best)
    at = click(at, "Continue to stage 2")
    path = root / "cases" / f"{LIVER.id}.yaml"
    break_answer(path)
    stat = path.stat()
    import os

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    at = at.run()
    assert_no_exception(at)
    text = page_text(at)
    assert "Stage 2 of 5" in text and any(b.label == "Commit answers" for b in at.button)
    library = fresh_app()
    assert f"open-{LIVER.id}" in [b.key for b in library.button]
    assert "last valid version" in page_text(library)


# --- what learners see (issue 9 part 4) --------------------------------------------------

def test_b5_search_finds_only_what_a_card_shows():
    cards = " ".join(" ".join([c.title, c.summary, c.difficulty, *c.tags.region, *c.tags.specialty])
                     for c in CASES.values()).lower()
    hidden = sorted({w for c in CASES.values() for o in c.objectives for w in re.findall(r"[a-z]{7,}", o.lower())
                     if w not in cards})
    assert hidden  # the objectives hold words that no card shows ...
    at = fresh_app()
    at.text_input(key="library-search").set_value(hidden[0]).run()
    assert not [b for b in at.button if b.key.startswith("open-")]  # ... and searching one finds no card


def test_b3_my_progress_leaves_out_the_origin_of_an_unfinished_case():
    case = CASES["chronic-back-pain-gait-disturbance"]
    answer_stage(fresh_app(case=case.id, learner="Partial"), case, 0, best)
    at = page_app("dashboard", learner="Partial")
    assert_no_exception(at)
    data = b"".join(c.proto.SerializeToString() for c in charts(at))
    assert data and case.tags.region[0].encode() in data
    assert case.tags.origin.encode() not in data


def test_b7_over_time_shows_points_and_attempts_show_no_none():
    answer_stage(fresh_app(case=LIVER.id, learner="One Day"), LIVER, 0, best)
    at = page_app("dashboard", learner="One Day")
    assert_no_exception(at)
    specs = [c.proto.spec for c in charts(at)]
    assert len(specs) >= 3 and any('"point"' in s for s in specs)  # a single day is a point, not an empty line
    assert all('"labelLimit"' in s for s in specs[:2])  # labels are not cut
    [attempts] = [d.value for d in at.dataframe if "not yet" in d.value.to_csv()]  # the attempts table
    assert "None" not in attempts.to_csv() and attempts.isna().sum().sum() == 0
    assert list(attempts.iloc[0]) [2] == "not yet"


def test_b4_a_table_in_a_finding_keeps_one_row_per_line_in_its_list_item():
    at = fresh_app(case=LIVER.id, learner="Tables")
    body = next(m.value for m in at.markdown if "Alkaline phosphatase" in m.value)
    assert "\n  | --- | --- |\n  | Alkaline phosphatase | 286 U/L |" in body
    at = answer_stage(at, LIVER, 0, best)
    for index in range(1, 4):
        at = click(at, f"Continue to stage {index + 1}")
        at = answer_stage(at, LIVER, index, best)
    at = click(at, "Continue to stage 5")
    body = next(m.value for m in at.markdown if "occipital condyle" in m.value)
    assert "\n\n  - **bones:**" in body and "\n  - **muscles:**" in body  # a nested list, one item a line


def test_continue_scrolls_to_the_new_stage_and_the_reveal_to_its_top():
    case = min(CASES.values(), key=lambda c: len(c.stages))
    at = answer_stage(fresh_app(case=case.id, learner="Scroll"), case, 0, best)
    assert not at.get("html")  # nothing to scroll to after a commit: the feedback is where the learner is
    at = click(at, "Continue to stage 2")
    [script] = at.get("html")
    assert "-stage-2" in script.proto.body and "scrollIntoView" in script.proto.body
    at = at.run()
    assert not at.get("html")  # once: a later rerun (a toggle, a radio) leaves the page where it is
    for index in range(1, len(case.stages)):
        at = answer_stage(at, case, index, best)
        last = index + 1 == len(case.stages)
        at = click(at, "See what the authors did" if last else f"Continue to stage {index + 2}")
    [script] = at.get("html")
    assert "-reveal" in script.proto.body
    at = click(at, "Back to all cases")
    [script] = at.get("html")
    assert "library-top" in script.proto.body
