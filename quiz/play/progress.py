"""A learner's progress, computed from stored answers: pure functions over plain rows.

The dashboard, the library's status badges and "review my mistakes" all read
from here, so what they show can be tested without a browser.
"""
from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from ..content.model import Case
from ..store import AttemptRecord, as_utc
from .calibration import LEVELS
from .schedule import certainty_level

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
    # ``certainty`` is optional: kept when the stored answers carry it.
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS + (["certainty"] if any("certainty" in r for r in rows) else []))
    frame["answered_at"] = pd.to_datetime([as_utc(v) for v in frame["answered_at"]], utc=True)
    frame["correct"] = frame["option_id"] == frame["best_id"]
    frame["case_title"] = [cases[c].title if c in cases else c for c in frame["case_id"]]
    frame["region"] = [", ".join(cases[c].tags.region) if c in cases else "" for c in frame["case_id"]]
    frame["specialty"] = [", ".join(cases[c].tags.specialty) if c in cases else "" for c in frame["case_id"]]
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


# --- weak areas: accuracy and calibration by stage kind, region, specialty and question kind ----------

#: The areas "weak areas" compares. Of the tags, body region and specialty: the origin tag (primary or
#: metastatic) is what the cases ask, so an exam "of metastatic cases" would give them away.
AREAS: tuple[tuple[str, str], ...] = (("stage kind", "stage_kind"), ("region", "region"),
                                      ("specialty", "specialty"), ("question kind", "question_kind"))
#: Tags that hold a list: an answer counts towards each of its case's values.
LIST_TAGS = ("region", "specialty")
#: Fewest answers for an area to be called weak (fewer say more about luck than about the learner).
MIN_AREA_ANSWERS = 4
#: A certainty level stands for its probability in :data:`quiz.play.calibration.LEVELS` (low 33%,
#: moderate 67%, high 100%), as in the calibration section, so both give one mean certainty.
LEVEL_PERCENT = {level: 100 * p for level, p in LEVELS.items()}
AREA_COLUMNS = ["area", "value", "answers", "accuracy", "rated", "certainty", "gap"]


def certainty_percent(value) -> float | None:
    """A stored certainty on the 0-100 scale (a level counts as its calibration value); None if none given."""
    level = certainty_level(value)
    if level is None:
        return None
    return float(value) if not isinstance(value, str) else LEVEL_PERCENT[level]


def calibration_by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per value of ``column``: answers, accuracy (mean credit, %), answers rated with a certainty,
    their mean certainty (%), and the gap certainty - accuracy over those rated answers
    (positive: over-confident; negative: under-confident). Certainty figures are NaN where none was given."""
    columns = [column, "answers", "accuracy", "rated", "certainty", "gap"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    certainty = (frame["certainty"].map(certainty_percent) if "certainty" in frame
                 else pd.Series(math.nan, index=frame.index))
    work = frame.assign(_certainty=pd.to_numeric(certainty, errors="coerce"), _credit=frame["credit"] * 100)
    work["_rated_credit"] = work["_credit"].where(work["_certainty"].notna())
    grouped = work.groupby(column, sort=True).agg(
        answers=("_credit", "size"), accuracy=("_credit", "mean"), rated=("_certainty", "count"),
        certainty=("_certainty", "mean"), rated_accuracy=("_rated_credit", "mean")).reset_index()
    grouped["gap"] = grouped["certainty"] - grouped["rated_accuracy"]
    for name in ("accuracy", "certainty", "gap"):
        grouped[name] = grouped[name].round(1)
    return grouped[columns]


def weak_areas(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy and calibration of every area (stage kind, region, specialty, question kind), weakest first."""
    if frame.empty:
        return pd.DataFrame(columns=AREA_COLUMNS)
    parts = []
    for area, column in AREAS:
        source = frame.assign(**{column: frame[column].str.split(", ")}).explode(column) if column in LIST_TAGS else frame
        source = source[source[column].astype(str) != ""]
        table = calibration_by(source, column).rename(columns={column: "value"})
        parts.append(table.assign(area=area))
    table = pd.concat(parts, ignore_index=True)[AREA_COLUMNS]
    return table.sort_values(["accuracy", "answers", "area", "value"], ascending=[True, False, True, True],
                             ignore_index=True)


@dataclass(frozen=True)
class WeakArea:
    area: str  # one of AREAS' names: "stage kind", "region", "specialty", "question kind"
    value: str  # e.g. "imaging", "spine", "next_step"
    accuracy: float
    answers: int

    def __str__(self) -> str:
        return f"{self.area} {self.value.replace('_', ' ')} ({self.accuracy:g}% over {self.answers} answers)"


def weakest_area(frame: pd.DataFrame, min_answers: int = MIN_AREA_ANSWERS) -> WeakArea | None:
    """The area with the lowest accuracy among those with at least ``min_answers`` answers; ties go to
    the area with more answers. None when no area has enough answers, or all are at 100%."""
    table = weak_areas(frame)
    table = table[(table["answers"] >= min_answers) & (table["accuracy"] < 100)]
    if table.empty:
        return None
    row = table.iloc[0]
    return WeakArea(row["area"], str(row["value"]), float(row["accuracy"]), int(row["answers"]))


def cases_in_area(cases: Mapping[str, Case], area: WeakArea) -> list[str]:
    """Ids of the cases that exercise this area: a stage of that kind, that region or specialty, a question of that kind."""
    def has(case: Case) -> bool:
        if area.area == "stage kind":
            return any(s.kind == area.value for s in case.stages)
        if area.area == "region":
            return area.value in case.tags.region
        if area.area == "specialty":
            return area.value in case.tags.specialty
        return any(q.kind == area.value for s in case.stages for q in s.questions)

    return sorted(case_id for case_id, case in cases.items() if has(case))


def without_corrected(missed: pd.DataFrame, retries: Iterable[Mapping]) -> pd.DataFrame:
    """Drop the mistakes the learner has since answered correctly in "Review my mistakes".

    ``retries`` are stored review answers (``Store.review_history``); only those naming a case
    count, and only when given after the missed answer.
    """
    fixed: dict[tuple[str, str], pd.Timestamp] = {}
    for row in retries:
        if row.get("case_id") and row["correct"]:
            key, stamp = (row["case_id"], row["question_id"]), pd.Timestamp(as_utc(row["answered_at"]))
            fixed[key] = max(stamp, fixed.get(key, stamp))
    if missed.empty or not fixed:
        return missed
    keep = [fixed.get((row.case_id, row.question_id)) is None or fixed[(row.case_id, row.question_id)] < row.answered_at
            for row in missed.itertuples()]
    return missed[keep]


def unlocked_review(questions: Iterable, finished_case_ids: Iterable[str]) -> list:
    """The review questions a learner may see: each only once every case it draws on is finished.

    A review question discusses final diagnoses, so before that it would spoil the cases.
    """
    finished = set(finished_case_ids)
    return [q for q in questions if set(q.cases) <= finished]


#: The reasoning columns :func:`with_reasoning` adds and :func:`to_csv` writes, in order.
REASONING_COLUMNS = ("certainty", "differential", "leading", "must_not_miss", "problem_representation")


def to_csv(frame: pd.DataFrame) -> str:
    columns = ["answered_at", "case_id", "case_title", "stage_index", "stage_kind", "question_id", "question_kind",
               "option_id", "best_id", "credit", "correct"]
    columns += [c for c in REASONING_COLUMNS if c in frame]
    out = frame[columns].copy()
    out["stage_index"] = out["stage_index"] + 1
    out = out.rename(columns={"stage_index": "stage_number"})
    return out.to_csv(index=False)


# --- the learner's reasoning: certainty, the pad, the one-liner -----------------------------------

def with_reasoning(frame: pd.DataFrame, reasoning: Iterable[Mapping], catalogue: Mapping | None = None) -> pd.DataFrame:
    """The answer table with the stage's stored reasoning, on each answer of the stage: the certainty of a
    diagnosis answer; the pad as ``differential`` (labels in rank order, joined by `` > ``), its ``leading``
    entry and its ``must_not_miss`` flags (labels joined by ``; ``); and the ``problem_representation``.
    Blank (None) where the learner kept none."""
    from .reasoning_trace import differential_text, pad_lines, stored_pad

    by_stage = {(r["attempt_id"], r["stage_index"]): r for r in reasoning}
    out = frame.copy()
    lines_of: dict[tuple, tuple] = {}

    def pick(row, what):
        place = (row["attempt_id"], row["stage_index"])
        stored = by_stage.get(place)
        if stored is None:
            return None
        if what == "certainty":
            return (stored.get("certainty") or {}).get(row["question_id"])
        if what == "problem_representation":
            return (stored.get("problem_representation") or "").strip() or None
        if place not in lines_of:
            lines_of[place] = pad_lines(stored_pad(stored), catalogue or {})
        lines = lines_of[place]
        if what == "differential":
            return differential_text(lines) or None
        if what == "leading":
            return next((line.label for line in lines if line.leading), None)
        return "; ".join(line.label for line in lines if line.must_not_miss) or None

    for column in REASONING_COLUMNS:
        values = [pick(row, column) for _, row in out.iterrows()] if len(out) else []
        if column == "certainty" and "certainty" in out:
            out[column] = [v if v is not None else old for v, old in zip(values, out[column])]
        else:
            out[column] = values
    return out


def judgements(frame: pd.DataFrame) -> list:
    """The diagnosis answers given with a certainty level, for :func:`quiz.play.calibration.calibration`."""
    from .calibration import LEVELS, Judgement

    if frame.empty or "certainty" not in frame:
        return []
    rows = frame[(frame["question_kind"] == "diagnosis") & frame["certainty"].isin(list(LEVELS))]
    return [Judgement(r.certainty, float(r.credit), r.case_id, int(r.stage_index)) for r in rows.itertuples()]


def reasoning_course(reasoning: Iterable[Mapping], cases: Mapping[str, Case]) -> pd.DataFrame:
    """One row per attempt that kept a pad: where the eventual diagnosis entered and led, the stage that
    settles it, and the premature closures (stage numbers 1-based; blank: never)."""
    from . import differential

    columns = ["case_id", "attempt_id", "entered", "leading", "settles", "closures"]
    by_attempt: dict[tuple[str, int], dict[int, Mapping]] = {}
    for row in reasoning:
        by_attempt.setdefault((row["case_id"], row["attempt_id"]), {})[row["stage_index"]] = row
    out = []
    for (case_id, attempt_id), stages in by_attempt.items():
        case = cases.get(case_id)
        if case is None or not any(s.get("pad") for s in stages.values()):
            continue
        pads = []
        for i in range(len(case.stages)):
            data = stages.get(i, {}).get("pad")
            try:
                pads.append(differential.pad_from_data(data) if data else None)
            except differential.PadError:
                pads.append(None)
        result = differential.attempt_reasoning(case, pads)
        plus = lambda v: None if v is None else v + 1  # noqa: E731
        out.append({"case_id": case_id, "attempt_id": attempt_id, "entered": plus(result.entered.in_pad),
                    "leading": plus(result.entered.leading), "settles": result.settles + 1,
                    "closures": len(result.closures)})
    return pd.DataFrame(out, columns=columns)
