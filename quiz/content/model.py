"""The content model: what a vignette and the shared question bank may contain.

These pydantic models describe the *shape* of content files. Rules that relate
one part of the content to another (an answer must name an option, an option
must exist in the catalogue) live in :mod:`quiz.content.checks`, so that each can be
reported at the exact line of the field it concerns.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$", min_length=1, max_length=80),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Quote = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1_000)]


def _one_line(text: str) -> str:
    if "\n" in text:
        raise ValueError("must be one line (write it with >- or on one line, not with |)")
    return text


#: One line of prose: a differential's reason, a problem representation's summary.
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), AfterValidator(_one_line)]
#: A short term: a problem representation's qualifier such as "subacute" or "no fever".
Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), AfterValidator(_one_line)]
# Upper bounds on every list, far above any real vignette (the largest has 7 stages of 2 questions and
# 6 findings). A list over its bound is one error, found before its items are validated, so a hostile
# file (``stages: [{}, {}, ...]`` 99,000 times) costs bounded work instead of 500,000 errors.
MAX_STAGES = 30
MAX_QUESTIONS = 10  # per stage
MAX_OPTIONS = 12  # per question
MAX_FINDINGS = 50  # per stage, and items of management or outcome
MAX_QUOTES = 20  # per finding or discrepancy
MAX_IMAGES = 12  # per stage
MAX_ITEMS = 30  # objectives, teaching points, tags, references, synonyms, a review question's cases
MAX_AUTHORS = 100
MAX_CATALOGUE = 2_000
MAX_REVIEW = 1_000

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

    id: Slug | None = Field(
        default=None,
        description="Stable id, unique within the case, e.g. c6-tenderness. Differentials (the author's and the "
        "learner's) cite findings by it; leave it out only for a finding nobody needs to cite.",
    )
    text: Text = Field(description="The finding in markdown, as a learner will read it.")
    evidence: list[Quote] = Field(
        default_factory=list,
        max_length=MAX_QUOTES,
        description="Verbatim quotes from the source report that support the finding "
        "(compared with whitespace and hyphenation normalised).",
    )
    note: Text | None = Field(
        default=None,
        description="Author's remark shown beside the finding, e.g. which of two "
        "contradictory values was chosen.",
    )


class Image(Strict):
    """An image shown with a stage's findings."""

    path: Text = Field(description="Path of the image file, relative to the content folder.")
    caption: Text = Field(description="Caption shown under the image.")
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
    fixed: bool = Field(
        default=False,
        description="Keep this option at its place in the file instead of shuffling it, for options "
        "whose place carries meaning (\"None of the above\" last, numeric ranges in order). "
        "Every other option is shown in a fresh order on each attempt.",
    )


class Question(Strict):
    """A question asked at the end of a stage, answered by choosing one option."""

    id: Slug = Field(description="Unique within the case, e.g. imaging-diagnosis.")
    kind: Slug = Field(description="'diagnosis' or 'next_step'; other kinds are allowed.")
    prompt: Text = Field(description="The question, e.g. What is the leading diagnosis at this point?")
    options: list[Option] = Field(
        min_length=2,
        max_length=MAX_OPTIONS,
        description="4-6 homogeneous options (all diagnoses or all next steps); 2-12 are accepted.",
    )
    answer: Slug = Field(description="Id of the single best option.")
    acceptable: dict[Slug, Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=dict,
        max_length=MAX_OPTIONS - 1,
        description="Other defensible options and the partial credit (0-1, exclusive) each earns.",
    )
    teaching_note: Text | None = Field(
        default=None,
        description="The reasoning the question teaches, shown after the stage is committed.",
    )


class DifferentialEntry(Strict):
    """One diagnosis of the author's expected differential at a stage: an answer key, shown after the commit."""

    diagnosis: Slug = Field(description="Catalogue id of an entry of kind diagnosis.")
    rank: Annotated[int, Field(ge=1, le=99)] = Field(
        description="1 for the leading diagnosis, 2 for the next; unique within the stage."
    )
    must_not_miss: bool = Field(
        default=False,
        description="A diagnosis that must stay on the list at this point because missing it would harm, "
        "even if it is not the likeliest.",
    )
    reason: Line = Field(
        description="One line: why it is on the list at this rank, from what the stages so far show "
        "(general knowledge written as such; nothing of a later stage)."
    )
    supports: list[Slug] = Field(
        default_factory=list, max_length=MAX_FINDINGS, description="Ids of findings shown by this stage that argue for it."
    )
    against: list[Slug] = Field(
        default_factory=list, max_length=MAX_FINDINGS, description="Ids of findings shown by this stage that argue against it."
    )


class ProblemRepresentation(Strict):
    """The author's one-line summary of the case so far, with the qualifiers a good one uses."""

    summary: Line = Field(
        description="A model one-liner, e.g. 45-year-old man with a resected thigh sarcoma and five months "
        "of progressive cervical pain with a left-arm sensory deficit."
    )
    qualifiers: list[Term] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="The semantic qualifiers a learner's one-liner should use: duration, site, key "
        "negatives (e.g. subacute, cervical, no fever); ticked where the learner's words match.",
    )


class Stage(Strict):
    """One step of the work-up: findings, then questions."""

    id: Slug = Field(description="Unique within the case, e.g. presentation, imaging.")
    kind: Slug = Field(
        description="presentation, labs, imaging, histology, ihc, or another kind "
        "such as staging or intraoperative."
    )
    heading: Text = Field(description="Heading shown above the stage, e.g. Imaging.")
    findings: list[Finding] = Field(
        min_length=1,
        max_length=MAX_FINDINGS,
        description="What the team learned at this stage, and nothing from later stages.",
    )
    images: list[Image] = Field(default_factory=list, max_length=MAX_IMAGES,
                                description="Images shown with the findings.")
    questions: list[Question] = Field(
        min_length=1,
        max_length=MAX_QUESTIONS,
        description="One diagnosis and one next_step question, answered before the next stage opens.",
    )
    differential: list[DifferentialEntry] = Field(
        default_factory=list,
        max_length=10,
        description="The differential an expert would hold after reading this stage (3-5 entries); an "
        "answer key, shown beside the learner's pad after the stage is committed.",
    )
    problem_representation: ProblemRepresentation | None = Field(
        default=None,
        description="The author's one-line summary, on the presentation stage and on the last stage "
        "before the reveal; shown after the commit beside the learner's.",
    )


class Source(Strict):
    """The published report a vignette is drawn from."""

    authors: list[Text] = Field(default_factory=list, max_length=MAX_AUTHORS,
                                description="Authors as in the byline, one item each.")
    title: Text = Field(
        description="Title of the report as published (it may name the diagnosis: it is shown only at the end)."
    )
    journal: Text | None = Field(default=None, description="Journal name, if the report gives it.")
    year: Annotated[int, Field(ge=1800, le=2100)] | None = Field(default=None, description="Year of publication.")
    doi: Text | None = Field(
        default=None, description="DOI without the https://doi.org/ prefix, e.g. 10.25259/SNI_66_2024."
    )
    url: Text | None = Field(default=None, description="Web address of the report.")
    licence: Text | None = Field(default=None, description="Licence as the report states it, e.g. CC BY 4.0.")
    text_file: Text | None = Field(
        default=None,
        description="File name of the report's plain text in the sources folder, used to "
        "verify evidence quotes.",
    )
    note: Text | None = Field(default=None, description="What is known or missing of the citation.")


class Tags(Strict):
    """Labels for filtering the case list."""

    region: list[Slug] = Field(min_length=1, max_length=MAX_ITEMS, description="Body regions, e.g. neck, spine.")
    origin: Literal["primary", "metastatic", "unknown"] = Field(
        description="Whether the lesion of the case is primary or metastatic."
    )
    specialty: list[Slug] = Field(min_length=1, max_length=MAX_ITEMS, description="Specialties involved, e.g. pathology, neurosurgery.")


class Discrepancy(Strict):
    """A place where the report contradicts itself, and what the vignette chose."""

    text: Text = Field(description="What differs, e.g. two ages or two durations.")
    evidence: list[Quote] = Field(min_length=1, max_length=MAX_QUOTES, description="A verbatim quote of each version.")
    resolution: Text = Field(description="Which value the vignette uses and why.")


class Reveal(Strict):
    """What the authors of the report concluded, did and saw; shown only at the end."""

    diagnosis: Text = Field(description="Final diagnosis: primary or metastatic, and site.")
    diagnosis_id: Slug | None = Field(default=None, description="Catalogue id of the final diagnosis.")
    diagnosis_evidence: list[Quote] = Field(
        default_factory=list, max_length=MAX_QUOTES, description="Verbatim quotes stating the final diagnosis."
    )
    management: list[Finding] = Field(
        min_length=1,
        max_length=MAX_FINDINGS,
        description="What was done: operation, drugs and doses, radiotherapy doses exactly as reported.",
    )
    outcome: list[Finding] = Field(min_length=1, max_length=MAX_FINDINGS, description="Follow-up, with times.")
    teaching_points: list[Text] = Field(min_length=1, max_length=MAX_ITEMS,
                                        description="3-5 points supported by the report.")
    discrepancies: list[Discrepancy] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Places where the report contradicts itself."
    )
    references: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS,
                                   description="Further sources the explanations rely on.")


class Case(Strict):
    """A staged vignette built from one published case report."""

    id: Slug = Field(description="Unique id; must equal the file name without .yaml.")
    title: Title = Field(description="List title: the presenting complaint, age and sex. Must not name the diagnosis.")
    summary: Text = Field(description="One or two sentences for the case list. Must not name the diagnosis.")
    source: Source = Field(description="The published report the vignette is drawn from.")
    tags: Tags = Field(description="Region, origin and specialty, for filtering the case list.")
    difficulty: Literal["introductory", "intermediate", "advanced"] = Field(
        description="How hard the case is for the intended learners."
    )
    minutes: Annotated[int, Field(ge=1, le=240)] = Field(description="About how long the case takes to play.")
    objectives: list[Text] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="3-5 learning objectives, for authors and instructors; checked as text shown before play: they must not name the diagnosis.",
    )
    stages: list[Stage] = Field(
        min_length=1,
        max_length=MAX_STAGES,
        description="The stages in the order the team learned things; each is committed before the next opens.",
    )
    reveal: Reveal = Field(description="The conclusion, management and outcome, shown after the last stage.")


class CatalogueEntry(Strict):
    """A diagnosis or next step, worded once and shared by every case."""

    id: Slug = Field(description="The id options use, e.g. core-needle-biopsy.")
    kind: Slug = Field(description="'diagnosis' or 'next_step'.")
    label: Text = Field(description="Text shown for the option.")
    synonyms: list[Text] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="Other names; a case whose final diagnosis this is must not use them "
        "in its title, summary or objectives.",
    )
    description: Text = Field(description="One line saying what it is.")


class ReviewOption(Strict):
    """An option of a review question, with its own label."""

    id: Slug = Field(description="Unique within the question.")
    label: Text = Field(description="Text shown for the option.")
    explanation: Text = Field(description="Why the option is right or wrong.")
    fixed: bool = Field(
        default=False,
        description="Keep this option at its place in the file instead of shuffling it, for options "
        "whose place carries meaning (\"None of the above\" last, numeric ranges in order). "
        "Every other option is shown in a fresh order on each attempt.",
    )


class ReviewQuestion(Strict):
    """A cross-case question for quick-fire review."""

    id: Slug = Field(description="Unique among review questions.")
    topic: Slug = Field(description="e.g. immunohistochemistry, metastasis, prognosis, imaging.")
    prompt: Text = Field(description="The question.")
    options: list[ReviewOption] = Field(
        min_length=2, max_length=MAX_OPTIONS, description="4-6 options, each with its own label and explanation."
    )
    answer: Slug = Field(description="Id of the single best option.")
    teaching_note: Text | None = Field(
        default=None, description="The point the question teaches, shown after answering."
    )
    cases: list[Slug] = Field(min_length=1, max_length=MAX_ITEMS, description="Ids of the vignettes this question draws on.")
    references: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS, description="Citations supporting the answer.")


class QuestionBank(Strict):
    """``content/questions.yaml``: the shared catalogue and the cross-case review questions."""

    catalogue: list[CatalogueEntry] = Field(
        min_length=1, max_length=MAX_CATALOGUE, description="Every diagnosis and next step that case options may name by id."
    )
    review: list[ReviewQuestion] = Field(default_factory=list, max_length=MAX_REVIEW,
                                         description="Cross-case review questions.")

    @field_validator("review", mode="before")
    @classmethod
    def _empty_section(cls, value: object) -> object:
        """A ``review:`` heading with only comments under it reads as null; treat it as empty."""
        return [] if value is None else value
