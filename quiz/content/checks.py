"""Rules that relate one part of the content to another, and the author's lint.

Each rule yields ``(loc, message, severity)`` with ``loc`` a field path into the
file, so the loader can put it on the right line. Errors make a case unplayable;
warnings are the item-writing and faithfulness rules that ``--strict`` enforces.
"""
from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from . import evidence
from .model import CORE_QUESTION_KINDS, Case, CatalogueEntry, QuestionBank

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
            yield loc + ("answer",), f"{question.answer!r} is not one of the options{hint(question.answer, option_ids)}", "error"
        if not 4 <= len(option_ids) <= 6:
            yield loc + ("options",), f"{len(option_ids)} options; write 4 to 6", "warning"


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
                yield loc + ("answer",), f"{question.answer!r} is not one of the options{hint(question.answer, option_ids)}", "error"
            for option_id in question.acceptable:
                if option_id not in option_ids:
                    yield loc + ("acceptable", option_id), f"{option_id!r} is not one of the options{hint(option_id, option_ids)}", "error"
                elif option_id == question.answer:
                    yield loc + ("acceptable", option_id), "the best answer cannot also be a partial-credit answer", "error"
    if case.source.url and _scheme(case.source.url) in UNSAFE_SCHEMES:  # the reveal links to it
        yield ("source", "url"), f"a {_scheme(case.source.url)}: address; give the report's web address (https://...)", "error"
    if case.reveal.diagnosis_id and case.reveal.diagnosis_id not in catalogue:
        yield ("reveal", "diagnosis_id"), f"{case.reveal.diagnosis_id!r} is not in the catalogue{hint(case.reveal.diagnosis_id, catalogue)}", "error"


def lint_case(case: Case, catalogue: Mapping[str, CatalogueEntry], *, source_text: str | None = None) -> Iterator[Finding]:
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
    yield from _lint_folded_blocks(case)
    if source_text is not None:
        yield from _lint_quotes(case, source_text)


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


def _lint_stage_order(case: Case) -> Iterator[Finding]:
    kinds = [stage.kind for stage in case.stages]
    if kinds[0] != "presentation":
        yield ("stages", 0, "kind"), f"the first stage is {kinds[0]!r}; a vignette starts with the presentation", "warning"
    for s, kind in enumerate(kinds):
        if kind in ("ihc", "molecular") and not {"histology", "frozen-section"} & set(kinds[:s]):
            yield ("stages", s, "kind"), f"{kind!r} stage comes before any histology stage", "warning"
        if kind == "presentation" and s > 0:
            yield ("stages", s, "kind"), "a second presentation stage; use another kind for later events", "warning"


def _lint_quotes(case: Case, text: str) -> Iterator[Finding]:
    def check(quotes, loc):
        for i, quote in enumerate(quotes):
            if not evidence.quote_found(quote, text):
                yield loc + (i,), f"quote not found in the source text: {quote[:60]!r}", "warning"

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


def source_path(case: Case, sources: Path | None) -> Path | None:
    if sources is None or not case.source.text_file:
        return None
    return sources / case.source.text_file


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
