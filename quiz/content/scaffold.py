"""``python -m quiz new ID``: a commented skeleton for a new vignette.

The skeleton is valid in shape (every required field is present, options are
real catalogue ids) but every text an author must write holds a one-line
``TODO: ...`` placeholder saying what belongs there. ``validate`` reports each
placeholder still in the file (see :data:`quiz.content.checks.PLACEHOLDER`) at its
line, so the skeleton is also the author's to-do list. Fields that cannot hold
text (ids, tags, numbers) carry a sensible value and a comment to change it.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import loader
from .checks import PLACEHOLDER
from .model import CatalogueEntry

#: The model's pattern for ids (``quiz.content.model.Slug``), repeated here to explain a refusal.
SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
SLUG_MAX = 80


class ScaffoldError(Exception):
    """The skeleton cannot be written; the message says why, for the author."""


@dataclass(frozen=True)
class StagePlan:
    id: str
    heading: str
    findings_hint: str
    diagnoses: tuple[str, ...]  # preferred catalogue ids, best answer first
    next_steps: tuple[str, ...]


#: Three stages in the order a team learns things, with options a typical case would weigh.
#: Ids missing from the target catalogue are replaced by others of the same kind.
STAGES: tuple[StagePlan, ...] = (
    StagePlan(
        "presentation", "Presentation",
        "history, examination, past history and labs as the learner reads them (markdown)",
        ("soft-tissue-sarcoma", "metastatic-carcinoma", "lymphoma", "schwannoma"),
        ("mri-region", "ct-region", "ultrasound", "core-needle-biopsy"),
    ),
    StagePlan(
        "imaging", "Imaging",
        "imaging modality by modality: site, size, levels and relations as reported",
        ("soft-tissue-sarcoma", "metastatic-carcinoma", "lymphoma", "schwannoma"),
        ("core-needle-biopsy", "fine-needle-aspiration", "wide-excision", "staging-ct"),
    ),
    StagePlan(
        "histology", "Histology",
        "the pathologist's description of the tissue: cells, pattern, mitoses, necrosis",
        ("leiomyosarcoma", "undifferentiated-pleomorphic-sarcoma", "mpnst", "synovial-sarcoma"),
        ("ihc-panel", "molecular-testing", "wide-excision", "mdt-review"),
    ),
)
OPTIONS_PER_QUESTION = 4


def check_id(case_id: str) -> None:
    """Raise :class:`ScaffoldError` unless ``case_id`` is a valid case id (a slug)."""
    if not SLUG.match(case_id) or len(case_id) > SLUG_MAX:
        raise ScaffoldError(
            f"invalid case id {case_id!r}: use lower-case letters, digits and single hyphens "
            f"(at most {SLUG_MAX} characters), naming the presenting complaint, "
            "e.g. 'neck-swelling-dysphagia'"
        )


def pick(kind: str, preferred: Sequence[str], catalogue: Mapping[str, CatalogueEntry],
         count: int = OPTIONS_PER_QUESTION) -> list[str]:
    """``count`` catalogue ids of ``kind``: the preferred ones that exist, then others in catalogue order.

    Fewer are returned when the catalogue holds fewer entries of that kind.
    """
    chosen = [i for i in preferred if i in catalogue and catalogue[i].kind == kind]
    chosen += [i for i, entry in catalogue.items() if entry.kind == kind and i not in chosen]
    return chosen[:count]


def _q(text: str) -> str:
    """A one-line YAML double-quoted string (JSON's quoting is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _todo(hint: str) -> str:
    return _q(f"{PLACEHOLDER}: {hint}")


def _options(kind: str, preferred: Sequence[str], catalogue: Mapping[str, CatalogueEntry],
             indent: str) -> tuple[list[str], str]:
    """YAML lines of a question's options, and the id of the one marked best."""
    ids = pick(kind, preferred, catalogue)
    lines: list[str] = []
    inline = [f"option-{n}" for n in range(len(ids) + 1, OPTIONS_PER_QUESTION + 1)]
    for n, option_id in enumerate(ids + inline):
        lines.append(f"{indent}- id: {option_id}")
        if option_id in inline:
            hint = f"label of this {kind} option (the catalogue has too few; prefer adding it there)"
            lines.append(f"{indent}  label: {_todo(hint)}")
        hint = (
            "why this is the best answer now, from the findings shown so far"
            if n == 0 else
            "why a clinician would weigh this option and why it is not the best answer now"
        )
        lines.append(f"{indent}  explanation: {_todo(hint)}")
    return lines, (ids + inline)[0]


def _question(stage: StagePlan, kind: str, catalogue: Mapping[str, CatalogueEntry]) -> list[str]:
    qid = f"{stage.id}-{'diagnosis' if kind == 'diagnosis' else 'next-step'}"
    if kind == "diagnosis":
        prompt = "What is the leading diagnosis at this point?"
        options_comment = "4-6 diagnoses, one best answer; swap ids for catalogue diagnoses that fit"
        preferred = stage.diagnoses
        note = "the reasoning this stage teaches, in two or three sentences"
    else:
        prompt = "What should the team do next?"
        options_comment = "4-6 next steps; in the last stage, the best answer is what the team did next"
        preferred = stage.next_steps
        note = "why this step comes now and what it will settle"
    options, answer = _options(kind, preferred, catalogue, " " * 10)
    return [
        f"      - id: {qid}",
        f"        kind: {kind}",
        f"        prompt: {prompt}",
        f"        options:  # {options_comment}",
        *options,
        f"        answer: {answer}  # id of the single best option",
        "        # acceptable: {other-option-id: 0.5}  # partial credit for a defensible second-best",
        f"        teaching_note: {_todo(note)}",
    ]


def render(case_id: str, catalogue: Mapping[str, CatalogueEntry]) -> str:
    """The skeleton of case ``case_id``, with options taken from ``catalogue``."""
    check_id(case_id)
    final = pick("diagnosis", STAGES[-1].diagnoses, catalogue, 1)
    lines = [
        "# yaml-language-server: $schema=../schema/case.schema.json",
        f"# Skeleton written by `python -m quiz new {case_id}`. Replace every placeholder string,",
        "# then run `python -m quiz validate` (it lists each unfilled placeholder by its line)",
        "# and `python -m quiz validate --sources DIR` to check the quotes. Guide: docs/authoring.md.",
        "# Ids, stage kinds and numbers below are examples: change them where they do not fit.",
        "# Add or remove stages (labs, ihc, staging, ...) to follow the order of the report.",
        f"id: {case_id}  # must equal the file name; describes the presentation, never the diagnosis",
        f"title: {_todo('presenting complaint, age and sex; never the diagnosis')}",
        f"summary: {_todo('one or two sentences on the presentation for the case list; never the diagnosis')}",
        "source:  # the published case report",
        "  authors:  # one line per author, as in the byline",
        f"    - {_todo('first author')}",
        f"  title: {_todo('title of the report as published')}",
        f"  journal: {_todo('journal name; delete the line if the report does not say')}",
        "  # year: 2024  # year of publication, a number",
        f"  doi: {_todo('DOI such as 10.25259/SNI_66_2024; delete the line if none')}",
        f"  url: {_todo('web address of the report; delete the line if none')}",
        f"  licence: {_todo('licence as the report states it, e.g. CC BY 4.0; delete the line if unknown')}",
        f"  text_file: {_todo('file name of the report text in the sources folder, e.g. 004_4830fc548d0e04fa.txt')}",
        f"  note: {_todo('what is known or missing of the citation; delete the line if nothing')}",
        "tags:",
        "  region: [neck]  # body regions, as slugs: neck, spine, abdomen, ...",
        "  origin: primary  # primary, metastatic or unknown",
        "  specialty: [pathology]  # specialties, as slugs: oncology, radiology, ...",
        "difficulty: intermediate  # introductory, intermediate or advanced",
        "minutes: 15  # time to play the case",
        "objectives:  # 3-5 learning objectives, as neutral skills; checked as if shown before play: never name the diagnosis",
        f"  - {_todo('objective, e.g. Build a differential for a fixed neck mass')}",
        f"  - {_todo('objective, e.g. Choose the imaging that localises the lesion')}",
        f"  - {_todo('objective, e.g. Plan the work-up of a spindle-cell lesion')}",
        "stages:",
    ]
    for stage in STAGES:
        lines += [
            f"  - id: {stage.id}",
            f"    kind: {stage.id}",
            f"    heading: {stage.heading}",
            "    findings:  # only what the team knew at this stage; one fact or group of facts each",
            f"      - text: {_todo(stage.findings_hint)}",
            "        evidence:  # verbatim quotes from the report, up to ~30 words each",
            f"          - {_todo('verbatim quote from the report that proves the finding')}",
            "        # note: which of two contradictory values was chosen (see reveal.discrepancies)",
            "    questions:",
            *_question(stage, "diagnosis", catalogue),
            *_question(stage, "next_step", catalogue),
        ]
    lines += [
        "reveal:  # shown only at the end",
        f"  diagnosis: {_todo('final diagnosis as the report concludes: primary or metastatic, and site')}",
    ]
    if final:
        lines.append(f"  diagnosis_id: {final[0]}  # catalogue id of the final diagnosis")
    else:
        lines.append("  # diagnosis_id: catalogue id of the final diagnosis")
    lines += [
        "  diagnosis_evidence:",
        f"    - {_todo('verbatim quote stating the final diagnosis')}",
        "  management:  # operation, drugs and doses, radiotherapy dose and fractions exactly as reported",
        f"    - text: {_todo('what was done, as reported')}",
        "      evidence:",
        f"        - {_todo('verbatim quote')}",
        "  outcome:  # follow-up, with times",
        f"    - text: {_todo('follow-up and its timing, as reported')}",
        "      evidence:",
        f"        - {_todo('verbatim quote')}",
        "  teaching_points:  # 3-5, each supported by the report; mark general knowledge as such",
        f"    - {_todo('teaching point')}",
        f"    - {_todo('teaching point')}",
        f"    - {_todo('teaching point')}",
        "  # discrepancies:  # where the report contradicts itself",
        "  #   - text: What differs, e.g. two ages.",
        "  #     evidence: [\"first version, verbatim\", \"second version, verbatim\"]",
        "  #     resolution: Which value the vignette uses and why.",
        "  # references:  # further sources the explanations rely on",
        "  #   - Author A, et al. Title. Journal Year;Volume:Pages.",
    ]
    return "\n".join(lines) + "\n"


def read_catalogue(content_dir: Path) -> dict[str, CatalogueEntry]:
    """The catalogue of ``content_dir``'s question bank; empty when it is missing or invalid."""
    bank_path = Path(content_dir) / loader.BANK_FILE
    if not bank_path.is_file():
        return {}
    bank = loader.parse_bank(bank_path.read_bytes(), loader.display_name(bank_path)).model
    return {entry.id: entry for entry in bank.catalogue} if bank is not None else {}  # type: ignore[attr-defined]


def case_path(content_dir: Path, case_id: str) -> Path:
    return Path(content_dir) / loader.CASES_DIR / f"{case_id}.yaml"


def create(content_dir: Path | str, case_id: str, *, force: bool = False) -> Path:
    """Write the skeleton of ``case_id`` into ``<content_dir>/cases``; return its path.

    Raises :class:`ScaffoldError` for an invalid id, a missing content folder, or
    an existing file (unless ``force``).
    """
    check_id(case_id)
    content_dir = Path(content_dir)
    if not content_dir.is_dir():
        raise ScaffoldError(f"content folder {content_dir} does not exist")
    path = case_path(content_dir, case_id)
    if path.exists() and not force:
        raise ScaffoldError(f"{path} already exists; use --force to overwrite it")
    text = render(case_id, read_catalogue(content_dir))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- ``python -m quiz init DIR``: a fresh content folder ------------------------------------

#: The shipped vignette copied into a new bank as a worked example to read and then delete.
EXAMPLE_CASE = "right-sided-pain-numbness-weakness"

BANK_HEADER = """\
# yaml-language-server: $schema=schema/questions.schema.json
# The shared catalogue of diagnoses and next steps, and the cross-case review questions.
# Every case takes its options from here by id, so an option reads the same in every case.
# Written by `python -m quiz init` from the catalogue shipped with the app: keep, edit or
# delete entries; cases may only use ids that are listed here (or give an option a label).
"""

REVIEW_NOTE = """
# Cross-case review questions: each lists in `cases:` the vignettes it draws on, and is shown to
# a learner only after they finished all of them. None yet; see docs/authoring.md.
review: []
"""


def init(target: Path | str, template: Path | str, *, example: str = EXAMPLE_CASE) -> list[Path]:
    """Make a content folder that validates as it is; return the files written.

    It holds the template's catalogue (no review questions, since they would name cases that are
    not there), the JSON Schemas, and one example case copied from the template, to read and then
    delete. Refuses a folder that already holds files, so nobody's bank is overwritten.
    """
    from . import schema

    target, template = Path(target), Path(template)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not an empty folder; choose a new folder")
    catalogue = read_catalogue(template)
    if not catalogue:
        raise ScaffoldError(f"the template folder {template} has no valid {loader.BANK_FILE}")
    entries = [entry.model_dump(exclude_defaults=True) for entry in catalogue.values()]
    import yaml  # only here: the rest of this module writes text by hand

    bank = BANK_HEADER + yaml.safe_dump({"catalogue": entries}, sort_keys=False, allow_unicode=True, width=100)
    (target / loader.CASES_DIR).mkdir(parents=True, exist_ok=True)
    written = [target / loader.BANK_FILE]
    written[0].write_text(bank + REVIEW_NOTE, encoding="utf-8")
    written += schema.write(target / "schema")
    source = case_path(template, example)
    if source.is_file():
        copy = case_path(target, example)
        copy.write_bytes(source.read_bytes())
        written.append(copy)
    return written
