"""The learner's differential pad, and how it compares with the author's expected differential.

At every stage before the commit the learner keeps a *pad*: a ranked list of up to five
catalogue diagnoses, one of them leading, any of them flagged "must not miss", each tied to
the findings shown so far that support it or argue against it. The pad carries over to the next
stage for revision. After the commit it is compared with the stage's ``differential`` (the
author's answer key), and over a whole attempt the pads tell where the eventual diagnosis
entered and whether the learner closed too early.

Every formula is defined here once and documented in ``docs/reasoning.md``. Pure functions over
plain data: no Streamlit, no SQL; the caller stores a pad with :func:`pad_to_data`.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..content.model import Case, CatalogueEntry, DifferentialEntry, Finding, Stage

#: Most diagnoses a pad holds: enough for a real differential, few enough to make the learner rank.
MAX_ENTRIES = 5

#: Weights of the differential score's parts (see :func:`differential_score`); a part that does not
#: apply to a stage is left out and the others are scaled up to fill its share.
INCLUSION_WEIGHT = 0.5
MUST_NOT_MISS_WEIGHT = 0.25
EVENTUAL_WEIGHT = 0.25

SIDES = ("supports", "against")


class PadError(ValueError):
    """A pad the rules do not allow; the message says why, for the learner."""


# --- the pad ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PadEntry:
    """One diagnosis on the learner's pad, with the findings they tie to it."""

    diagnosis: str  # catalogue id of a diagnosis
    must_not_miss: bool = False
    supports: tuple[str, ...] = ()  # finding ids
    against: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pad:
    """The learner's ranked differential at one stage: ``entries[0]`` is rank 1.

    ``leading`` names the entry the learner would act on; when it is None the top-ranked
    entry leads (see :attr:`leading_id`).
    """

    entries: tuple[PadEntry, ...] = ()
    leading: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(entry.diagnosis for entry in self.entries)

    @property
    def leading_id(self) -> str | None:
        if self.leading is not None:
            return self.leading
        return self.entries[0].diagnosis if self.entries else None

    def rank_of(self, diagnosis: str) -> int | None:
        """1-based place of ``diagnosis`` on the pad, or None when it is not there."""
        return self.ids.index(diagnosis) + 1 if diagnosis in self.ids else None

    def entry(self, diagnosis: str) -> PadEntry | None:
        return next((entry for entry in self.entries if entry.diagnosis == diagnosis), None)


EMPTY = Pad()


def _entry_or_error(pad: Pad, diagnosis: str) -> PadEntry:
    entry = pad.entry(diagnosis)
    if entry is None:
        raise PadError(f"{diagnosis!r} is not on your differential.")
    return entry


def _with(pad: Pad, diagnosis: str, entry: PadEntry) -> Pad:
    return replace(pad, entries=tuple(entry if e.diagnosis == diagnosis else e for e in pad.entries))


def add(pad: Pad, diagnosis: str, catalogue: Mapping[str, CatalogueEntry]) -> Pad:
    """The pad with ``diagnosis`` added at the bottom."""
    known = catalogue.get(diagnosis)
    if known is None or known.kind != "diagnosis":
        raise PadError(f"{diagnosis!r} is not a diagnosis of the catalogue.")
    if diagnosis in pad.ids:
        raise PadError(f"{known.label} is already on your differential.")
    if len(pad.entries) >= MAX_ENTRIES:
        raise PadError(f"Your differential holds {MAX_ENTRIES} diagnoses at most: remove one first.")
    return replace(pad, entries=pad.entries + (PadEntry(diagnosis),))


def remove(pad: Pad, diagnosis: str) -> Pad:
    """The pad without ``diagnosis``; if it was leading, the top-ranked entry leads again."""
    _entry_or_error(pad, diagnosis)
    return Pad(tuple(e for e in pad.entries if e.diagnosis != diagnosis),
               None if pad.leading == diagnosis else pad.leading)


def move(pad: Pad, diagnosis: str, rank: int) -> Pad:
    """The pad with ``diagnosis`` moved to 1-based ``rank`` (clamped to the list)."""
    entry = _entry_or_error(pad, diagnosis)
    others = [e for e in pad.entries if e.diagnosis != diagnosis]
    place = min(max(rank, 1), len(pad.entries)) - 1
    others.insert(place, entry)
    return replace(pad, entries=tuple(others))


def set_leading(pad: Pad, diagnosis: str | None) -> Pad:
    """Mark ``diagnosis`` as leading (None: the top-ranked entry leads)."""
    if diagnosis is not None:
        _entry_or_error(pad, diagnosis)
    return replace(pad, leading=diagnosis)


def flag_must_not_miss(pad: Pad, diagnosis: str, flagged: bool = True) -> Pad:
    return _with(pad, diagnosis, replace(_entry_or_error(pad, diagnosis), must_not_miss=flagged))


def cite(pad: Pad, diagnosis: str, finding_id: str, side: str) -> Pad:
    """Tie a finding to an entry as ``"supports"`` or ``"against"``; citing it on one side takes it off the other."""
    if side not in SIDES:
        raise PadError(f"A finding either supports a diagnosis or argues against it, not {side!r}.")
    entry = _entry_or_error(pad, diagnosis)
    other = "against" if side == "supports" else "supports"
    cited = getattr(entry, side)
    updated = replace(entry, **{side: cited if finding_id in cited else cited + (finding_id,),
                                other: tuple(f for f in getattr(entry, other) if f != finding_id)})
    return _with(pad, diagnosis, updated)


def uncite(pad: Pad, diagnosis: str, finding_id: str) -> Pad:
    entry = _entry_or_error(pad, diagnosis)
    return _with(pad, diagnosis, replace(entry, supports=tuple(f for f in entry.supports if f != finding_id),
                                         against=tuple(f for f in entry.against if f != finding_id)))


def pad_to_data(pad: Pad) -> dict:
    """The pad as plain JSON-able data, for storage with the attempt."""
    return {"leading": pad.leading,
            "entries": [{"diagnosis": e.diagnosis, "must_not_miss": e.must_not_miss,
                         "supports": list(e.supports), "against": list(e.against)} for e in pad.entries]}


def pad_from_data(data: Mapping | None) -> Pad:
    """A pad from :func:`pad_to_data`'s output; raises :class:`PadError` on anything else."""
    if data is None:
        return EMPTY
    try:
        entries = tuple(PadEntry(str(e["diagnosis"]), bool(e.get("must_not_miss", False)),
                                 tuple(map(str, e.get("supports", ()))), tuple(map(str, e.get("against", ()))))
                        for e in data.get("entries", ()))
        leading = data.get("leading")
        return Pad(entries, None if leading is None else str(leading))
    except (AttributeError, KeyError, TypeError) as exc:
        raise PadError(f"This saved differential cannot be read ({exc}).") from None


# --- what the stage has shown, and a pad checked against it ---------------------------------------

def shown_findings(case: Case, stage_index: int) -> dict[str, Finding]:
    """Findings with an id that the learner has seen by stage ``stage_index`` (0-based), in order."""
    return {finding.id: finding for stage in case.stages[:stage_index + 1]
            for finding in stage.findings if finding.id}


def pad_problems(pad: Pad, case: Case, stage_index: int, catalogue: Mapping[str, CatalogueEntry]) -> list[str]:
    """Everything wrong with ``pad`` at stage ``stage_index``, in words for the learner; empty when it is fine.

    A citation of a finding the stage has not shown yet is refused in the same words as an
    unknown one, so the message never tells that a later finding exists.
    """
    problems = []
    if len(pad.entries) > MAX_ENTRIES:
        problems.append(f"Your differential holds {MAX_ENTRIES} diagnoses at most; it has {len(pad.entries)}.")
    shown = shown_findings(case, stage_index)
    seen: set[str] = set()
    for entry in pad.entries:
        known = catalogue.get(entry.diagnosis)
        if known is None or known.kind != "diagnosis":
            problems.append(f"{entry.diagnosis!r} is not a diagnosis of the catalogue.")
        name = known.label if known else entry.diagnosis
        if entry.diagnosis in seen:
            problems.append(f"{name} is on your differential twice.")
        seen.add(entry.diagnosis)
        for fid in entry.supports + entry.against:
            if fid not in shown:
                problems.append(f"{fid!r} is not one of the findings shown so far (cited for {name}).")
        both = set(entry.supports) & set(entry.against)
        if both:
            problems.append(f"A finding cannot both support and argue against {name}: {', '.join(sorted(both))}.")
    if pad.leading is not None and pad.leading not in pad.ids:
        problems.append(f"The leading diagnosis {pad.leading!r} is not on your differential.")
    return problems


def check_pad(pad: Pad, case: Case, stage_index: int, catalogue: Mapping[str, CatalogueEntry]) -> None:
    """Raise :class:`PadError` with every problem unless the pad is valid at this stage."""
    problems = pad_problems(pad, case, stage_index, catalogue)
    if problems:
        raise PadError(" ".join(problems))


# --- the comparison with the author's differential -----------------------------------------------

def expert(stage: Stage) -> tuple[DifferentialEntry, ...]:
    """The stage's expected differential in rank order (an answer key: only after the commit)."""
    return tuple(sorted(stage.differential, key=lambda entry: entry.rank))


def inclusion(pad: Pad, entries: Sequence[DifferentialEntry]) -> float:
    """Share of the expert's entries on the pad, each weighted by 1 / its expert rank."""
    total = sum(1 / e.rank for e in entries)
    return sum(1 / e.rank for e in entries if e.diagnosis in pad.ids) / total if total else 0.0


def must_not_miss_coverage(pad: Pad, entries: Sequence[DifferentialEntry]) -> float | None:
    """Share of the expert's must-not-miss entries on the pad (flagged or not); None when there are none."""
    needed = [e.diagnosis for e in entries if e.must_not_miss]
    return sum(d in pad.ids for d in needed) / len(needed) if needed else None


def eventual_credit(pad: Pad, entries: Sequence[DifferentialEntry], eventual: str | None) -> float | None:
    """How high the pad places the eventual diagnosis, against where the expert places it at this stage.

    ``min(1, e / p)``, with ``e`` its place on the expert's list and ``p`` its place on the pad
    (places counted 1, 2, 3... in rank order); 0 when the pad lacks it. Ranking it as high as
    the expert does, or higher, earns 1: the findings so far justify no more. None, and left
    out of the score, when the case names no eventual diagnosis or the expert's list for this
    stage does not hold it yet.
    """
    order = [e.diagnosis for e in entries]
    if not eventual or eventual not in order:
        return None
    place = pad.rank_of(eventual)
    return min(1.0, (order.index(eventual) + 1) / place) if place else 0.0


def differential_score(pad: Pad, entries: Sequence[DifferentialEntry], eventual: str | None) -> float:
    """The weighted mean of inclusion, must-not-miss coverage and eventual credit, over the parts that apply (0-1)."""
    parts = [(INCLUSION_WEIGHT, inclusion(pad, entries)),
             (MUST_NOT_MISS_WEIGHT, must_not_miss_coverage(pad, entries)),
             (EVENTUAL_WEIGHT, eventual_credit(pad, entries, eventual))]
    present = [(weight, value) for weight, value in parts if value is not None]
    return sum(weight * value for weight, value in present) / sum(weight for weight, _ in present)


@dataclass(frozen=True)
class KeptAgainst:
    """A diagnosis the learner kept that the findings argue against."""

    diagnosis: str
    why: str  # "expert-against": the expert cites findings against it; "unsupported": the expert left it out and the learner cites no support
    findings: tuple[str, ...] = ()  # the expert's ``against`` finding ids


@dataclass(frozen=True)
class Comparison:
    """The learner's pad beside the expert's differential for one committed stage."""

    stage_index: int
    expert: tuple[DifferentialEntry, ...]
    pad: Pad
    included: tuple[DifferentialEntry, ...]  # expert entries the learner has
    missed: tuple[DifferentialEntry, ...]  # expert entries the learner lacks
    missed_must_not_miss: tuple[DifferentialEntry, ...]
    extra: tuple[str, ...]  # the learner's diagnoses the expert left out
    kept_against: tuple[KeptAgainst, ...]
    inclusion: float
    must_not_miss: float | None
    eventual: float | None
    score: float

    @property
    def percent(self) -> float:
        return round(100 * self.score, 1)


def kept_against(pad: Pad, entries: Sequence[DifferentialEntry]) -> tuple[KeptAgainst, ...]:
    by_id = {e.diagnosis: e for e in entries}
    out = []
    for entry in pad.entries:
        mine = by_id.get(entry.diagnosis)
        if mine is not None and mine.against:
            out.append(KeptAgainst(entry.diagnosis, "expert-against", tuple(mine.against)))
        elif mine is None and not entry.supports:
            out.append(KeptAgainst(entry.diagnosis, "unsupported"))
    return tuple(out)


def compare(case: Case, stage_index: int, pad: Pad) -> Comparison:
    """The comparison for a committed stage; the stage must have a differential (see :func:`has_differential`)."""
    stage = case.stages[stage_index]
    entries = expert(stage)
    if not entries:
        raise ValueError(f"stage {stage.id!r} of {case.id!r} has no expected differential to compare with")
    eventual = case.reveal.diagnosis_id
    included = tuple(e for e in entries if e.diagnosis in pad.ids)
    missed = tuple(e for e in entries if e.diagnosis not in pad.ids)
    expert_ids = {e.diagnosis for e in entries}
    return Comparison(
        stage_index=stage_index, expert=entries, pad=pad, included=included, missed=missed,
        missed_must_not_miss=tuple(e for e in missed if e.must_not_miss),
        extra=tuple(d for d in pad.ids if d not in expert_ids),
        kept_against=kept_against(pad, entries),
        inclusion=inclusion(pad, entries),
        must_not_miss=must_not_miss_coverage(pad, entries),
        eventual=eventual_credit(pad, entries, eventual),
        score=differential_score(pad, entries, eventual),
    )


def has_differential(stage: Stage) -> bool:
    return bool(stage.differential)


# --- over an attempt: where the eventual diagnosis entered, premature closure ------------------

@dataclass(frozen=True)
class Entered:
    """Stage indexes (0-based) where the eventual diagnosis first was on the pad, and first led; None: never."""

    in_pad: int | None
    leading: int | None


def entered(pads: Sequence[Pad | None], eventual: str | None) -> Entered:
    """``pads[i]`` is the pad committed with stage ``i`` (None when the learner kept none)."""
    in_pad = next((i for i, pad in enumerate(pads) if pad and eventual and eventual in pad.ids), None)
    leading = next((i for i, pad in enumerate(pads) if pad and eventual and pad.leading_id == eventual), None)
    return Entered(in_pad, leading)


def settling_stage(case: Case) -> int:
    """The stage that settles the eventual diagnosis: the first whose expert differential ranks it first.

    When no stage does (or the case names no eventual diagnosis), the reveal settles it: the
    result is then ``len(case.stages)``, so every stage counts as before it.
    """
    eventual = case.reveal.diagnosis_id
    for s, stage in enumerate(case.stages):
        entries = expert(stage)
        if eventual and entries and entries[0].diagnosis == eventual:
            return s
    return len(case.stages)


@dataclass(frozen=True)
class Closure:
    """One sign of premature closure at a stage before the one that settles the diagnosis."""

    stage_index: int
    kind: str  # "narrowed": the pad held one entry; "dropped": the eventual diagnosis left the pad
    diagnosis: str | None = None  # for "narrowed", the one entry kept


def premature_closure(case: Case, pads: Sequence[Pad | None]) -> tuple[Closure, ...]:
    """Stages before :func:`settling_stage` where the pad narrowed to one entry or dropped the eventual diagnosis.

    "Dropped" means the eventual diagnosis was on an earlier pad and is not on this one; a pad
    the learner did not keep (None) says nothing and is skipped.
    """
    eventual = case.reveal.diagnosis_id
    settles = settling_stage(case)
    out = []
    held = False
    for s, pad in enumerate(pads[:settles]):
        if pad is None:
            continue
        if len(pad.entries) == 1:
            out.append(Closure(s, "narrowed", pad.entries[0].diagnosis))
        if eventual and held and eventual not in pad.ids:
            out.append(Closure(s, "dropped", eventual))
        held = held or bool(eventual and eventual in pad.ids)
    return tuple(out)


@dataclass(frozen=True)
class AttemptReasoning:
    """What an attempt's pads add up to, for the reveal and for progress."""

    comparisons: tuple[Comparison, ...]
    entered: Entered
    settles: int
    closures: tuple[Closure, ...]

    @property
    def mean_score(self) -> float | None:
        return sum(c.score for c in self.comparisons) / len(self.comparisons) if self.comparisons else None


def attempt_reasoning(case: Case, pads: Sequence[Pad | None]) -> AttemptReasoning:
    """Comparisons of every committed stage that has both a pad and an expert differential, and the attempt's course."""
    comparisons = tuple(compare(case, s, pad) for s, pad in enumerate(pads)
                        if pad is not None and s < len(case.stages) and has_differential(case.stages[s]))
    return AttemptReasoning(comparisons, entered(pads, case.reveal.diagnosis_id), settling_stage(case),
                            premature_closure(case, pads))


# --- type-ahead over the catalogue -------------------------------------------------------------

def fold(text: str) -> str:
    """Text for matching: accents dropped, case folded, punctuation as spaces, British spellings
    (ae, oe, -our) read as American, so "haem", "hem" and "Hém" find the same entries."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"(?<=[a-z])-(?=\d)", "", text)  # S-100 as s100, Ki-67 as ki67
    text = re.sub(r"[^\w]+|_", " ", text)
    text = re.sub(r"ae|oe", "e", text)
    text = re.sub(r"(?<=\w{3})our\b", "or", text)  # tumour, colour; not four, hour
    return " ".join(text.split())


@dataclass(frozen=True)
class Suggestion:
    id: str
    label: str
    matched: str  # the label or synonym that matched, to show beside the label when it differs
    tier: int  # 0 label starts with the query, 1 a synonym does, 2 a word of the label does, 3 a word of a synonym, 4 every typed word starts a word, 5 anywhere


def _tier(query: str, name: str) -> int | None:
    words = name.split()
    starts = [i for i in range(len(name)) if i == 0 or name[i - 1] == " "]
    if name.startswith(query):
        return 0
    if any(name.startswith(query, i) for i in starts):
        return 2
    if all(any(w.startswith(q) for w in words) for q in query.split()):
        return 4
    if query in name:
        return 5
    return None


def suggest(query: str, catalogue: Mapping[str, CatalogueEntry] | Sequence[CatalogueEntry], limit: int = 8) -> list[Suggestion]:
    """Catalogue diagnoses for what the learner has typed, best first.

    Matches labels and synonyms, case- and accent-insensitively; a name that starts with the
    query comes first, then one with a word that starts with it, then one whose words each
    typed word starts, then one that holds it anywhere. Labels rank before synonyms within a
    tier; ties go by label.
    """
    wanted = fold(query)
    if not wanted:
        return []
    entries = catalogue.values() if isinstance(catalogue, Mapping) else catalogue
    found = []
    for entry in entries:
        if entry.kind != "diagnosis":
            continue
        best: tuple[int, str] | None = None
        for is_synonym, name in [(False, entry.label)] + [(True, s) for s in entry.synonyms]:
            tier = _tier(wanted, fold(name))
            if tier is None:
                continue
            tier += 1 if is_synonym and tier in (0, 2) else 0
            if best is None or tier < best[0]:
                best = (tier, name)
        if best is not None:
            found.append(Suggestion(entry.id, entry.label, best[1], best[0]))
    found.sort(key=lambda s: (s.tier, fold(s.label)))
    return found[:limit]
