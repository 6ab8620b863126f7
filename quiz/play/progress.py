"""A learner's progress, computed from stored answers: pure functions over plain rows.

The dashboard, the library's status badges and "review my mistakes" all read
from here, so what they show can be tested without a browser.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from ..content.model import Case
from ..store import AttemptRecord, as_utc

HISTORY_COLUMNS = ["case_id", "attempt_id", "stage_index", "stage_kind", "question_id", "question_kind",
                   "option_id", "best_id", "credit", "answered_at"]


@dataclass(frozen=True)
class CaseStatus:
    """What the library card says of a case for this learner."""

    label: str  # "Not started", "In progress (stage 2 of 5)", "Completed"
    best_percent: float | None
    attempts_finished: int


def case_status(case: Case, records: Iterable[AttemptRecord], committed_stages: Mapping[int, int]) -> CaseStatus:
    """``committed_stages`` maps attempt id -> number of stages committed."""
    mine = [r for r in records if r.case_id == case.id]
    finished = [r for r in mine if r.finished_at is not None and r.possible]
    best = max((100 * r.earned / r.possible for r in finished), default=None)
    unfinished = [r for r in mine if r.finished_at is None and committed_stages.get(r.id, 0) > 0]
    if unfinished:
        done = committed_stages[unfinished[-1].id]
        label = f"In progress (stage {done + 1} of {len(case.stages)})"
    elif finished:
        label = "Completed"
    else:
        label = "Not started"
    return CaseStatus(label, round(best, 1) if best is not None else None, len(finished))


def history_frame(rows: list[dict], cases: Mapping[str, Case]) -> pd.DataFrame:
    """Answer rows as a table, with the case's tags and whether each answer was the best one."""
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    frame["answered_at"] = pd.to_datetime([as_utc(v) for v in frame["answered_at"]], utc=True)
    frame["correct"] = frame["option_id"] == frame["best_id"]
    frame["case_title"] = [cases[c].title if c in cases else c for c in frame["case_id"]]
    frame["region"] = [", ".join(cases[c].tags.region) if c in cases else "" for c in frame["case_id"]]
    frame["origin"] = [cases[c].tags.origin if c in cases else "" for c in frame["case_id"]]
    return frame


def accuracy_by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean credit (as a percentage) and count of answers, grouped by one column."""
    if frame.empty:
        return pd.DataFrame(columns=[column, "accuracy", "answers"])
    grouped = frame.groupby(column, sort=True)["credit"].agg(["mean", "count"]).reset_index()
    grouped.columns = [column, "accuracy", "answers"]
    grouped["accuracy"] = (grouped["accuracy"] * 100).round(1)
    return grouped


def accuracy_by_tag(frame: pd.DataFrame, finished: Collection[str] = ()) -> pd.DataFrame:
    """Accuracy per body region and per origin: one answer counts towards each tag of its case.

    Primary or metastatic is part of the answer, so the origin counts only for the cases in
    ``finished`` (the learner has seen their reveal), as on the library's cards.
    """
    if frame.empty:
        return pd.DataFrame(columns=["tag", "accuracy", "answers"])
    regions = frame.assign(tag=frame["region"].str.split(", ")).explode("tag")
    revealed = frame[frame["case_id"].isin(set(finished))]
    origins = revealed.assign(tag=revealed["origin"])
    both = pd.concat([regions, origins])
    return accuracy_by(both, "tag")


def accuracy_over_time(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy per day answered (UTC), the day as a date so a chart can place it on a time axis."""
    if frame.empty:
        return pd.DataFrame(columns=["day", "accuracy", "answers"])
    return accuracy_by(frame.assign(day=frame["answered_at"].dt.floor("D")), "day")


def mistakes(frame: pd.DataFrame) -> pd.DataFrame:
    """The latest answer to each question that did not earn full credit, newest first."""
    if frame.empty:
        return frame
    latest = frame.sort_values("answered_at").groupby(["case_id", "question_id"], as_index=False).tail(1)
    return latest[latest["credit"] < 1].sort_values("answered_at", ascending=False)


def to_csv(frame: pd.DataFrame) -> str:
    columns = ["answered_at", "case_id", "case_title", "stage_index", "stage_kind", "question_id", "question_kind",
               "option_id", "best_id", "credit", "correct"]
    out = frame[columns].copy()
    out["stage_index"] = out["stage_index"] + 1
    out = out.rename(columns={"stage_index": "stage_number"})
    return out.to_csv(index=False)
