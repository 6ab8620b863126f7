"""How sure the learner was, against how right: certainty, calibration, and the problem representation.

With each committed diagnosis the learner says how sure they are, as a level (low, moderate,
high) or a number from 0 to 100. Over many answers that gives accuracy by certainty level,
over- or under-confidence and a Brier score. The problem representation (a one-line summary of
the case so far) is compared with the author's qualifiers here too: it is the other half of
knowing what one knows.

Every formula is defined here once and documented in ``docs/reasoning.md``. Pure functions over
plain data: no Streamlit, no SQL.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .differential import fold

#: Certainty levels and the probability each stands for.
LEVELS: dict[str, float] = {"low": 0.33, "moderate": 0.67, "high": 1.0}
LEVEL_ORDER = tuple(LEVELS)

Certainty = str | int | float  # a level name, or a number from 0 to 100


class CertaintyError(ValueError):
    """A certainty that is neither a level nor a number from 0 to 100."""


def probability(certainty: Certainty) -> float:
    """A certainty as a probability: a level's value from :data:`LEVELS`, or the number / 100."""
    if isinstance(certainty, str):
        key = certainty.strip().lower()
        if key not in LEVELS:
            raise CertaintyError(f"Certainty must be one of {', '.join(LEVELS)} or a number from 0 to 100, not {certainty!r}.")
        return LEVELS[key]
    if isinstance(certainty, bool) or not 0 <= certainty <= 100:
        raise CertaintyError(f"Certainty must be a number from 0 to 100, not {certainty!r}.")
    return certainty / 100


#: Upper bounds (exclusive) of the levels for a number: the midpoints between the levels' values.
LEVEL_BOUNDS: tuple[tuple[str, float], ...] = (("low", 0.5), ("moderate", 0.835), ("high", float("inf")))


def level(certainty: Certainty) -> str:
    """The level a certainty falls in: a level as given; a number by :data:`LEVEL_BOUNDS` (0-49 low, 50-83 moderate, 84-100 high)."""
    if isinstance(certainty, str):
        probability(certainty)
        return certainty.strip().lower()
    p = probability(certainty)
    return next(name for name, bound in LEVEL_BOUNDS if p < bound)


@dataclass(frozen=True)
class Judgement:
    """One committed diagnosis: how sure the learner was and the credit it earned (1 best, partial, 0)."""

    certainty: Certainty
    credit: float
    case_id: str = ""
    stage_index: int = 0


@dataclass(frozen=True)
class LevelRow:
    """One row of the calibration table and chart."""

    level: str
    answers: int
    mean_certainty: float  # 0-1
    accuracy: float  # mean credit, 0-1


@dataclass(frozen=True)
class Calibration:
    answers: int
    mean_certainty: float | None
    accuracy: float | None
    overconfidence: float | None  # mean certainty minus accuracy: > 0 over-confident, < 0 under-confident
    brier: float | None  # mean squared gap between certainty and credit: 0 perfect, 1 worst
    by_level: tuple[LevelRow, ...]

    @property
    def verdict(self) -> str:
        """Plain words for :attr:`overconfidence`, within a tolerance of 0.05 either side."""
        if self.overconfidence is None:
            return "no answers with a certainty yet"
        if self.overconfidence > 0.05:
            return "over-confident"
        if self.overconfidence < -0.05:
            return "under-confident"
        return "well calibrated"


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def brier(judgements: Sequence[Judgement]) -> float | None:
    """Mean of (certainty - credit)^2 over the answers."""
    return _mean([(probability(j.certainty) - j.credit) ** 2 for j in judgements])


def calibration(judgements: Iterable[Judgement]) -> Calibration:
    """Accuracy by certainty level, over/under-confidence and the Brier score of a learner's answers."""
    rows = list(judgements)
    certainty = [probability(j.certainty) for j in rows]
    credit = [j.credit for j in rows]
    mean_p, accuracy = _mean(certainty), _mean(credit)
    by_level = []
    for name in LEVEL_ORDER:
        mine = [j for j in rows if level(j.certainty) == name]
        if mine:
            by_level.append(LevelRow(name, len(mine), _mean([probability(j.certainty) for j in mine]),
                                     _mean([j.credit for j in mine])))
    return Calibration(len(rows), mean_p, accuracy,
                       None if mean_p is None else mean_p - accuracy, brier(rows), tuple(by_level))


def certainty_trace(judgements: Iterable[Judgement]) -> list[tuple[int, float, float]]:
    """One case's (stage index, certainty 0-1, credit) in stage order, for the reveal's trace."""
    return sorted((j.stage_index, probability(j.certainty), j.credit) for j in judgements)


# --- certainty-based marks (the class score) ----------------------------------------------------

#: Points for an answer by its certainty level: (gain when right, loss when wrong). Gardner-Medwin's
#: certainty-based marking: claiming more certainty earns more when right and costs more when wrong.
CERTAINTY_MARKS: dict[str, tuple[float, float]] = {"low": (1.0, 0.0), "moderate": (2.0, 2.0), "high": (3.0, 6.0)}
#: The most one answer can earn (right, with high certainty).
MAX_MARK = max(gain for gain, _ in CERTAINTY_MARKS.values())


def certainty_mark(credit: float, certainty: Certainty | None = None) -> float:
    """Points for one answer: credit x gain - (1 - credit) x loss at its certainty level (:data:`CERTAINTY_MARKS`).

    Right (credit 1): high 3, moderate 2, low 1; wrong (credit 0): low 0, moderate -2, high -6; a
    partial credit is the mix of the two. An answer without a certainty counts as low (it risks nothing).
    Each level is the best claim for a learner whose chance of being right is in its band (low below
    2/3, moderate from 2/3 to 4/5, high above 4/5), so the marks reward saying honestly how sure one is.
    Time plays no part.
    """
    gain, loss = CERTAINTY_MARKS["low" if certainty is None else level(certainty)]
    return credit * gain - (1 - credit) * loss


# --- the problem representation -----------------------------------------------------------------

#: Phrases that count as one another when a learner's one-liner is matched with the author's
#: qualifiers. Kept small and literal: each group names one idea. Written folded (see ``fold``).
SYNONYMS: tuple[frozenset[str], ...] = tuple(frozenset(group) for group in (
    {"no fever", "afebrile", "apyrexial"},
    {"cervical", "neck"},
    {"lumbar", "low back", "lower back"},
    {"thoracic", "dorsal"},
    {"paraspinal", "paravertebral"},
    {"right sided", "right"},
    {"left sided", "left"},
    {"progressive", "worsening", "increasing", "progressing", "growing", "enlarging", "rapidly growing"},
    {"chronic", "long standing", "longstanding"},
    {"acute", "sudden", "abrupt"},
    {"recent", "new", "short history"},
    {"history of", "known", "previous", "prior", "past", "resected", "treated"},
    {"incidental", "incidentally", "found by chance"},
    {"man", "male"},
    {"woman", "female"},
    {"mass", "lump", "swelling", "tumor", "lesion"},
    {"painful", "pain", "tender", "tenderness"},
    {"radiating", "radicular"},
    {"numbness", "hypoesthesia", "sensory loss", "sensory deficit", "paresthesia", "paraesthesia"},
    {"weakness", "paresis", "motor deficit"},
    {"fixed", "tethered", "immobile"},
    {"multilevel", "multifocal", "multiple level", "several level", "multiple vertebrae"},
    {"bone destruction", "bone lysis", "osteolysis", "osteolytic", "lytic", "destroying bone", "destroys bone"},
    {"cord compression", "compressed cord", "compressing the cord"},
    {"foraminal", "foramen"},
    {"fusion", "acdf", "arthrodesis"},
    {"lung", "pulmonary"},
    {"metastasis", "metastases", "deposit", "secondaries", "spread"},
    {"widespread", "disseminated", "multiorgan", "multiple organ"},
    {"unresectable", "inoperable", "not resectable"},
    {"grade 3", "high grade"},
    {"hepatocellular", "transaminase", "transaminitis", "alt"},
    {"sma", "smooth muscle actin"},
    {"dysphagia", "difficulty swallowing"},
    {"jaundice", "icterus", "icteric"},
    {"asymptomatic", "no symptom", "symptom free"},
    {"normal labs", "normal laboratory test", "normal blood test", "labs normal", "laboratory test normal"},
))

#: Extra words a learner may put inside a qualifier's phrase ("known thigh leiomyosarcoma" for
#: "known leiomyosarcoma"); the words must still come in the qualifier's order.
SLACK = 2

#: Trailing words that may also lead ("keratin negative" as "negative for keratin").
MOVABLE = ("no", "positive")

#: Number words read as digits, so "five months" matches "5 months" and "5-month".
NUMBERS = {word: str(n) for n, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())} | {"ii": "2", "iii": "3", "iv": "4"}

#: Words that negate what follows, all read as "no" ("without fever" matches "no fever").
NEGATIONS = frozenset({"no", "without", "denies", "denied", "absent", "nil", "never", "negative"})


def _tokens(text: str) -> tuple[str, ...]:
    """Folded words, a plural ``s`` dropped, number words as digits and every negation read as ``no``."""
    out = []
    for word in fold(text).split():
        if word in NEGATIONS:
            word = "no"
        elif word in NUMBERS:
            word = NUMBERS[word]
        elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        out.append(word)
    return tuple(out)


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """``phrase`` in ``words`` in order, with at most :data:`SLACK` other words among its own."""
    if not phrase:
        return False
    for start, word in enumerate(words):
        if word != phrase[0]:
            continue
        found = 1
        window = words[start + 1:start + len(phrase) + SLACK]
        for w in window:
            if found < len(phrase) and w == phrase[found]:
                found += 1
        if found == len(phrase):
            return True
    return False


def variants(qualifier: str) -> list[tuple[str, ...]]:
    """The qualifier's words, and every wording got by swapping a phrase in it for another of its
    synonym group ("no fever" -> "afebrile"; "prior sarcoma" -> "known sarcoma")."""
    words = _tokens(qualifier)
    found = [words]
    if len(words) > 1 and words[-1] in MOVABLE:
        found.append(words[-1:] + words[:-1])
    for group in _GROUPS:
        for current in list(found):
            for phrase in group:
                n = len(phrase)
                for i in range(len(current) - n + 1):
                    if current[i:i + n] == phrase:
                        found += [current[:i] + other + current[i + n:] for other in group if other != phrase]
    return list(dict.fromkeys(found))


_GROUPS = tuple(tuple(sorted({_tokens(phrase) for phrase in group})) for group in SYNONYMS)


@dataclass(frozen=True)
class QualifierMatch:
    qualifier: str
    used: bool
    matched: str | None  # the words (of the qualifier or a synonym's wording) found in the learner's, folded


@dataclass(frozen=True)
class RepresentationMatch:
    matches: tuple[QualifierMatch, ...]

    @property
    def used(self) -> int:
        return sum(m.used for m in self.matches)

    @property
    def share(self) -> float:
        """Qualifiers used / qualifiers listed (0-1)."""
        return self.used / len(self.matches) if self.matches else 0.0


def match_qualifiers(summary: str, qualifiers: Sequence[str]) -> RepresentationMatch:
    """Which of the author's qualifiers the learner's one-liner uses.

    A qualifier is used when it, or a phrase of its synonym group (:data:`SYNONYMS`), appears
    as whole words in the one-liner, in order, with up to :data:`SLACK` other words among them
    (a trailing "negative" or "positive" may also lead), after both are folded (case, accents, punctuation,
    British spellings), plural ``s`` dropped and negations read as "no".
    """
    words = _tokens(summary)
    out = []
    for qualifier in qualifiers:
        hit = next((phrase for phrase in variants(qualifier) if _contains(words, phrase)), None)
        out.append(QualifierMatch(qualifier, hit is not None, " ".join(hit) if hit else None))
    return RepresentationMatch(tuple(out))
