"""Item analysis: how each question of a case behaved over a group of respondents.

Pure functions over plain rows, no Streamlit and no SQL: one :class:`Response` per respondent
and question (a learner's first self-study attempt, or a class student's answer in one
session), and optionally each question's key and options (:class:`ItemKey`). The formulas are
written out in ``docs/item-analysis.md``; in short, per question:

* **difficulty** ``p``: the share of respondents who chose the key;
* **upper-lower index** ``D = p_upper - p_lower`` over the top and bottom 27% of respondents
  ranked by their total score over the set analysed (ties at a group's edge share its last
  places, each with a fractional weight, so the result does not depend on row order);
* **point-biserial** ``r``: the correlation of choosing the key (1/0) with the *rest* score
  (the total without this question), so the question does not correlate with itself;
* each option's choice rate, overall and in the upper and lower groups;
* certainty, when answers carry one (as a probability, :mod:`quiz.play.calibration`).

Flags (only once ``n`` reaches :data:`MIN_N`; below it the one flag is "too few to say"):
negative ``D``, and a distractor the upper group chose more often than the key.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..content.model import Case
from . import calibration, engine

#: Share of respondents in each of the upper and lower groups (Kelley's 27%).
GROUP_SHARE = 0.27
#: Below this many respondents a question is not judged: its flags would be noise.
MIN_N = 10

TOO_FEW, NEGATIVE_D, DISTRACTOR_BEATS_KEY = "too-few", "negative-discrimination", "distractor-beats-key"


@dataclass(frozen=True)
class Response:
    """One respondent's answer to one question: who (an opaque id, never a name), what, and its worth."""

    respondent: str
    question: str
    option: str
    credit: float  # 0-1, partial credit included: the total score sums these
    correct: bool  # the key was chosen
    certainty: float | None = None  # 0-1 (see :func:`grade`), when the app asked


@dataclass(frozen=True)
class ItemKey:
    """What the analysis needs to know of a question beyond the answers: its key and every option."""

    question: str
    key: str | None
    options: tuple[str, ...]
    prompt: str = ""
    stage: int | None = None  # 1-based
    labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, option: str) -> str:
        return self.labels.get(option, option)


@dataclass(frozen=True)
class Flag:
    code: str
    message: str


@dataclass(frozen=True)
class OptionStats:
    option: str
    label: str
    is_key: bool
    chosen: int
    rate: float | None  # share of the item's respondents
    upper_rate: float | None  # share of the upper group (weighted, see docs)
    lower_rate: float | None


@dataclass(frozen=True)
class ItemStats:
    question: str
    prompt: str
    stage: int | None
    key: str | None
    n: int
    difficulty: float | None
    mean_credit: float | None
    group_size: int | None  # respondents in each of the upper and lower groups
    upper_correct: float | None
    lower_correct: float | None
    discrimination: float | None  # upper-lower index D; the flag uses this one
    point_biserial: float | None  # corrected: against the rest score
    certainty_n: int
    certainty_mean: float | None
    certainty_correct: float | None  # mean certainty of answers that chose the key
    certainty_wrong: float | None
    options: tuple[OptionStats, ...]
    flags: tuple[Flag, ...]

    @property
    def flagged(self) -> bool:
        return any(f.code != TOO_FEW for f in self.flags)


@dataclass(frozen=True)
class Report:
    items: tuple[ItemStats, ...]
    respondents: int
    complete: int  # respondents who answered every question of the set
    min_n: int
    group_share: float


# --- from content and stored choices to responses ---------------------------------------------

def items_of(case: Case) -> list[ItemKey]:
    """Every question of a case, in play order, with its key and options."""
    return [ItemKey(q.id, q.answer, tuple(o.id for o in q.options), q.prompt, i + 1,
                    {o.id: o.label or o.id for o in q.options})
            for i, stage in enumerate(case.stages) for q in stage.questions]


def certainty_of(value: calibration.Certainty | None) -> float | None:
    """A stored certainty (a level such as "high", or 0-100) as a probability, as calibration reads it; None if unreadable."""
    if value is None:
        return None
    if isinstance(value, str):  # a text column holds both "high" and "80"
        try:
            value = float(value)
        except ValueError:
            pass
    try:
        return calibration.probability(value)
    except (calibration.CertaintyError, TypeError):
        return None


def grade(case: Case, choices: Iterable[tuple[str, str, str, calibration.Certainty | None]]) -> list[Response]:
    """Responses from stored ``(respondent, question id, option id, certainty)`` rows, graded by the case as it is now.

    A row naming a question or option the case no longer has (it was edited since) is left out:
    it cannot be scored. Certainty, a level or a number from 0 to 100, becomes a probability
    (low 0.33, moderate 0.67, high 1; a number / 100), as :mod:`quiz.play.calibration` defines it.
    """
    questions = {q.id: q for stage in case.stages for q in stage.questions}
    out = []
    for respondent, question_id, option_id, certainty in choices:
        question = questions.get(question_id)
        if question is None or option_id not in {o.id for o in question.options}:
            continue
        out.append(Response(respondent, question_id, option_id, engine.credit(question, option_id),
                            option_id == question.answer, certainty_of(certainty)))
    return out


# --- the statistics --------------------------------------------------------------------------

def group_size(n: int, share: float = GROUP_SHARE) -> int | None:
    """Respondents in each extreme group: ``share * n`` rounded half up, at least 1; None below 2 respondents."""
    if n < 2:
        return None
    return max(1, math.floor(share * n + 0.5))


def extreme_group(totals: Mapping[str, float], size: int, *, top: bool) -> dict[str, float]:
    """The upper (or lower) group as weights: 1 inside, a share of the places left for those tied at the edge.

    With 10 respondents and a group of 3 where the 3rd and 4th score the same, both are in the
    group with weight 1/2: the group still counts 3, and row order does not matter.
    """
    ordered = sorted(totals.values(), reverse=top)
    edge = ordered[size - 1]
    inside = [r for r, s in totals.items() if (s > edge if top else s < edge)]
    tied = [r for r, s in totals.items() if s == edge]
    weight = (size - len(inside)) / len(tied)
    return {**{r: 1.0 for r in inside}, **{r: weight for r in tied}}


def point_biserial(correct: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Pearson's correlation of a 0/1 variable with a score; None when either does not vary."""
    n = len(correct)
    if n < 2:
        return None
    x = [1.0 if c else 0.0 for c in correct]
    mx, my = sum(x) / n, sum(scores) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, scores))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in scores)
    if sxx == 0 or syy < 1e-12:
        return None
    return sxy / math.sqrt(sxx * syy)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _keys_from(responses: Sequence[Response]) -> list[ItemKey]:
    """Keys and options read off the answers themselves, when the caller has no content at hand."""
    order: dict[str, None] = {}
    chosen: dict[str, set[str]] = {}
    keys: dict[str, set[str]] = {}
    for r in responses:
        order.setdefault(r.question)
        chosen.setdefault(r.question, set()).add(r.option)
        if r.correct:
            keys.setdefault(r.question, set()).add(r.option)
    out = []
    for question in order:
        found = keys.get(question, set())
        if len(found) > 1:
            raise ValueError(f"Question {question!r} has more than one option marked correct: {sorted(found)}.")
        out.append(ItemKey(question, next(iter(found), None), tuple(sorted(chosen[question]))))
    return out


def analyse(responses: Iterable[Response], items: Sequence[ItemKey] | None = None, *,
            min_n: int = MIN_N, share: float = GROUP_SHARE) -> Report:
    """Statistics for each item over these responses (the set analysed is ``items``, default every question answered).

    A respondent's total score is the sum of their credit over the set; each item's upper and
    lower groups are drawn from the respondents who answered that item.
    """
    responses = list(responses)
    if items is None:
        items = _keys_from(responses)
    wanted = {i.question for i in items}
    # Sorted, so float sums (and so every figure) are the same whatever order the rows came in.
    responses = sorted((r for r in responses if r.question in wanted), key=lambda r: (r.respondent, r.question))
    seen: set[tuple[str, str]] = set()
    for r in responses:
        if (r.respondent, r.question) in seen:
            raise ValueError(f"Respondent {r.respondent!r} has two answers to {r.question!r}; "
                             "give one answer per respondent and question (their first).")
        seen.add((r.respondent, r.question))
    totals: dict[str, float] = {}
    for r in responses:
        totals[r.respondent] = totals.get(r.respondent, 0.0) + r.credit
    totals = {k: round(v, 9) for k, v in totals.items()}  # 0.1 + 0.2 ties with 0.3
    answered: dict[str, int] = {}
    for r in responses:
        answered[r.respondent] = answered.get(r.respondent, 0) + 1
    by_item: dict[str, list[Response]] = {}
    for r in responses:
        by_item.setdefault(r.question, []).append(r)
    stats = tuple(_item(item, by_item.get(item.question, []), totals, min_n, share) for item in items)
    return Report(stats, len(totals), sum(1 for c in answered.values() if c == len(items)), min_n, share)


def _item(item: ItemKey, rows: list[Response], totals: Mapping[str, float], min_n: int, share: float) -> ItemStats:
    n = len(rows)
    options = list(item.options) + sorted({r.option for r in rows} - set(item.options))
    choice = {r.respondent: r.option for r in rows}
    size = group_size(n, share)
    upper = lower = None
    if size is not None:
        mine = {r.respondent: totals[r.respondent] for r in rows}
        upper = extreme_group(mine, size, top=True)
        lower = extreme_group(mine, size, top=False)

    def rate_in(group: Mapping[str, float] | None, option: str | None) -> float | None:
        if group is None or option is None:
            return None
        # Rounded: fractional weights (3 x 0.25) must sum to exactly 0.75, or D = -0.00 would be "negative".
        return round(sum(w for who, w in group.items() if choice[who] == option) / size, 10)

    option_stats = tuple(OptionStats(
        o, item.label(o), o == item.key, sum(1 for r in rows if r.option == o),
        (sum(1 for r in rows if r.option == o) / n) if n else None, rate_in(upper, o), rate_in(lower, o))
        for o in options)
    difficulty = (sum(1 for r in rows if r.correct) / n) if n else None
    upper_correct, lower_correct = rate_in(upper, item.key), rate_in(lower, item.key)
    if item.key is None and upper is not None:
        upper_correct = lower_correct = 0.0
    discrimination = None if upper_correct is None else round(upper_correct - lower_correct, 10)
    rest = [totals[r.respondent] - r.credit for r in rows]
    pbis = point_biserial([r.correct for r in rows], rest)
    sure = [r for r in rows if r.certainty is not None]
    flags: list[Flag] = []
    if n < min_n:
        flags.append(Flag(TOO_FEW, f"Only {n} respondent{'s' if n != 1 else ''} (at least {min_n} are needed "
                                   "to judge a question)."))
    else:
        if discrimination is not None and discrimination < 0:
            flags.append(Flag(NEGATIVE_D, f"Negative discrimination (D = {discrimination:+.2f}): the lower group "
                                          "chose the key more often than the upper group."))
        if upper is not None:
            key_rate = upper_correct or 0.0
            for o in option_stats:
                if not o.is_key and o.upper_rate is not None and o.upper_rate > key_rate + 1e-9:
                    flags.append(Flag(DISTRACTOR_BEATS_KEY, f"The upper group chose {o.label!r} "
                                      f"({o.upper_rate:.0%}) more often than the key ({key_rate:.0%})."))
    return ItemStats(
        question=item.question, prompt=item.prompt, stage=item.stage, key=item.key, n=n,
        difficulty=difficulty, mean_credit=_mean([r.credit for r in rows]), group_size=size,
        upper_correct=upper_correct, lower_correct=lower_correct, discrimination=discrimination,
        point_biserial=pbis, certainty_n=len(sure), certainty_mean=_mean([r.certainty for r in sure]),
        certainty_correct=_mean([r.certainty for r in sure if r.correct]),
        certainty_wrong=_mean([r.certainty for r in sure if not r.correct]),
        options=option_stats, flags=tuple(flags))


# --- tables ---------------------------------------------------------------------------------

ITEM_COLUMNS = ["stage", "question", "prompt", "n", "difficulty", "mean_credit", "group_size", "upper_correct",
                "lower_correct", "discrimination", "point_biserial", "certainty_n", "certainty_mean",
                "certainty_correct", "certainty_wrong", "flags"]
OPTION_COLUMNS = ["stage", "question", "option", "label", "is_key", "chosen", "rate", "upper_rate", "lower_rate"]


def items_frame(report: Report) -> pd.DataFrame:
    """One row per question; ``flags`` joins the flag messages (empty when the item looks sound)."""
    rows = [{**{c: getattr(s, c) for c in ITEM_COLUMNS if c != "flags"},
             "flags": "; ".join(f.message for f in s.flags)} for s in report.items]
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def options_frame(report: Report) -> pd.DataFrame:
    """One row per question and option (the key included, marked ``is_key``)."""
    rows = [{"stage": s.stage, "question": s.question, **{c: getattr(o, c) for c in OPTION_COLUMNS[2:]}}
            for s in report.items for o in s.options]
    return pd.DataFrame(rows, columns=OPTION_COLUMNS)


def report_csv(report: Report, *, scope: str = "") -> str:
    """One row per question and option, with the question's statistics repeated: one tidy table for a spreadsheet."""
    items = items_frame(report).drop(columns=["stage"])
    merged = options_frame(report).merge(items, on="question", how="left")
    merged = merged[["stage", "question", "prompt", *[c for c in ITEM_COLUMNS if c not in ("stage", "question", "prompt")],
                     *OPTION_COLUMNS[2:]]]
    merged.insert(0, "scope", scope)
    for column in merged.columns:  # a spreadsheet must not run a cell as a formula
        if not pd.api.types.is_numeric_dtype(merged[column]):
            merged[column] = merged[column].map(
                lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v)
    return merged.to_csv(index=False, float_format="%.4f")


def compare(groups: Mapping[str, Iterable[Response]], items: Sequence[ItemKey], *, min_n: int = MIN_N,
            share: float = GROUP_SHARE) -> pd.DataFrame:
    """Each group (a session, a cohort, self-study) analysed on its own: one row per group and question."""
    rows = []
    for name, responses in groups.items():
        for s in analyse(responses, items, min_n=min_n, share=share).items:
            rows.append({"group": name, "stage": s.stage, "question": s.question, "n": s.n,
                         "difficulty": s.difficulty, "discrimination": s.discrimination,
                         "flagged": s.flagged})
    return pd.DataFrame(rows, columns=["group", "stage", "question", "n", "difficulty", "discrimination", "flagged"])
