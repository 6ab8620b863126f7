"""Reports for the instructor: graded result rows, summaries per stage, question and student, CSV.

:func:`result_rows` reads the stored answers through :mod:`.storage` (instructor only); every
other function takes rows and returns rows, so the Results tab and the CSV are computed from
the same data at the moment they are drawn.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime

from ..content.model import Case
from ..play import calibration, engine
from ..store import Store, as_utc
from .authority import Host
from .storage import answer_records

RESULT_COLUMNS = ["nickname", "stage", "stage_kind", "question_id", "question_kind", "option_id", "option_label",
                  "best_id", "best_label", "correct", "credit", "certainty", "points", "class_score", "answered_at"]
#: Certainty as the tables name it; an answer stored without one is "none".
NO_CERTAINTY = "none"


def result_rows(store: Store, host: Host, case: Case) -> list[dict]:
    """Every answer of the session, one row per student and question, in stage order (instructor only)."""
    return grade_records(case, answer_records(store, host))


def grade_records(case: Case, records) -> list[dict]:
    """Stored answers (nickname, stage_index, question_id, option_id, answered_at[, certainty]) as graded rows.

    Each row's ``points`` is its certainty-based mark (:func:`quiz.play.calibration.certainty_mark`) and
    ``class_score`` the sum of its student's points (the same on each of their rows). The time of an
    answer is reported but scores nothing.
    """
    places = {q.id: (i, j, q) for i, stage in enumerate(case.stages) for j, q in enumerate(stage.questions)}
    rows = []
    for nickname, stage_index, question_id, option_id, answered_at, *rest in records:
        certainty = rest[0] if rest else None
        if question_id not in places:
            continue  # the case was edited since; the answer no longer fits a question
        i, j, question = places[question_id]
        labels = {o.id: o.label or o.id for o in question.options}
        credit = engine.credit(question, option_id)
        rows.append({"nickname": nickname, "stage": i + 1, "stage_kind": case.stages[i].kind,
                     "question_id": question_id, "question_kind": question.kind, "option_id": option_id,
                     "option_label": labels.get(option_id, option_id), "best_id": question.answer,
                     "best_label": labels[question.answer], "correct": option_id == question.answer,
                     "credit": credit, "certainty": certainty,
                     "points": calibration.certainty_mark(credit, certainty),
                     "answered_at": as_utc(answered_at), "_order": (i, j)})
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["nickname"]] = totals.get(row["nickname"], 0.0) + row["points"]
    rows.sort(key=lambda r: (r["_order"], r["nickname"].lower()))
    for row in rows:
        del row["_order"]
        row["class_score"] = round(totals[row["nickname"]], 3)
    return rows


def class_score(rows: list[dict]) -> float:
    """One student's class score: the sum of their answers' certainty-based points (unanswered: 0)."""
    return round(sum(r["points"] for r in rows), 3)


def max_class_score(case: Case) -> float:
    """The best class score in a case: every question right with high certainty."""
    return calibration.MAX_MARK * sum(len(stage.questions) for stage in case.stages)


def stage_summary(case: Case, rows: list[dict], joined: int) -> list[dict]:
    """Percent correct per stage: of the answers given, and of every joined student's questions."""
    out = []
    for i, stage in enumerate(case.stages):
        mine = [r for r in rows if r["stage"] == i + 1]
        expected = joined * len(stage.questions)
        correct = sum(1 for r in mine if r["correct"])
        out.append({"stage": i + 1, "kind": stage.kind, "questions": len(stage.questions), "answers": len(mine),
                    "correct": correct,
                    "percent_correct": round(100 * correct / len(mine), 1) if mine else None,
                    "percent_of_class": round(100 * correct / expected, 1) if expected else None,
                    "mean_credit": round(sum(r["credit"] for r in mine) / len(mine), 3) if mine else None})
    return out


def question_summary(case: Case, rows: list[dict]) -> list[dict]:
    out = []
    for i, stage in enumerate(case.stages):
        for question in stage.questions:
            mine = [r for r in rows if r["question_id"] == question.id]
            labels = {o.id: o.label or o.id for o in question.options}
            popular = max(labels, key=lambda o: sum(1 for r in mine if r["option_id"] == o)) if mine else None
            out.append({"stage": i + 1, "question_id": question.id, "question_kind": question.kind,
                        "prompt": question.prompt, "answers": len(mine),
                        "percent_correct": round(100 * sum(r["correct"] for r in mine) / len(mine), 1) if mine else None,
                        "best_label": labels[question.answer],
                        "most_chosen": labels[popular] if popular else None})
    return out


def student_summary(case: Case, rows: list[dict], nicknames: list[str]) -> list[dict]:
    """One row per student: their answer to each question (with a mark) and their score."""
    columns = [(i, q) for i, stage in enumerate(case.stages) for q in stage.questions]
    by_student: dict[str, dict[str, dict]] = {n: {} for n in nicknames}
    for row in rows:
        by_student.setdefault(row["nickname"], {})[row["question_id"]] = row
    out = []
    for nickname, answers in by_student.items():
        line: dict = {"nickname": nickname}
        for i, question in columns:
            row = answers.get(question.id)
            mark = "" if row is None else ("✓ " if row["correct"] else ("½ " if row["credit"] > 0 else "✗ "))
            line[f"S{i + 1} {question.kind.replace('_', ' ')}"] = "" if row is None else mark + row["option_label"]
        earned = sum(r["credit"] for r in answers.values())
        line["answered"] = len(answers)
        line["score"] = round(earned, 2)
        line["percent"] = round(100 * earned / len(columns), 1) if columns else 0.0
        line["certainty"] = " ".join(f"{n}{level[0].upper()}" for level, n in _levels(answers.values()).items() if n)
        best = max_class_score(case)
        line["class_score"] = class_score(list(answers.values()))
        line["class_percent"] = round(100 * line["class_score"] / best, 1) if best else 0.0
        out.append(line)
    return out


def _levels(rows) -> dict[str, int]:
    """Answers per certainty level (and "none"), in level order."""
    counts = {level: 0 for level in (*calibration.LEVEL_ORDER, NO_CERTAINTY)}
    for row in rows:
        counts[row["certainty"] or NO_CERTAINTY] += 1
    return counts


def certainty_summary(case: Case, rows: list[dict]) -> list[dict]:
    """One row per option of every question: how many chose it, and how sure they were (low, moderate, high, none)."""
    out = []
    for i, stage in enumerate(case.stages):
        for question in stage.questions:
            for option in question.options:
                mine = [r for r in rows if r["question_id"] == question.id and r["option_id"] == option.id]
                out.append({"stage": i + 1, "question_id": question.id, "option": option.label or option.id,
                            "best": option.id == question.answer, "answers": len(mine)} | _levels(mine))
    return out


def class_calibration(rows: list[dict]) -> calibration.Calibration:
    """The class's accuracy by certainty level over the answers that carry a certainty."""
    return calibration.calibration(calibration.Judgement(r["certainty"], r["credit"]) for r in rows if r["certainty"])


def _csv_cell(value) -> str:
    """A spreadsheet must not run a nickname as a formula; a number (a negative class score) stays a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else (value.isoformat() if isinstance(value, datetime) else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def results_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in RESULT_COLUMNS])
    return buffer.getvalue()

