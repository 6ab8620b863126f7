"""Export every question to Moodle GIFT or to CSV, for other quiz tools and spreadsheets.

Both formats list the questions of every *valid* case (stage by stage, in file
order), then the review questions of ``questions.yaml``. A case question
carries what a learner of the app has been shown when it is asked: the case
title, then every stage up to its own, heading and findings in order (images by
their caption), then the prompt. Nothing of a later stage is in it, so each
question stands on its own in a quiz tool that shows one question at a time.

:func:`to_gift` and :func:`to_csv` take a loaded :class:`quiz.content.loader.Content`
and return text, so the app can offer the same files as downloads.

GIFT (https://docs.moodle.org/en/GIFT_format): one multiple-choice question per
item, named ``::case-id/question-id::`` or ``::review/question-id::``, with
``$CATEGORY:`` lines putting each case (and the review set) in its own
category. The best answer is ``=``; a partial-credit answer is ``~%50%``; a
wrong one ``~``; each option's explanation is its ``#feedback`` and the
teaching note the general feedback (``####``). Texts are in Markdown
(``[markdown]``), with ``~ = # { } :`` and ``\\`` escaped by a backslash and
line breaks written ``\\n``. ``//`` lines above each question cite the source.
Moodle accepts only its own list of partial grades (50, 33.33333, 25, ...):
other ``acceptable`` values are rounded or refused at import, as the import
settings say.

CSV: one row per *option* (so a spreadsheet can filter, sort and count), with
the columns of :data:`CSV_COLUMNS`.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .loader import Content
from .model import Case, Source

#: CSV columns, one row per option. For review questions ``case_id`` holds the ids
#: of the cases the question draws on (space-separated) and the stage columns are empty.
CSV_COLUMNS: tuple[str, ...] = (
    "question_set",   # "case" or "review"
    "case_id",
    "case_title",
    "stage_number",   # 1-based position of the stage in the case
    "stage_kind",
    "stage_heading",
    "question_id",    # unique within its case; review ids are unique in questions.yaml
    "question_kind",  # diagnosis, next_step, ... ; "review" for review questions
    "topic",          # review questions only
    "prompt",
    "option_number",  # 1-based, in the order the author wrote them
    "option_id",
    "option_label",
    "is_best",        # 1 for the single best answer, else 0
    "credit",         # 1 for the best answer, the partial credit of an acceptable one, else 0
    "explanation",
    "teaching_note",
    "citation",       # the source report (cases) or the references (review questions)
)

FORMATS = ("gift", "csv")


@dataclass(frozen=True)
class ExportOption:
    id: str
    label: str
    explanation: str | None
    credit: float
    best: bool


@dataclass(frozen=True)
class ExportQuestion:
    """One question, flattened from a case stage or the review list."""

    question_set: str  # "case" | "review"
    case_ids: tuple[str, ...]
    case_title: str
    stage_number: int | None
    stage_count: int | None
    stage_kind: str
    stage_heading: str
    id: str
    kind: str
    topic: str
    prompt: str
    options: tuple[ExportOption, ...]
    teaching_note: str | None
    citation: tuple[str, ...]  # one or more lines
    shown: tuple[str, ...] = ()  # case questions: stage headings and findings up to this stage

    @property
    def name(self) -> str:
        """Unique across an export: ``case-id/question-id`` or ``review/question-id``."""
        prefix = self.case_ids[0] if self.question_set == "case" else "review"
        return f"{prefix}/{self.id}"


def cite(source: Source) -> str:
    """A one-line citation of a case's source report."""
    authors = list(source.authors)
    names = ", ".join(authors[:3]) + (", et al" if len(authors) > 3 else "")
    parts = [f"{names.rstrip('.')}." if names else "", f"{source.title.rstrip('.')}."]
    if source.journal:
        parts.append(f"{source.journal}{f' {source.year}' if source.year else ''}.")
    elif source.year:
        parts.append(f"{source.year}.")
    if source.doi:
        parts.append(f"doi:{source.doi}")
    elif source.url:
        parts.append(source.url)
    return _one_line(" ".join(p for p in parts if p))


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def shown_before(case: Case, number: int) -> tuple[str, ...]:
    """What a learner has read when stage ``number`` (1-based) asks its questions: each stage up to
    it, its heading in bold, then its findings (and images by caption), in order."""
    parts: list[str] = []
    for index, stage in enumerate(case.stages[:number], start=1):
        parts.append(f"**Stage {index} of {len(case.stages)}: {stage.heading}**")
        parts += [finding.text for finding in stage.findings]
        parts += [f"Image: {image.caption}" for image in stage.images]
    return tuple(parts)


def case_questions(case: Case, catalogue: dict | None = None) -> Iterator[ExportQuestion]:
    catalogue = catalogue or {}
    citation = [cite(case.source)]
    if case.source.licence:
        citation.append(f"Licence: {_one_line(case.source.licence)}")
    for number, stage in enumerate(case.stages, start=1):
        shown = shown_before(case, number)
        for question in stage.questions:
            options = []
            for option in question.options:
                entry = catalogue.get(option.id)
                label = option.label or (entry.label if entry else option.id)
                credit = 1.0 if option.id == question.answer else float(question.acceptable.get(option.id, 0.0))
                options.append(ExportOption(option.id, label, option.explanation, credit, option.id == question.answer))
            yield ExportQuestion(
                "case", (case.id,), case.title, number, len(case.stages), stage.kind, stage.heading,
                question.id, question.kind, "", question.prompt, tuple(options), question.teaching_note,
                tuple(citation), shown,
            )


def questions(content: Content) -> Iterator[ExportQuestion]:
    """Every question of every valid case, then every review question."""
    catalogue = content.catalogue
    for case in content.cases.values():
        yield from case_questions(case, catalogue)
    for review in content.bank.review if content.bank else []:
        options = tuple(
            ExportOption(o.id, o.label, o.explanation, 1.0 if o.id == review.answer else 0.0, o.id == review.answer)
            for o in review.options
        )
        citation = tuple(_one_line(r) for r in review.references) or ("No reference given.",)
        yield ExportQuestion(
            "review", tuple(review.cases), "", None, None, "", "", review.id, "review", review.topic,
            review.prompt, options, review.teaching_note, citation,
        )


# --- GIFT ---------------------------------------------------------------------

_GIFT_SPECIAL = re.compile(r"([\\~=#{}:])")


def gift_escape(text: str) -> str:
    """Escape GIFT's special characters and write line breaks as ``\\n``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _GIFT_SPECIAL.sub(r"\\\1", text).replace("\n", "\\n")


def _percent(credit: float) -> str:
    return f"{credit * 100:.5f}".rstrip("0").rstrip(".")


def _gift_question(q: ExportQuestion) -> list[str]:
    lines = []
    if q.question_set == "case":
        lines.append(
            f"// Case {q.case_ids[0]}, stage {q.stage_number} of {q.stage_count} ({q.stage_kind}), question {q.id}"
        )
        stem = [f"**{q.case_title}**", *q.shown, q.prompt]
    else:
        lines.append(f"// Review question {q.id} (topic: {q.topic}; cases: {', '.join(q.case_ids)})")
        stem = [q.prompt]
    lines += [f"// Source: {line}" for line in q.citation]
    body = "\\n\\n".join(gift_escape(part) for part in stem)
    lines.append(f"::{gift_escape(q.name)}::[markdown]{body}{{")
    for option in q.options:
        mark = "=" if option.best else (f"~%{_percent(option.credit)}%" if option.credit else "~")
        feedback = f"#{gift_escape(option.explanation)}" if option.explanation else ""
        lines.append(f"{mark}{gift_escape(option.label)}{feedback}")
    if q.teaching_note:
        lines.append(f"####{gift_escape(q.teaching_note)}")
    lines.append("}")
    return lines


def to_gift(content: Content) -> str:
    """Every question of ``content`` as a Moodle GIFT file."""
    out = [
        "// Differential-diagnosis vignettes: case and review questions.",
        "// Written by `python -m quiz export --format gift`. A case question's stem holds the case's",
        "// findings up to its stage, never a later one.",
        "",
    ]
    category = None
    for q in questions(content):
        wanted = f"cases/{q.case_ids[0]}" if q.question_set == "case" else "review"
        if wanted != category:
            category = wanted
            out += [f"$CATEGORY: $course$/top/Vignettes/{category}", ""]
        out += _gift_question(q) + [""]
    return "\n".join(out)


# --- CSV ----------------------------------------------------------------------

def csv_rows(content: Content) -> Iterator[dict[str, str]]:
    """One dict per option, keyed by :data:`CSV_COLUMNS`."""
    for q in questions(content):
        for number, option in enumerate(q.options, start=1):
            yield {
                "question_set": q.question_set,
                "case_id": " ".join(q.case_ids),
                "case_title": q.case_title,
                "stage_number": "" if q.stage_number is None else str(q.stage_number),
                "stage_kind": q.stage_kind,
                "stage_heading": q.stage_heading,
                "question_id": q.id,
                "question_kind": q.kind,
                "topic": q.topic,
                "prompt": q.prompt,
                "option_number": str(number),
                "option_id": option.id,
                "option_label": option.label,
                "is_best": "1" if option.best else "0",
                "credit": f"{option.credit:g}",
                "explanation": option.explanation or "",
                "teaching_note": q.teaching_note or "",
                "citation": " | ".join(q.citation),
            }


def to_csv(content: Content) -> str:
    """Every option of every question of ``content`` as CSV text (header first, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(csv_rows(content))
    return buffer.getvalue()


def render(content: Content, fmt: str) -> str:
    if fmt == "gift":
        return to_gift(content)
    if fmt == "csv":
        return to_csv(content)
    raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
