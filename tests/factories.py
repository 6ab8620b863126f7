"""Small, self-contained content for tests: a catalogue, a vignette, a content folder.

Nothing here reads ``content/``: the authors edit it while tests run. Every text
that must never reach a learner before its time carries a marker word in capitals
(``LATER``, ``EXPLAIN``, ``KEYNOTE``, ``REVEALED``) so a test can search a view for it.
"""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

SCHEMA_LINE = "# yaml-language-server: $schema=../schema/case.schema.json"
CASE_ID = "thigh-lump"

CATALOGUE: list[dict] = [
    {"id": "soft-tissue-sarcoma", "kind": "diagnosis", "label": "Soft-tissue sarcoma",
     "synonyms": ["STS"], "description": "Malignant tumour of connective tissue."},
    {"id": "lipoma", "kind": "diagnosis", "label": "Lipoma", "description": "Benign fatty tumour."},
    {"id": "schwannoma", "kind": "diagnosis", "label": "Schwannoma", "description": "Benign nerve-sheath tumour."},
    {"id": "abscess", "kind": "diagnosis", "label": "Abscess", "description": "Collection of pus."},
    {"id": "haematoma", "kind": "diagnosis", "label": "Haematoma", "description": "Collection of blood."},
    {"id": "mri", "kind": "next_step", "label": "MRI of the thigh", "description": "Cross-sectional imaging."},
    {"id": "core-biopsy", "kind": "next_step", "label": "Core-needle biopsy", "description": "Tissue sampling."},
    {"id": "excision", "kind": "next_step", "label": "Wide local excision", "description": "Resection with margins."},
    {"id": "observation", "kind": "next_step", "label": "Observation", "description": "Watch and wait."},
    {"id": "antibiotics", "kind": "next_step", "label": "Antibiotics", "description": "Treat an infection."},
]

DIAGNOSES = ["soft-tissue-sarcoma", "lipoma", "schwannoma", "abscess"]
NEXT_STEPS = ["mri", "core-biopsy", "excision", "observation"]


def _options(ids: list[str], stage: int, inline: dict | None = None) -> list[dict]:
    options = [{"id": i, "explanation": f"EXPLAIN {i} at stage {stage}."} for i in ids]
    if inline:
        options.append(inline)
    return options


def _question(stage: int, kind: str, answer: str, acceptable: dict | None = None, inline: dict | None = None) -> dict:
    ids = DIAGNOSES if kind == "diagnosis" else NEXT_STEPS
    question = {
        "id": f"s{stage}-{kind.replace('_', '-')}",
        "kind": kind,
        "prompt": f"Stage {stage}: {'what is the leading diagnosis' if kind == 'diagnosis' else 'what next'}?",
        "options": _options(ids, stage, inline),
        "answer": answer,
    }
    if acceptable:
        question["acceptable"] = acceptable
    question["teaching_note"] = f"KEYNOTE for stage {stage} {kind}."
    return question


def case_dict(case_id: str = CASE_ID, *, stages: int = 3) -> dict:
    """A valid vignette with ``stages`` stages (1-3) and no lint warnings.

    Stage 1 accepts ``schwannoma`` (0.5) and ``core-biopsy`` (0.25) for partial credit;
    stage 3's next-step question has an inline option (``amputation``) with its own label.
    """
    all_stages = [
        {
            "id": "presentation", "kind": "presentation", "heading": "Presentation",
            "findings": [{"text": "A 50-year-old man with a **growing lump** in the thigh.",
                          "evidence": ["a 50-year-old man presented with a growing mass of the thigh"]}],
            "questions": [
                _question(1, "diagnosis", "soft-tissue-sarcoma", {"schwannoma": 0.5}),
                _question(1, "next_step", "mri", {"core-biopsy": 0.25}),
            ],
        },
        {
            "id": "imaging", "kind": "imaging", "heading": "LATER imaging heading",
            "findings": [{"text": "LATER finding: MRI shows a deep 9 cm heterogeneous mass.",
                          "evidence": ["a deep heterogeneous mass of 9 cm"]}],
            "questions": [
                _question(2, "diagnosis", "soft-tissue-sarcoma"),
                _question(2, "next_step", "core-biopsy", {"excision": 0.5}),
            ],
        },
        {
            "id": "histology", "kind": "histology", "heading": "LATER histology heading",
            "findings": [{"text": "LATER finding: pleomorphic spindle cells with mitoses.",
                          "evidence": ["pleomorphic spindle cells with numerous mitoses"]}],
            "questions": [
                _question(3, "diagnosis", "soft-tissue-sarcoma"),
                _question(3, "next_step", "excision", inline={
                    "id": "amputation", "label": "Amputation", "explanation": "EXPLAIN amputation at stage 3."}),
            ],
        },
    ]
    return {
        "id": case_id,
        "title": "A growing lump in the thigh of a 50-year-old man",
        "summary": "A painless lump in the thigh has grown over six months.",
        "source": {"authors": ["A. Author"], "title": "REVEALED source title", "journal": "Journal of Tests",
                   "year": 2020},
        "tags": {"region": ["thigh"], "origin": "primary", "specialty": ["pathology"]},
        "difficulty": "introductory",
        "minutes": 10,
        "objectives": ["Build a differential diagnosis for a deep thigh lump."],
        "stages": copy.deepcopy(all_stages[:stages]),
        "reveal": {
            "diagnosis": "REVEALED diagnosis: primary soft-tissue sarcoma of the thigh",
            "diagnosis_id": "soft-tissue-sarcoma",
            "diagnosis_evidence": ["the final diagnosis was an undifferentiated sarcoma"],
            "management": [{"text": "REVEALED management: wide excision.",
                            "evidence": ["wide excision was performed"]}],
            "outcome": [{"text": "REVEALED outcome: no recurrence at two years.",
                         "evidence": ["no recurrence after two years"]}],
            "teaching_points": ["REVEALED teaching point: deep lumps over 5 cm need imaging."],
        },
    }


def dump(data: object, *, schema_line: bool = True) -> str:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    return f"{SCHEMA_LINE}\n{text}" if schema_line else text


def bank_dict(catalogue: list[dict] | None = None, review: list[dict] | None = None) -> dict:
    bank: dict = {"catalogue": copy.deepcopy(CATALOGUE if catalogue is None else catalogue)}
    if review is not None:
        bank["review"] = review
    return bank


def review_question(qid: str = "review-deep-lump", cases: list[str] | None = None) -> dict:
    return {
        "id": qid, "topic": "imaging", "prompt": "Which lump needs imaging first?",
        "options": [{"id": f"opt-{i}", "label": f"Option {i}", "explanation": f"Because {i}."} for i in "abcd"],
        "answer": "opt-a", "teaching_note": "Deep and large.", "cases": cases or [CASE_ID],
    }


def write_content(root: Path, cases: dict[str, dict | str | bytes] | None = None, *,
                  bank: dict | str | None = None, suffix: str = ".yaml") -> Path:
    """Write a content folder: ``questions.yaml`` and ``cases/<name><suffix>`` for each case.

    ``cases`` maps a file stem to a vignette (dict, YAML text or raw bytes); by default one
    valid vignette named :data:`CASE_ID`. Returns ``root``.
    """
    root = Path(root)
    (root / "cases").mkdir(parents=True, exist_ok=True)
    bank_data = bank_dict() if bank is None else bank
    bank_text = bank_data if isinstance(bank_data, str) else dump(bank_data, schema_line=False)
    (root / "questions.yaml").write_text(bank_text, encoding="utf-8")
    for stem, case in ({CASE_ID: case_dict()} if cases is None else cases).items():
        path = root / "cases" / f"{stem}{suffix}"
        if isinstance(case, bytes):
            path.write_bytes(case)
        else:
            path.write_text(case if isinstance(case, str) else dump(case), encoding="utf-8")
    return root


def catalogue_entries() -> dict:
    """The catalogue as the loader hands it to ``parse_case``."""
    from quiz.content.model import CatalogueEntry

    return {entry["id"]: CatalogueEntry.model_validate(entry) for entry in CATALOGUE}


def load_case(data: dict | None = None):
    """A validated, label-resolved :class:`quiz.content.model.Case` (raises if the vignette is invalid)."""
    from quiz.content import loader

    data = case_dict() if data is None else data
    parsed = loader.parse_case(dump(data).encode(), "case.yaml", catalogue_entries(), stem=data["id"])
    errors = [str(p) for p in parsed.problems if p.severity == "error"]
    assert parsed.model is not None, errors
    return parsed.model


#: A hand-written valid vignette whose line numbers the property tests and the
#: malformed corpus rely on (keep ``id`` on line 2). ``{id}`` is the case id.
MINIMAL_CASE = """\
# yaml-language-server: $schema=../schema/case.schema.json
id: {id}
title: A growing lump in the thigh of a 50-year-old man
summary: A painless lump in the thigh has grown over six months.
source:
  title: A case report
  year: 2020
tags:
  region: [thigh]
  origin: primary
  specialty: [pathology]
difficulty: introductory
minutes: 10
objectives:
  - Build a differential diagnosis for a deep thigh lump.
stages:
  - id: presentation
    kind: presentation
    heading: Presentation
    findings:
      - text: A 50-year-old man with a growing lump in the thigh.
        evidence:
          - "a 50-year-old man presented with a growing mass of the thigh"
    questions:
      - id: first-diagnosis
        kind: diagnosis
        prompt: What is the leading diagnosis?
        options:
          - id: soft-tissue-sarcoma
            explanation: Deep, large and growing.
          - id: lipoma
            explanation: Usually soft and superficial.
          - id: schwannoma
            explanation: Possible, but less likely.
          - id: abscess
            explanation: No fever or redness.
        answer: soft-tissue-sarcoma
        acceptable:
          schwannoma: 0.5
      - id: first-next-step
        kind: next_step
        prompt: What next?
        options:
          - id: mri
            explanation: Image before any biopsy.
          - id: core-biopsy
            explanation: After imaging.
          - id: excision
            explanation: Never before a diagnosis.
          - id: observation
            explanation: Not for a growing deep lump.
        answer: mri
reveal:
  diagnosis: Primary soft-tissue sarcoma of the thigh
  diagnosis_id: soft-tissue-sarcoma
  management:
    - text: Wide excision.
      evidence: ["wide excision was performed"]
  outcome:
    - text: No recurrence at two years.
      evidence: ["no recurrence after two years"]
  teaching_points:
    - Deep lumps over 5 cm need imaging.
"""


def minimal_case(case_id: str = CASE_ID) -> str:
    return MINIMAL_CASE.replace("{id}", case_id)
