"""Rules that relate one part of the content to another, and the author's lint.

Each rule yields ``(loc, message, severity)`` with ``loc`` a field path into the
file, so the loader can put it on the right line. Errors make a case unplayable;
warnings are the item-writing and faithfulness rules that ``--strict`` enforces.

The item-cue rules read a question as a test-wise learner does: option labels and prompts
before the commit, explanations after it. The one rule that needs every case (a catalogue
entry only one case offers) is run by the loader on a whole folder.
"""
from __future__ import annotations

import difflib
import functools
import html
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from . import evidence
from .model import CORE_QUESTION_KINDS, Case, CatalogueEntry, Option, Question, QuestionBank, ReviewQuestion
from .problems import field_path

Finding = tuple[tuple, str, str]  # (loc, message, "error" | "warning")

PLACEHOLDER = "TODO"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")


#: "Did you mean" hints per file: each compares a word with every choice (difflib), which cost
#: seconds for a draft of 1,400 questions of near-miss ids; twenty hints help as much as all.
MAX_HINTS = 20


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Hints:
    """A budget of "did you mean" hints for one file; past it, the message goes without one."""

    def __init__(self, budget: int = MAX_HINTS) -> None:
        self.left = budget

    def __call__(self, word: str, choices) -> str:
        if self.left <= 0:
            return ""
        self.left -= 1
        return did_you_mean(word, choices)


def placeholders(data: object, loc: tuple = ()) -> Iterator[Finding]:
    """Every text still holding the scaffold's ``TODO`` marker."""
    if isinstance(data, str):
        if PLACEHOLDER in data:
            yield loc, f"placeholder not filled in: {data.strip()[:70]!r}", "error"
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from placeholders(value, loc + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from placeholders(value, loc + (index,))


# Markdown that would make every learner's browser fetch or open something the content folder does
# not hold: an image in text (``![..](http://...)``, by reference too, or SVG as ``data:``) or a link
# to ``data:``/``file:``/``javascript:``. Images belong in a stage's ``images:``, read from the folder.
_IMAGE = re.compile(r"!\[[^\]\n]*\]\s*[(\[]")
_IMAGE_REF = re.compile(r"!\[([^\]\n]+)\]")
_LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)")
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.\-]*:[^>\s]*)>")
_REFERENCE = re.compile(r"^[ \t]{0,3}\[([^\]\n]+)\]:[ \t]*<?([^\s>]+)", re.MULTILINE)
UNSAFE_SCHEMES = ("data", "file", "javascript", "vbscript", "blob", "filesystem")


def _scheme(target: str) -> str:
    """The scheme a browser would see: entities (``&#58;``) and backslash escapes undone, spaces dropped."""
    plain = re.sub(r"\\(.)", r"\1", html.unescape(target))
    plain = re.sub(r"[\x00-\x20]", "", plain)
    found = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", plain)
    return found.group(1).lower() if found else ""


def unsafe_markdown(data: object, loc: tuple = ()) -> Iterator[Finding]:
    """Every text whose markdown shows an image or links to a ``data:``, ``file:`` or script address."""
    if isinstance(data, str):
        if "!" in data and "[" in data:
            references = {m.group(1).lower() for m in _REFERENCE.finditer(data)}
            if _IMAGE.search(data) or any(m.group(1).lower() in references for m in _IMAGE_REF.finditer(data)):
                yield loc, ("an image in the text: learners' browsers would fetch it from wherever it points; "
                            "put images in the stage's images: list (files in the content folder)"), "error"
                return
        targets = [m.group(1) for m in _LINK_TARGET.finditer(data)] if "](" in data else []
        if "<" in data:
            targets += [m.group(1) for m in _AUTOLINK.finditer(data)]
        if "]:" in data:
            targets += [m.group(2) for m in _REFERENCE.finditer(data)]
        for target in targets:
            scheme = _scheme(target)
            if scheme in UNSAFE_SCHEMES:
                yield loc, f"a link to a {scheme}: address; link only to web pages (https://...)", "error"
                return
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from unsafe_markdown(value, loc + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from unsafe_markdown(value, loc + (index,))


def check_bank(bank: QuestionBank, hints: Hints | None = None) -> Iterator[Finding]:
    hint = hints or Hints()
    seen: dict[str, int] = {}
    for i, entry in enumerate(bank.catalogue):
        if entry.id in seen:
            yield ("catalogue", i, "id"), f"duplicate catalogue id {entry.id!r} (first at catalogue[{seen[entry.id]}])", "error"
        seen.setdefault(entry.id, i)
    review_ids: set[str] = set()
    for i, question in enumerate(bank.review):
        loc = ("review", i)
        if question.id in review_ids:
            yield loc + ("id",), f"duplicate review question id {question.id!r}", "error"
        review_ids.add(question.id)
        option_ids = [option.id for option in question.options]
        yield from _unique(option_ids, loc + ("options",))
        if question.answer not in option_ids:
            yield loc + ("answer",), not_an_option(question.answer, question, {}, loc, hint), "error"
        if not 4 <= len(option_ids) <= 6:
            yield loc + ("options",), f"{len(option_ids)} options; write 4 to 6", "warning"
    asked = [Asked(("review", i), question, [option.label for option in question.options], [True] * len(question.options))
             for i, question in enumerate(bank.review)]
    yield from longest_key(asked)
    for item in asked:
        yield from question_cues(item)


def not_an_option(option_id: str, question, catalogue: Mapping[str, CatalogueEntry], loc: tuple,
                  hints: Hints | None = None) -> str:
    """Say that an answer names no option, list the options, and point at the likelier typo.

    When the answer is a catalogue id and an option's id is a near miss that is not, the option is
    the one misspelt: suggesting the option's spelling would copy the typo into the answer. The
    comparison spends one of the file's hints, like any "did you mean".
    """
    option_ids = [option.id for option in question.options]
    listed = ", ".join(option_ids)
    near: list[str] = []
    if hints is None or hints.left > 0:
        if hints is not None:
            hints.left -= 1
        near = difflib.get_close_matches(option_id, option_ids, n=1, cutoff=0.6)
    if near and option_id in catalogue and near[0] not in catalogue:
        index = option_ids.index(near[0])
        return (f"{option_id!r} is not one of the options ({listed}); option {near[0]!r} looks like a misspelling "
                f"of it: correct {field_path(loc + ('options', index, 'id'))}")
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return f"{option_id!r} is not one of the options ({listed}){hint}"


def check_case(case: Case, catalogue: Mapping[str, CatalogueEntry], *, stem: str | None = None,
               hints: Hints | None = None) -> Iterator[Finding]:
    """Cross-references that the model alone cannot check."""
    hint = hints or Hints()
    if stem is not None and case.id != stem:
        yield ("id",), f"id {case.id!r} must equal the file name {stem!r}", "error"
    yield from _unique([stage.id for stage in case.stages], ("stages",), what="stage id")
    question_ids = [(s, q, question.id) for s, stage in enumerate(case.stages) for q, question in enumerate(stage.questions)]
    first: dict[str, tuple[int, int]] = {}
    for s, q, qid in question_ids:
        if qid in first:
            yield ("stages", s, "questions", q, "id"), f"duplicate question id {qid!r} (also at stages[{first[qid][0]}].questions[{first[qid][1]}])", "error"
        first.setdefault(qid, (s, q))
    for s, stage in enumerate(case.stages):
        for q, question in enumerate(stage.questions):
            loc = ("stages", s, "questions", q)
            option_ids = [option.id for option in question.options]
            yield from _unique(option_ids, loc + ("options",))
            for o, option in enumerate(question.options):
                if option.label is None and option.id not in catalogue:
                    yield loc + ("options", o, "id"), (
                        f"{option.id!r} is not in the catalogue{hint(option.id, catalogue)}; "
                        "add it to questions.yaml or give the option a label"
                    ), "error"
            if question.answer not in option_ids:
                yield loc + ("answer",), not_an_option(question.answer, question, catalogue, loc, hint), "error"
            for option_id in question.acceptable:
                if option_id not in option_ids:
                    yield loc + ("acceptable", option_id), not_an_option(option_id, question, catalogue, loc, hint), "error"
                elif option_id == question.answer:
                    yield loc + ("acceptable", option_id), "the best answer cannot also be a partial-credit answer", "error"
    if case.source.url and _scheme(case.source.url) in UNSAFE_SCHEMES:  # the reveal links to it
        yield ("source", "url"), f"a {_scheme(case.source.url)}: address; give the report's web address (https://...)", "error"
    if case.reveal.diagnosis_id and case.reveal.diagnosis_id not in catalogue:
        yield ("reveal", "diagnosis_id"), f"{case.reveal.diagnosis_id!r} is not in the catalogue{hint(case.reveal.diagnosis_id, catalogue)}", "error"
    yield from check_differentials(case, catalogue)


def lint_case(case: Case, catalogue: Mapping[str, CatalogueEntry], *, source_text: str | None = None,
              source_file: Path | None = None) -> Iterator[Finding]:
    """Item-writing and faithfulness rules: warnings, or errors under ``--strict``."""
    terms = spoiler_terms(case, catalogue)
    named = names_any(case.id.replace("-", " ").replace("_", " "), terms)
    if named:
        yield ("id",), f"names the diagnosis ({named!r}); the id is shown in links before play", "warning"
    for s, stage in enumerate(case.stages):
        named = names_any(stage.heading, terms)
        if named:
            yield ("stages", s, "heading"), f"names the diagnosis ({named!r}); a heading is shown before the stage's questions are answered", "warning"
    for field in ("title", "summary"):
        named = names_any(getattr(case, field), terms)
        if named:
            yield (field,), f"names the diagnosis ({named!r}); describe the presentation instead", "warning"
    for i, objective in enumerate(case.objectives):
        named = names_any(objective, terms)
        if named:
            yield ("objectives", i), f"names the diagnosis ({named!r}); objectives are shown before play", "warning"
    yield from _lint_stage_order(case)
    for s, stage in enumerate(case.stages):
        kinds = [question.kind for question in stage.questions]
        for kind in CORE_QUESTION_KINDS:
            if kind not in kinds:
                yield ("stages", s, "questions"), f"stage asks no {kind!r} question", "warning"
        for f, finding in enumerate(stage.findings):
            if not finding.evidence:
                yield ("stages", s, "findings", f), "finding has no evidence quote from the source", "warning"
        for q, question in enumerate(stage.questions):
            loc = ("stages", s, "questions", q)
            if not 4 <= len(question.options) <= 6:
                yield loc + ("options",), f"{len(question.options)} options; write 4 to 6", "warning"
            option_kinds = {catalogue[o.id].kind for o in question.options if o.label is None and o.id in catalogue}
            if option_kinds - {question.kind}:
                yield loc + ("options",), (
                    f"options of mixed kinds ({', '.join(sorted(option_kinds | {question.kind}))}); "
                    f"a {question.kind!r} question should offer only {question.kind!r} options"
                ), "warning"
            for o, option in enumerate(question.options):
                if option.explanation is None:
                    yield loc + ("options", o), f"option {option.id!r} has no explanation", "warning"
    if not case.reveal.diagnosis_id:
        yield ("reveal",), "no diagnosis_id: answers cannot be compared across cases", "warning"
    asked = list(_asked(case, catalogue))
    yield from longest_key(asked)
    for item in asked:
        yield from question_cues(item)
    yield from reported_management_offered_early(case, inline_ids(case, catalogue))
    yield from diagnosis_named_early(case, catalogue)
    yield from later_markers_named_early(case, catalogue)
    yield from lint_differentials(case, catalogue)
    yield from _lint_folded_blocks(case)
    if source_text is not None:
        yield from _lint_quotes(case, source_text, source_file)


_TABLE_RULE = re.compile(r"\|\s*:?-{3,}:?\s*\|")
_FOLDED_LIST = re.compile(r"^\s*[-*+] .*[;,.:] [-*+] \S", re.MULTILINE)


def _lint_folded_blocks(case: Case) -> Iterator[Finding]:
    """Tables and lists that a folded scalar (``text: >-``) joined onto one line: they show as raw pipes."""
    def check(text: str, loc: tuple) -> Iterator[Finding]:
        for line in text.splitlines():
            if _TABLE_RULE.search(line) and line.count("|") > 4:
                yield loc, ("a markdown table on one line, so it shows as raw '|' characters: write the text as "
                            "a literal block (text: |-) to keep one row per line"), "warning"
                return
        if _FOLDED_LIST.search(text):
            yield loc, ("a markdown list run together on one line: write the text as a literal block "
                        "(text: |-) to keep one item per line"), "warning"

    for s, stage in enumerate(case.stages):
        for f, finding in enumerate(stage.findings):
            yield from check(finding.text, ("stages", s, "findings", f, "text"))
    for part in ("management", "outcome"):
        for i, finding in enumerate(getattr(case.reveal, part)):
            yield from check(finding.text, ("reveal", part, i, "text"))


def spoiler_terms(case: Case, catalogue: Mapping[str, CatalogueEntry]) -> list[str]:
    """Words that would give away the final diagnosis: its label, synonyms, and those of its parts."""
    did = case.reveal.diagnosis_id
    if not did or did not in catalogue:
        return []
    related = [entry for key, entry in catalogue.items() if key == did or (entry.kind == "diagnosis" and re.search(rf"(^|-){re.escape(key)}($|-)", did))]
    return sorted({term for entry in related for term in (entry.label, *entry.synonyms)}, key=len, reverse=True)


def names_any(text: str, terms: list[str]) -> str | None:
    for term in terms:
        if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, flags=re.IGNORECASE):
            return term
    return None


# --- item cues: what lets a test-wise learner answer without the findings ---------

#: The key must beat every other option by this factor to count as "the longest": a key a
#: character or two longer than the next option is no cue a reader can see.
LENGTH_MARGIN = 1.1

#: Words (and phrases) that make a statement absolute. "any" alone is left out: it is as often
#: neutral ("any uterine mass") as absolute, and "any one" catches the absolute use.
ABSOLUTE_WORDS = re.compile(
    r"(?<![\w-])(always|never|only|all|none|every|everything|nothing|cannot|can never|neither|"
    r"invariably|unnecessary|any one|do(?:es)? not occur)(?![\w-])", re.IGNORECASE)

STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each either few for from further had has have
having he her here hers him his how i if in into is it its itself just may me more most my no nor not now of
off on once only or other our out over own same she should so some such than that the their them then there
these they this those through to too under until up very was we were what when where which while who whom
why will with would you your yet
best next team likely leading diagnosis point stage step statement correct following patient
""".split())

#: Words that qualify a label without changing what it names (see :func:`qualifier_only_options`);
#: words ending in QUALIFIER_SUFFIXES count too (metastatic, postoperative, spinal, suspected...).
QUALIFIER_WORDS = frozenset("""
primary recurrent malignant benign early late low high grade deep solitary multiple partial total subtotal
complete incomplete probable possible known new occult adjuvant neoadjuvant concurrent standard left right
upper lower acute
""".split())
QUALIFIER_SUFFIXES = ("ic", "al", "ive", "ous", "ary", "oid", "ile", "ed")
#: A prompt asking about one of these asks about all: "Which site is the primary?" asks
#: primary against metastatic.
QUALIFIER_GROUPS = (frozenset("primary metastatic metastasis metastases recurrent recurrence secondary origin".split()),)


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    """Content words, lower-cased, a plural ``s`` dropped, stop-words and lone letters left out."""
    out = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()):
            continue
        out.add(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return frozenset(out)


def _label_loc(loc: tuple, o: int, inline: bool) -> tuple:
    return loc + ("options", o, "label") if inline else loc + ("options", o)


class Asked(NamedTuple):
    """A case or review question as the learner sees it, with where it is in its file."""

    loc: tuple
    question: Question | ReviewQuestion
    labels: list[str]  # the label each option shows
    inline: list[bool]  # whether each label is written in this file (a finding then points at it)


def _asked(case: Case, catalogue: Mapping[str, CatalogueEntry]) -> Iterator[Asked]:
    for s, stage in enumerate(case.stages):
        for q, question in enumerate(stage.questions):
            labels = [_label(option, catalogue) for option in question.options]
            yield Asked(("stages", s, "questions", q), question, labels, [option.label is not None for option in question.options])


def _label(option: Option, catalogue: Mapping[str, CatalogueEntry]) -> str:
    if option.label:
        return option.label
    entry = catalogue.get(option.id)
    return entry.label if entry else option.id


def _key_index(question: Question | ReviewQuestion) -> int | None:
    ids = [option.id for option in question.options]
    return ids.index(question.answer) if question.answer in ids else None


def key_stands_out_by_length(labels: list[str], key: int) -> bool:
    others = [len(label) for i, label in enumerate(labels) if i != key]
    return bool(others) and len(labels[key]) >= LENGTH_MARGIN * max(others) and len(labels[key]) > max(others)


def longest_key(asked: list[Asked]) -> Iterator[Finding]:
    """The key is the longest option in more than half of a file's questions: one finding per file."""
    hits = [item.loc for item in asked
            if (k := _key_index(item.question)) is not None and key_stands_out_by_length(item.labels, k)]
    if asked and 2 * len(hits) > len(asked):
        yield hits[0] + ("answer",), (
            f"the best answer is the longest option in {len(hits)} of {len(asked)} questions (this is the first); "
            "learners soon pick the longest: shorten the keys or lengthen the distractors"
        ), "warning"


def question_cues(item: Asked) -> Iterator[Finding]:
    """The cues one question can carry by itself."""
    key = _key_index(item.question)
    if key is None:
        return
    yield from absolute_words_in_distractors(item.loc, item.labels, key, item.inline)
    yield from prompt_echoes_key(item.loc, item.question.prompt, item.labels, key)
    yield from qualifier_only_options(item)


def absolute_words_in_distractors(loc: tuple, labels: list[str], key: int, inline: list[bool]) -> Iterator[Finding]:
    """Absolute words in distractors' labels but not in the key's: test-wise learners rule such options out.

    Only labels count: they are what the learner reads before committing; explanations come after.
    """
    if ABSOLUTE_WORDS.search(labels[key]):
        return
    found = [(o, match.group(1).lower()) for o, label in enumerate(labels)
             if o != key and (match := ABSOLUTE_WORDS.search(label))]
    if found:
        words = ", ".join(sorted({repr(word) for _, word in found}))
        yield _label_loc(loc, found[0][0], inline[found[0][0]]), (
            f"absolute wording ({words}) only in distractors, in {len(found)} of {len(labels) - 1}; "
            "test-wise learners rule such options out: qualify them as a clinician would"
        ), "warning"


def prompt_echoes_key(loc: tuple, prompt: str, labels: list[str], key: int) -> Iterator[Finding]:
    """The prompt repeats words of the key's label, and of no other option's as many.

    Words in most options' labels point at none of them and are ignored, and so is a tie: an
    echo is a cue only when it singles the key out.
    """
    option_words = [_words(label) for label in labels]
    common = {w for w in set().union(*option_words) if 2 * sum(w in words for words in option_words) > len(labels)}
    stem = _words(prompt)
    echoes = [(words - common) & stem for words in option_words]
    rivals = max((len(e) for o, e in enumerate(echoes) if o != key), default=0)
    if echoes[key] and len(echoes[key]) > rivals:
        yield loc + ("prompt",), (
            f"repeats words of the best answer's label ({', '.join(sorted(echoes[key]))}) more than any other "
            "option's; a learner can match the words instead of reasoning: reword the prompt or the key"
        ), "warning"


def _is_qualifier(word: str) -> bool:
    return word in QUALIFIER_WORDS or (len(word) > 4 and word.endswith(QUALIFIER_SUFFIXES))


def qualifier_only_options(item: Asked) -> Iterator[Finding]:
    """Two labels that differ only by a qualifier the prompt does not ask about.

    "Leiomyosarcoma" beside "Metastatic or recurrent leiomyosarcoma" under "What is the leading
    diagnosis?": both can be right, and the learner must guess whether primary or metastatic is
    being asked. A prompt that names the qualifier, or another word of its group, asks it.
    """
    loc, question, labels, inline = item
    in_prompt = _words(question.prompt)
    for group in QUALIFIER_GROUPS:
        if in_prompt & _words(" ".join(group)):
            in_prompt |= _words(" ".join(group))
    option_words = [_words(label) for label in labels]
    for b, longer in enumerate(option_words):
        for a, shorter in enumerate(option_words):
            extra = longer - shorter
            if not shorter or not shorter < longer or not all(map(_is_qualifier, extra)) or extra & in_prompt:
                continue
            ids = question.options[a].id, question.options[b].id
            yield _label_loc(loc, b, inline[b]), (
                f"{ids[1]!r} differs from {ids[0]!r} only by {' and '.join(map(repr, sorted(extra)))}, which the "
                "prompt does not ask about; both can be right: ask it in the prompt, or make the options differ in substance"
            ), "warning"
            break


def inline_ids(case: Case, catalogue: Mapping[str, CatalogueEntry]) -> set[str]:
    """Options written for this case: a label of their own, not a catalogue entry's."""
    return {option.id for stage in case.stages for question in stage.questions for option in question.options
            if option.label is not None and (option.id not in catalogue or option.label != catalogue[option.id].label)}


def case_specific_catalogue_ids(cases: Mapping[str, Case], catalogue: Mapping[str, CatalogueEntry]) -> dict[str, set[str]]:
    """For each case, the catalogue entries it offers that no other case offers.

    Only a folder of two or more cases can tell a generic step from a case-specific one, so a
    single case gets none.
    """
    used = {case_id: {option.id for stage in case.stages for question in stage.questions for option in question.options
                      if option.id in catalogue and option.label in (None, catalogue[option.id].label)}
            for case_id, case in cases.items()}
    if len(used) < 2:
        return {case_id: set() for case_id in used}
    return {case_id: ids - set().union(*(other for other_id, other in used.items() if other_id != case_id))
            for case_id, ids in used.items()}


def reported_management_offered_early(case: Case, specific: set[str]) -> Iterator[Finding]:
    """An option of an earlier stage that is the key of a later, non-diagnosis question.

    A step the team took later, shown as a distractor early, tells the learner what is coming
    ("cage reconstruction with cement augmentation" offered before the operation). Only
    case-specific options count (``specific``: inline options, or catalogue entries no other
    case uses): a generic step such as a biopsy offered early and keyed later is ordinary
    sequencing, and every case offers it.
    """
    offered: dict[str, tuple[int, int, int]] = {}
    reported: set[tuple] = set()
    for s, stage in enumerate(case.stages):
        for q, question in enumerate(stage.questions):
            early = offered.get(question.answer)
            if question.kind != "diagnosis" and question.answer in specific and early and early not in reported:
                reported.add(early)
                yield ("stages", early[0], "questions", early[1], "options", early[2]), (
                    f"{question.answer!r} is the best answer of the later stages[{s}].questions[{q}]; offered here, "
                    "a step only this case offers gives away what the team went on to do: offer another plausible step"
                ), "warning"
        for q, question in enumerate(stage.questions):
            for o, option in enumerate(question.options):
                if option.id != question.answer:
                    offered.setdefault(option.id, (s, q, o))


# --- spoilers in what the learner reads before a stage -------------------------

#: Immunohistochemical and molecular markers named in words; alphanumeric names (CD34, S-100,
#: Ki-67, SOX10, AE1/AE3) are recognised by their shape.
MARKER_WORDS = re.compile(
    r"(?<![a-z])(desmin|caldesmon|actin|vimentin|myogenin|keratin|cytokeratin|calponin|synaptophysin|chromogranin|"
    r"thyroglobulin|napsin|calretinin|sma|msa|ema|kit|alk)s?(?![a-z])", re.IGNORECASE)
MARKER_SHAPE = re.compile(r"^[A-Za-z]{1,6}-?\d{1,3}[A-Za-z]?$")
#: Shapes that are not markers: spinal levels (C5, T2, D3, L4, S1) and TNM categories.
TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
NOT_MARKER = re.compile(r"^([CTDLSNM]\d{1,2}[a-c]?)$", re.IGNORECASE)
#: Words that state a staining result; an explanation naming a marker counts only with one.
RESULT_WORDS = re.compile(r"(?<!\w)(positiv|negativ|express|reactiv|immunoreactiv)", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def markers(text: str) -> dict[str, str]:
    """Marker names in ``text``: normalised name -> the name as written (do not change the result: it is cached)."""
    found = {m.group(1).lower(): m.group(1) for m in MARKER_WORDS.finditer(text)}
    for token in TOKEN.findall(text):
        if MARKER_SHAPE.match(token) and not NOT_MARKER.match(token):
            found.setdefault(token.replace("-", "").lower(), token)
    return found


class Seen(NamedTuple):
    """A text the learner reads in play, and when it is first on screen."""

    when: float  # stage index; stage s's explanations and notes at s + 0.5 (after its commit); -1 before play
    loc: tuple
    text: str
    role: str  # "text", "label", "diagnosis-label" (of a diagnosis question), "explanation" or "teaching-note"
    owner: str = ""  # for an explanation, the label of the option it explains


def _seen(case: Case, catalogue: Mapping[str, CatalogueEntry]) -> Iterator[Seen]:
    for field in ("title", "summary"):
        yield Seen(-1, (field,), getattr(case, field), "text")
    for i, objective in enumerate(case.objectives):
        yield Seen(-1, ("objectives", i), objective, "text")
    for s, stage in enumerate(case.stages):
        for f, finding in enumerate(stage.findings):
            yield Seen(s, ("stages", s, "findings", f, "text"), finding.text, "text")
            if finding.note:
                yield Seen(s, ("stages", s, "findings", f, "note"), finding.note, "text")
        for i, image in enumerate(stage.images):
            yield Seen(s, ("stages", s, "images", i, "caption"), image.caption, "text")
        for q, question in enumerate(stage.questions):
            loc = ("stages", s, "questions", q)
            yield Seen(s, loc + ("prompt",), question.prompt, "text")
            for o, option in enumerate(question.options):
                label = _label(option, catalogue)
                role = "diagnosis-label" if question.kind == "diagnosis" else "label"
                yield Seen(s, _label_loc(loc, o, option.label is not None), label, role)
                if option.explanation:
                    yield Seen(s + 0.5, loc + ("options", o, "explanation"), option.explanation, "explanation", label)
            if question.teaching_note:
                yield Seen(s + 0.5, loc + ("teaching_note",), question.teaching_note, "teaching-note")


def diagnosis_terms(case: Case, catalogue: Mapping[str, CatalogueEntry]) -> list[str]:
    """The names of the final diagnosis itself: its catalogue label (each reading of an "A or B C"
    label too) and synonyms; without a ``diagnosis_id``, those of the catalogue diagnoses that
    ``reveal.diagnosis`` names.

    Unlike :func:`spoiler_terms`, not the names of its parts: the history of a metastatic case
    rightly names the primary tumour ("a leiomyosarcoma resected eight months ago").
    """
    did = case.reveal.diagnosis_id
    if did:
        entries = [catalogue[did]] if did in catalogue else []
    else:
        entries = [entry for entry in catalogue.values() if entry.kind == "diagnosis"
                   and names_any(case.reveal.diagnosis, [entry.label, *entry.synonyms])]
    terms = set()
    for entry in entries:
        terms.update((entry.label, *entry.synonyms))
        either = re.match(r"^(\w+) or (\w+) (.+)$", entry.label)
        if either:
            terms.update((f"{either[1]} {either[3]}", f"{either[2]} {either[3]}"))
    return sorted(terms, key=len, reverse=True)


def _names(text: str, terms: list[str]) -> str | None:
    """The first term ``text`` names, hyphens and spaces alike, a plural allowed."""
    if not text or not terms:
        return None
    match = _terms_pattern(tuple(terms)).search(text)
    return terms[match.lastindex - 1] if match else None


@functools.lru_cache(maxsize=256)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern:
    parts = (r"[\s-]+".join(re.escape(word) for word in re.split(r"[\s-]+", term.strip())) for term in terms)
    return re.compile(rf"(?<!\w)(?:{'|'.join(f'({part})' for part in parts)})(?:e?s)?(?!\w)", re.IGNORECASE)


def diagnosis_named_early(case: Case, catalogue: Mapping[str, CatalogueEntry]) -> Iterator[Finding]:
    """A stage's text names the final diagnosis before the stage that first asks for it.

    Before a stage is committed the learner has read its findings, prompts and labels and the
    explanations of earlier stages. Labels of diagnosis questions are exempt (the diagnosis is
    an option by design), and so is an explanation of an option that carries the name in its
    own label. What is shown before play is checked by the older title/summary/objectives rules.
    """
    terms = diagnosis_terms(case, catalogue)
    did = case.reveal.diagnosis_id
    asked_at = next((s for s, stage in enumerate(case.stages)
                     if any(question.answer == did for question in stage.questions)), None)
    if not terms or asked_at is None:
        return
    for seen in _seen(case, catalogue):
        if seen.when < 0 or seen.when > asked_at or seen.role == "diagnosis-label" or _names(seen.owner, terms):
            continue
        term = _names(seen.text, terms)
        if term:
            yield seen.loc, (
                f"names the final diagnosis ({term!r}), which stages[{asked_at}] asks for; the learner reads "
                "this before answering: keep it for that stage's explanations or the reveal"
            ), "warning"


def _stated_results(text: str) -> dict[str, str]:
    """Markers named in a sentence that states a result ("desmin positive", "negative for CD34")."""
    found: dict[str, str] = {}
    if not RESULT_WORDS.search(text):
        return found
    for sentence in re.split(r"(?<=[.;:])\s+", text):
        if RESULT_WORDS.search(sentence):
            found.update(markers(sentence))
    return found


def later_markers_named_early(case: Case, catalogue: Mapping[str, CatalogueEntry]) -> Iterator[Finding]:
    """Text read before a stage names a marker that the findings first show at that stage.

    "Desmin and SMA" in an objective, an earlier finding, prompt or option label tells the
    learner what the immunohistochemistry will show. The stage's own prompts and labels are read
    with its findings and are exempt. Explanations and teaching notes count only where they state
    a result ("smooth-muscle tumours are desmin positive"): naming the panel one would order, or
    the stain that excludes a mimic, teaches reasoning without giving the result away, and an
    explanation of an option whose label names the marker is exempt too.
    """
    first: dict[str, int] = {}
    for s, stage in enumerate(case.stages):
        for finding in stage.findings:
            for name in markers(finding.text):
                first.setdefault(name, s)
    if not any(s > 0 for s in first.values()):
        return
    for seen in _seen(case, catalogue):
        owned = markers(seen.owner)
        named = _stated_results(seen.text) if seen.role in ("explanation", "teaching-note") else markers(seen.text)
        early = {name: written for name, written in named.items()
                 if name not in owned and first.get(name, -1) > max(seen.when, 0)}
        if early:
            stage = min(first[name] for name in early)
            yield seen.loc, (
                f"names {', '.join(repr(w) for w in early.values())}, which the findings first show at "
                f"stages[{stage}] ({case.stages[stage].id}); the learner reads this before then"
            ), "warning"


def _lint_stage_order(case: Case) -> Iterator[Finding]:
    kinds = [stage.kind for stage in case.stages]
    if kinds[0] != "presentation":
        yield ("stages", 0, "kind"), f"the first stage is {kinds[0]!r}; a vignette starts with the presentation", "warning"
    for s, kind in enumerate(kinds):
        # A report may give immunohistochemistry without describing the morphology, so an IHC-only
        # pathology stage is fine; what misleads is tissue described after its stains.
        later = [k for k in kinds[s + 1:] if k in ("histology", "frozen-section")]
        if kind in ("ihc", "molecular") and later:
            yield ("stages", s, "kind"), f"{kind!r} stage comes before a {later[0]!r} stage; describe the tissue first", "warning"
        if kind == "presentation" and s > 0:
            yield ("stages", s, "kind"), "a second presentation stage; use another kind for later events", "warning"


def _lint_quotes(case: Case, text: str, source_file: Path | None = None) -> Iterator[Finding]:
    def check(quotes, loc):
        for i, quote in enumerate(quotes):
            if not evidence.quote_found(quote, text):
                message = (evidence.explain_missing(quote, source_file) if source_file is not None
                           else f'quote not found in the source text: "{quote}"')
                yield loc + (i,), message, "warning"

    for s, stage in enumerate(case.stages):
        for f, finding in enumerate(stage.findings):
            yield from check(finding.evidence, ("stages", s, "findings", f, "evidence"))
    reveal = case.reveal
    yield from check(reveal.diagnosis_evidence, ("reveal", "diagnosis_evidence"))
    for part in ("management", "outcome", "discrepancies"):
        for i, item in enumerate(getattr(reveal, part)):
            yield from check(item.evidence, ("reveal", part, i, "evidence"))


def _unique(ids: list[str], loc: tuple, what: str = "option id") -> Iterator[Finding]:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            yield loc + (i, "id"), f"duplicate {what} {value!r}", "error"
        seen.add(value)


def image_file(path: str, root: Path) -> tuple[Path | None, str]:
    """The image file inside the content folder that ``path`` names, or None and why not."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", path):
        return None, "a web address; the preview shows only image files in the content folder"
    if not path.lower().endswith(IMAGE_SUFFIXES):
        return None, f"not an image file ({', '.join(IMAGE_SUFFIXES)})"
    try:
        base = root.resolve()
        target = (base / path).resolve()
    except (OSError, RuntimeError):
        return None, "cannot be resolved"
    if not target.is_relative_to(base):
        return None, "outside the content folder"
    if not target.is_file():
        return None, "no such file in the content folder"
    return target, ""


# --- differentials: finding ids, the author's expected differential, problem representations ----

#: Stage kinds where a problem representation belongs besides the last stage before the reveal.
PROBLEM_REPRESENTATION_KINDS = ("presentation",)


def finding_ids(case: Case) -> Iterator[tuple[tuple, str, int | None]]:
    """Every finding id of the case: (loc of the id, id, stage index or None for the reveal)."""
    for s, stage in enumerate(case.stages):
        for f, finding in enumerate(stage.findings):
            if finding.id:
                yield ("stages", s, "findings", f, "id"), finding.id, s
    for part in ("management", "outcome"):
        for i, finding in enumerate(getattr(case.reveal, part)):
            if finding.id:
                yield ("reveal", part, i, "id"), finding.id, None


def check_differentials(case: Case, catalogue: Mapping[str, CatalogueEntry]) -> Iterator[Finding]:
    """Finding ids are unique; a differential names catalogue diagnoses, ranks them once each and cites
    only findings shown by its stage (a later stage's or the reveal's would give them away)."""
    shown_at: dict[str, int | None] = {}
    first: dict[str, tuple] = {}
    for loc, fid, s in finding_ids(case):
        if fid in first:
            yield loc, f"duplicate finding id {fid!r} (also at {field_path(first[fid][:-1])})", "error"
            continue
        first[fid], shown_at[fid] = loc, s
    for s, stage in enumerate(case.stages):
        ranks: dict[int, int] = {}
        named: dict[str, int] = {}
        for e, entry in enumerate(stage.differential):
            loc = ("stages", s, "differential", e)
            known = catalogue.get(entry.diagnosis)
            if known is None:
                yield loc + ("diagnosis",), (
                    f"{entry.diagnosis!r} is not in the catalogue{did_you_mean(entry.diagnosis, catalogue)}; "
                    "add it to questions.yaml as a diagnosis"), "error"
            elif known.kind != "diagnosis":
                yield loc + ("diagnosis",), f"{entry.diagnosis!r} is a {known.kind!r} in the catalogue, not a diagnosis", "error"
            if entry.diagnosis in named:
                yield loc + ("diagnosis",), f"{entry.diagnosis!r} is listed twice (also at differential[{named[entry.diagnosis]}])", "error"
            named.setdefault(entry.diagnosis, e)
            if entry.rank in ranks:
                yield loc + ("rank",), f"rank {entry.rank} is used twice (also at differential[{ranks[entry.rank]}]); give each entry its own rank", "error"
            ranks.setdefault(entry.rank, e)
            for side in ("supports", "against"):
                for i, fid in enumerate(getattr(entry, side)):
                    if fid not in shown_at:
                        yield loc + (side, i), f"no finding has id {fid!r}{did_you_mean(fid, shown_at)}", "error"
                    elif shown_at[fid] is None:
                        yield loc + (side, i), f"finding {fid!r} is in the reveal; a stage's differential may cite only findings shown by then", "error"
                    elif shown_at[fid] > s:
                        later = shown_at[fid]
                        yield loc + (side, i), (
                            f"finding {fid!r} is shown only at the later stages[{later}] ({case.stages[later].id}); "
                            "a stage's differential may cite only findings shown by then"), "error"
            both = set(entry.supports) & set(entry.against)
            if both:
                yield loc + ("against",), f"{', '.join(map(repr, sorted(both)))} both supports and argues against {entry.diagnosis!r}", "error"


def lint_differentials(case: Case, catalogue: Mapping[str, CatalogueEntry]) -> Iterator[Finding]:
    """Authors' differentials on some stages only, of an unusual length, naming the final diagnosis early, or a
    problem representation out of place. Silent for a file with no differential at all: the feature is optional."""
    with_differential = [s for s, stage in enumerate(case.stages) if stage.differential]
    if with_differential:
        for s, stage in enumerate(case.stages):
            if not stage.differential:
                yield ("stages", s), (
                    f"stage {stage.id!r} has no differential while stages[{with_differential[0]}] has one; "
                    "give every stage one so the learner's pad can be compared at each"), "warning"
            elif not 3 <= len(stage.differential) <= 5:
                yield ("stages", s, "differential"), f"{len(stage.differential)} entries; an expert's list holds 3 to 5", "warning"
    last = len(case.stages) - 1
    for s, stage in enumerate(case.stages):
        if stage.problem_representation and s != last and stage.kind not in PROBLEM_REPRESENTATION_KINDS:
            yield ("stages", s, "problem_representation"), (
                "a problem representation belongs on the presentation stage or the last stage before the reveal"), "warning"
    yield from differential_names_diagnosis_early(case, catalogue)


def differential_names_diagnosis_early(case: Case, catalogue: Mapping[str, CatalogueEntry]) -> Iterator[Finding]:
    """A differential that lists or names the final diagnosis before any question has offered it.

    A stage's differential is shown after its commit, so on a stage before the one whose question is keyed
    to the final diagnosis it tells the learner the name early, unless a diagnosis question has already
    offered it as an option (then the name is no news).
    """
    did = case.reveal.diagnosis_id
    terms = diagnosis_terms(case, catalogue)
    asked_at = next((s for s, stage in enumerate(case.stages)
                     if any(question.answer == did for question in stage.questions)), None)
    if not did or asked_at is None:
        return
    for s, stage in enumerate(case.stages[:asked_at]):
        if any(option.id == did for question in stage.questions if question.kind == "diagnosis"
               for option in question.options):
            return
        for e, entry in enumerate(stage.differential):
            loc = ("stages", s, "differential", e)
            term = _names(entry.reason, terms)
            if entry.diagnosis == did or term:
                field = "diagnosis" if entry.diagnosis == did else "reason"
                yield loc + (field,), (
                    f"names the final diagnosis{f' ({term!r})' if field == 'reason' else ''} before any question "
                    f"offers it (stages[{asked_at}] asks for it); the list is shown after this stage's commit: "
                    "keep it for that stage"), "warning"
