"""The content model: what a vignette and the shared question bank may contain.

These pydantic models describe the *shape* of content files. Rules that relate
one part of the content to another (an answer must name an option, an option
must exist in the catalogue) live in :mod:`quiz.checks`, so that each can be
reported at the exact line of the field it concerns.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$", min_length=1, max_length=80),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Quote = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1_000)]

#: Stage kinds in the order a clinical team usually learns things. Authors may
#: use other kinds; the linter only checks that known kinds keep this order.
STAGE_ORDER: tuple[str, ...] = (
    "presentation",
    "labs",
    "imaging",
    "staging",
    "intraoperative",
    "frozen-section",
    "histology",
    "ihc",
    "molecular",
)
#: Question kinds every stage should ask; others (e.g. ``staging``) are allowed.
CORE_QUESTION_KINDS: tuple[str, ...] = ("diagnosis", "next_step")


class Strict(BaseModel):
    """Base for every content model: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Finding(Strict):
    """One clinical fact as the report states it, with the words that prove it."""

    text: Text = Field(description="The finding in markdown, as a learner will read it.")
    evidence: list[Quote] = Field(
        default_factory=list,
        description="Verbatim quotes from the source report that support the finding "
        "(compared with whitespace and hyphenation normalised).",
    )
    note: Text | None = Field(
        default=None,
        description="Author's remark shown beside the finding, e.g. which of two "
        "contradictory values was chosen.",
    )


class Image(Strict):
    path: Text = Field(description="Path of the image file, relative to the content folder.")
    caption: Text
    alt: Text = Field(description="Alternative text for screen readers.")
    credit: Text = Field(description="Who made the image and under what licence.")


class Option(Strict):
    """An answer option: a catalogue entry by id, or an inline one with its own label."""

    id: Slug = Field(description="Catalogue id, or a new id local to this question.")
    label: Text | None = Field(
        default=None,
        description="Shown text. Leave out to use the catalogue's label; give it for an "
        "option that is not in the catalogue.",
    )
    explanation: Text | None = Field(
        default=None,
        description="Why this option is right, partly right or wrong at this stage.",
    )


class Question(Strict):
    id: Slug
    kind: Slug = Field(description="'diagnosis' or 'next_step'; other kinds are allowed.")
    prompt: Text
    options: list[Option] = Field(min_length=2, max_length=12)
    answer: Slug = Field(description="Id of the single best option.")
    acceptable: dict[Slug, Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=dict,
        description="Other defensible options and the partial credit (0-1, exclusive) each earns.",
    )
    teaching_note: Text | None = None


class Stage(Strict):
    id: Slug
    kind: Slug = Field(
        description="presentation, labs, imaging, histology, ihc, or another kind "
        "such as staging or intraoperative."
    )
    heading: Text
    findings: list[Finding] = Field(min_length=1)
    images: list[Image] = Field(default_factory=list)
    questions: list[Question] = Field(min_length=1)


class Source(Strict):
    """The published report a vignette is drawn from."""

    authors: list[Text] = Field(default_factory=list)
    title: Text
    journal: Text | None = None
    year: Annotated[int, Field(ge=1800, le=2100)] | None = None
    doi: Text | None = None
    url: Text | None = None
    licence: Text | None = None
    text_file: Text | None = Field(
        default=None,
        description="File name of the report's plain text in the sources folder, used to "
        "verify evidence quotes.",
    )
    note: Text | None = Field(default=None, description="What is known or missing of the citation.")


class Tags(Strict):
    region: list[Slug] = Field(min_length=1, description="Body regions, e.g. neck, spine.")
    origin: Literal["primary", "metastatic", "unknown"]
    specialty: list[Slug] = Field(min_length=1)


class Discrepancy(Strict):
    """A place where the report contradicts itself, and what the vignette chose."""

    text: Text
    evidence: list[Quote] = Field(min_length=1)
    resolution: Text = Field(description="Which value the vignette uses and why.")


class Reveal(Strict):
    """What the authors of the report concluded, did and saw; shown only at the end."""

    diagnosis: Text = Field(description="Final diagnosis: primary or metastatic, and site.")
    diagnosis_id: Slug | None = Field(default=None, description="Catalogue id of the final diagnosis.")
    diagnosis_evidence: list[Quote] = Field(default_factory=list)
    management: list[Finding] = Field(min_length=1)
    outcome: list[Finding] = Field(min_length=1)
    teaching_points: list[Text] = Field(min_length=1)
    discrepancies: list[Discrepancy] = Field(default_factory=list)
    references: list[Text] = Field(default_factory=list)


class Case(Strict):
    """A staged vignette built from one published case report."""

    id: Slug = Field(description="Unique id; must equal the file name without .yaml.")
    title: Title = Field(description="List title: the presenting complaint, age and sex. Must not name the diagnosis.")
    summary: Text = Field(description="One or two sentences for the case list. Must not name the diagnosis.")
    source: Source
    tags: Tags
    difficulty: Literal["introductory", "intermediate", "advanced"]
    minutes: Annotated[int, Field(ge=1, le=240)]
    objectives: list[Text] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)
    reveal: Reveal


class CatalogueEntry(Strict):
    """A diagnosis or next step, worded once and shared by every case."""

    id: Slug
    kind: Slug = Field(description="'diagnosis' or 'next_step'.")
    label: Text
    synonyms: list[Text] = Field(default_factory=list)
    description: Text = Field(description="One line saying what it is.")


class ReviewOption(Strict):
    id: Slug
    label: Text
    explanation: Text


class ReviewQuestion(Strict):
    """A cross-case question for quick-fire review."""

    id: Slug
    topic: Slug = Field(description="e.g. immunohistochemistry, metastasis, prognosis, imaging.")
    prompt: Text
    options: list[ReviewOption] = Field(min_length=2, max_length=12)
    answer: Slug
    teaching_note: Text | None = None
    cases: list[Slug] = Field(min_length=1, description="Ids of the vignettes this question draws on.")
    references: list[Text] = Field(default_factory=list)


class QuestionBank(Strict):
    """``content/questions.yaml``: the shared catalogue and the cross-case review questions."""

    catalogue: list[CatalogueEntry] = Field(min_length=1)
    review: list[ReviewQuestion] = Field(default_factory=list)

    @field_validator("review", mode="before")
    @classmethod
    def _empty_section(cls, value: object) -> object:
        """A ``review:`` heading with only comments under it reads as null; treat it as empty."""
        return [] if value is None else value
