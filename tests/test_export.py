"""``python -m quiz export``: GIFT and CSV of every valid case question and every review question.

Assertions are made against whatever the content folder holds when the tests run
(authors may be mid-edit), never against hard-coded counts.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from quiz import cli
from quiz.content import export, loader
from quiz.content.loader import Content
from quiz.content.model import Case, QuestionBank

REPO = Path(__file__).resolve().parent.parent
SPECIAL = "a~b=c#d{e}f:g\\h"


# --- a small GIFT reader, independent of quiz.content.export -------------------------

@dataclass
class GiftAnswer:
    text: str
    best: bool
    percent: float | None  # ~%50% -> 50.0; None for a plain ~ or =
    feedback: str | None


@dataclass
class GiftQuestion:
    name: str
    stem: str
    comments: list[str]
    category: str | None
    answers: list[GiftAnswer] = field(default_factory=list)
    general_feedback: str | None = None


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append("\n" if text[i + 1] == "n" else text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def split_unescaped(text: str, markers: str) -> list[tuple[str, str]]:
    """Split at unescaped marker characters: [(marker, raw text after it), ...]."""
    parts: list[tuple[str, str]] = []
    current, marker, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            current.append(text[i:i + 2])
            i += 2
            continue
        if ch in markers:
            parts.append((marker, "".join(current)))
            current, marker = [], ch
        else:
            current.append(ch)
        i += 1
    parts.append((marker, "".join(current)))
    return parts


def first_unescaped(text: str, char: str) -> int:
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == char:
            return i
        i += 1
    return -1


def parse_gift(text: str) -> list[GiftQuestion]:
    questions: list[GiftQuestion] = []
    comments: list[str] = []
    category = None
    block: list[str] = []
    for line in text.splitlines() + [""]:
        stripped = line.strip()
        if not block:
            if not stripped:
                continue
            if stripped.startswith("//"):
                comments.append(stripped[2:].strip())
                continue
            if stripped.startswith("$CATEGORY:"):
                category = stripped.split(":", 1)[1].strip()
                comments = []
                continue
        block.append(line)
        if first_unescaped(line, "}") >= 0:
            questions.append(parse_question("\n".join(block), comments, category))
            block, comments = [], []
    assert not block, f"unterminated question: {block[:2]}"
    return questions


def parse_question(raw: str, comments: list[str], category: str | None) -> GiftQuestion:
    assert raw.startswith("::"), raw[:40]
    end = raw.index("::", 2)
    name, rest = unescape(raw[2:end]), raw[end + 2:]
    open_at, close_at = first_unescaped(rest, "{"), first_unescaped(rest, "}")
    assert 0 <= open_at < close_at and not rest[close_at + 1:].strip()
    stem = rest[:open_at].strip()
    if stem.startswith("[markdown]"):
        stem = stem[len("[markdown]"):]
    question = GiftQuestion(name, unescape(stem), comments, category)
    body = rest[open_at + 1:close_at]
    general = body.find("####")
    if general >= 0:
        question.general_feedback = unescape(body[general + 4:].strip())
        body = body[:general]
    for marker, chunk in split_unescaped(body, "=~"):
        if not marker:
            assert not chunk.strip(), f"text before the first answer: {chunk!r}"
            continue
        percent = None
        match = re.match(r"%(-?[0-9.]+)%", chunk)
        if marker == "~" and match:
            percent, chunk = float(match.group(1)), chunk[match.end():]
        pieces = split_unescaped(chunk, "#")
        answer_text = unescape(pieces[0][1].strip())
        feedback = unescape("#".join(p for _, p in pieces[1:]).strip()) if len(pieces) > 1 else None
        question.answers.append(GiftAnswer(answer_text, marker == "=", percent, feedback))
    return question


# --- expectations from the loaded content ------------------------------------

def expected(content: Content) -> list[tuple[str, str, object]]:
    """(set, name, question) in export order: case questions stage by stage, then review."""
    out = []
    for case in content.cases.values():
        for stage in case.stages:
            for question in stage.questions:
                out.append(("case", f"{case.id}/{question.id}", (case, stage, question)))
    for review in content.bank.review if content.bank else []:
        out.append(("review", f"review/{review.id}", review))
    return out


@pytest.fixture(scope="module")
def real_content() -> Content:
    content = loader.load_content(REPO / "content")
    if not content.cases and not (content.bank and content.bank.review):
        pytest.skip("no valid case or review question in content/ right now")
    return content


def special_content() -> Content:
    """One case and one review question whose every text holds GIFT's special characters."""
    def option(i: str) -> dict:
        return {"id": i, "label": f"Label {i} {SPECIAL}", "explanation": f"Why {i}: {SPECIAL}\nsecond line"}

    case = Case.model_validate({
        "id": "special-characters", "title": f"Title {SPECIAL}", "summary": "Summary.",
        "source": {"title": "Report {1}: a=b", "authors": ["A One", "B Two", "C Three", "D Four"],
                   "licence": "CC BY 4.0"},
        "tags": {"region": ["neck"], "origin": "primary", "specialty": ["pathology"]},
        "difficulty": "introductory", "minutes": 5, "objectives": ["Objective."],
        "stages": [{
            "id": "presentation", "kind": "presentation", "heading": f"Heading {SPECIAL}",
            "findings": [{"text": "Finding."}],
            "questions": [{
                "id": "presentation-diagnosis", "kind": "diagnosis", "prompt": f"Prompt {SPECIAL}?",
                "options": [option("first"), option("second"), option("third"), {"id": "fourth", "label": "Fourth"}],
                "answer": "second", "acceptable": {"first": 0.5, "third": 1 / 3},
                "teaching_note": f"Note {SPECIAL}",
            }],
        }],
        "reveal": {"diagnosis": "D.", "management": [{"text": "M."}], "outcome": [{"text": "O."}],
                   "teaching_points": ["T."]},
    })
    bank = QuestionBank.model_validate({
        "catalogue": [{"id": "x", "kind": "diagnosis", "label": "X", "description": "X."}],
        "review": [{
            "id": "review-special", "topic": "imaging", "prompt": f"Review {SPECIAL}",
            "options": [{"id": o, "label": f"{o} {SPECIAL}", "explanation": f"because {SPECIAL}"}
                        for o in ("p", "q", "r", "s")],
            "answer": "r", "cases": ["special-characters"], "references": ["Ref {2}: x=y"],
        }],
    })
    return Content(root=Path("."), cases={case.id: case}, bank=bank)


# --- GIFT ---------------------------------------------------------------------

def test_gift_has_every_case_and_review_question(real_content: Content) -> None:
    parsed = parse_gift(export.to_gift(real_content))
    wanted = expected(real_content)
    assert len(parsed) == len(wanted) == sum(
        len(s.questions) for c in real_content.cases.values() for s in c.stages
    ) + (len(real_content.bank.review) if real_content.bank else 0)
    assert [q.name for q in parsed] == [name for _, name, _ in wanted]
    assert len({q.name for q in parsed}) == len(parsed)


def test_gift_answers_credit_and_feedback_match_the_content(real_content: Content) -> None:
    for gift, (kind, _, item) in zip(parse_gift(export.to_gift(real_content)), expected(real_content)):
        assert sum(a.best for a in gift.answers) == 1, gift.name
        if kind == "case":
            case, stage, question = item
            assert case.title in gift.stem and stage.heading in gift.stem and gift.stem.endswith(question.prompt)
            assert gift.category and gift.category.endswith(f"cases/{case.id}")
            assert any(c.startswith("Source:") for c in gift.comments)
            assert gift.general_feedback == question.teaching_note
            options = question.options
            answer, acceptable = question.answer, question.acceptable
        else:
            assert gift.stem == item.prompt and gift.category.endswith("/review")
            options, answer, acceptable = item.options, item.answer, {}
        assert [a.text for a in gift.answers] == [o.label for o in options]
        assert [a.feedback for a in gift.answers] == [o.explanation for o in options]
        for a, o in zip(gift.answers, options):
            assert a.best == (o.id == answer)
            if o.id in acceptable:
                assert a.percent == pytest.approx(acceptable[o.id] * 100, abs=1e-4)
            else:
                assert a.percent is None


def test_gift_escapes_special_characters() -> None:
    assert export.gift_escape(SPECIAL + "\nx") == r"a\~b\=c\#d\{e\}f\:g\\h\nx"
    text = export.to_gift(special_content())
    for line in text.splitlines():
        if line.startswith("::"):
            assert r"\~b\=c\#d\{e\}f\:g\\h" in line
    [case_q, review_q] = parse_gift(text)
    assert case_q.name == "special-characters/presentation-diagnosis"
    assert case_q.stem == f"**Title {SPECIAL}**\n\n**Stage 1 of 1: Heading {SPECIAL}**\n\nFinding.\n\nPrompt {SPECIAL}?"
    assert [a.text for a in case_q.answers] == [
        f"Label first {SPECIAL}", f"Label second {SPECIAL}", f"Label third {SPECIAL}", "Fourth"]
    assert case_q.answers[0].feedback == f"Why first: {SPECIAL}\nsecond line"
    assert [a.best for a in case_q.answers] == [False, True, False, False]
    assert [a.percent for a in case_q.answers] == [50.0, None, 33.33333, None]
    assert case_q.answers[3].feedback is None
    assert case_q.general_feedback == f"Note {SPECIAL}"
    assert "Source: A One, B Two, C Three, et al. Report {1}: a=b." in case_q.comments
    assert "Source: Licence: CC BY 4.0" in case_q.comments
    assert review_q.stem == f"Review {SPECIAL}" and [a.best for a in review_q.answers] == [False, False, True, False]
    assert review_q.answers[2].feedback == f"because {SPECIAL}"
    assert "Source: Ref {2}: x=y" in review_q.comments


# --- CSV ----------------------------------------------------------------------

def read_csv(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == export.CSV_COLUMNS
    return list(reader)


def test_csv_has_one_row_per_option_matching_the_content(real_content: Content) -> None:
    rows = read_csv(export.to_csv(real_content))
    index = 0
    for kind, _, item in expected(real_content):
        if kind == "case":
            case, stage, question = item
            number = case.stages.index(stage) + 1
            options, answer, acceptable = question.options, question.answer, question.acceptable
        else:
            options, answer, acceptable = item.options, item.answer, {}
        group = rows[index:index + len(options)]
        index += len(options)
        assert [r["option_id"] for r in group] == [o.id for o in options]
        assert [r["option_number"] for r in group] == [str(n) for n in range(1, len(options) + 1)]
        assert [r["option_label"] for r in group] == [o.label for o in options]
        assert [r["explanation"] for r in group] == [o.explanation or "" for o in options]
        assert [r["is_best"] for r in group].count("1") == 1
        for row, option in zip(group, options):
            assert row["question_set"] == kind
            assert row["is_best"] == ("1" if option.id == answer else "0")
            credit = 1.0 if option.id == answer else acceptable.get(option.id, 0.0)
            assert float(row["credit"]) == pytest.approx(credit)
            if kind == "case":
                assert (row["case_id"], row["case_title"], row["question_id"], row["question_kind"], row["prompt"]) == (
                    case.id, case.title, question.id, question.kind, question.prompt)
                stage_columns = (row["stage_number"], row["stage_kind"], row["stage_heading"])
                assert stage_columns == (str(number), stage.kind, stage.heading)
                assert row["teaching_note"] == (question.teaching_note or "") and row["topic"] == ""
            else:
                assert (row["case_id"], row["question_id"], row["question_kind"], row["topic"], row["prompt"]) == (
                    " ".join(item.cases), item.id, "review", item.topic, item.prompt)
                assert row["stage_number"] == row["stage_heading"] == ""
    assert index == len(rows)


def test_csv_round_trips_special_characters_and_line_breaks() -> None:
    rows = read_csv(export.to_csv(special_content()))
    assert len(rows) == 8
    assert rows[0]["explanation"] == f"Why first: {SPECIAL}\nsecond line"
    assert [r["credit"] for r in rows[:4]] == ["0.5", "1", "0.333333", "0"]
    assert rows[0]["citation"] == "A One, B Two, C Three, et al. Report {1}: a=b. | Licence: CC BY 4.0"


# --- the command ----------------------------------------------------------------

@pytest.mark.parametrize("fmt", export.FORMATS)
def test_export_command_writes_the_same_text(real_content: Content, tmp_path: Path, capsys, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    status = cli.main(["--content", str(REPO / "content"), "export", "--format", fmt, "--out", str(out)])
    content = loader.load_content(REPO / "content")
    assert status == (cli.EXIT_INVALID if content.errors else cli.EXIT_OK)
    assert out.read_bytes().decode("utf-8") == export.render(content, fmt)
    assert "exported" in capsys.readouterr().err


def test_export_to_stdout(real_content: Content, capsys) -> None:
    cli.main(["--content", str(REPO / "content"), "export", "--format", "csv"])
    captured = capsys.readouterr()
    assert captured.out == export.to_csv(loader.load_content(REPO / "content"))


def test_export_skips_invalid_cases_reports_them_and_exits_1(tmp_path: Path, capsys) -> None:
    root = tmp_path / "content"
    shutil.copytree(REPO / "content", root)
    (root / "cases" / "broken-case.yaml").write_text("id: broken-case\ntitle: [unclosed\n", encoding="utf-8")
    status = cli.main(["--content", str(root), "export", "--format", "gift"])
    captured = capsys.readouterr()
    assert status == cli.EXIT_INVALID
    assert "broken-case.yaml" in captured.err
    content = loader.load_content(root)
    assert "broken-case" not in content.cases
    assert len(parse_gift(captured.out)) == len(expected(content))


def test_unknown_format_is_refused(capsys) -> None:
    assert cli.main(["export", "--format", "xlsx"]) == cli.EXIT_USAGE
    with pytest.raises(ValueError):
        export.render(special_content(), "xlsx")
