"""The seed vignettes and the question bank: faithful to their reports, playable, spoiler-free."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import REPO
from quiz.content import checks, evidence, loader
from quiz.play import engine


def sources_dir() -> Path:
    folder = Path(os.environ.get("QUIZ_SOURCES_DIR") or REPO.parent / "shared" / "seeds")
    if not folder.is_dir():
        message = f"source reports not found at {folder}: set QUIZ_SOURCES_DIR"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


def all_quotes(case):
    for s, stage in enumerate(case.stages):
        for f, finding in enumerate(stage.findings):
            for quote in finding.evidence:
                yield f"stages[{s}].findings[{f}]", quote
    reveal = case.reveal
    for quote in reveal.diagnosis_evidence:
        yield "reveal.diagnosis_evidence", quote
    for part in ("management", "outcome", "discrepancies"):
        for i, item in enumerate(getattr(reveal, part)):
            for quote in item.evidence:
                yield f"reveal.{part}[{i}]", quote


def test_content_validates_strictly_with_every_quote_found():
    content = loader.load_content(REPO / "content", sources=sources_dir())
    assert [str(p) for p in content.problems] == []
    assert len(content.cases) >= 5


def test_every_quote_is_in_its_source(cases):
    folder = sources_dir()
    missing = []
    for case in cases.values():
        assert case.source.text_file, f"{case.id}: source.text_file is needed to check quotes"
        text = evidence.source_text(folder / case.source.text_file)
        for where, quote in all_quotes(case):
            if not evidence.quote_found(quote, text):
                missing.append(f"{case.id}: {where}: {quote!r}")
            assert len(quote.split()) <= 45, f"{case.id}: {where}: quote too long to be a short quotation"
    assert missing == []


def test_every_finding_has_evidence(cases):
    for case in cases.values():
        for stage in case.stages:
            for finding in stage.findings:
                assert finding.evidence, f"{case.id}/{stage.id}: {finding.text[:60]}"
        for item in (*case.reveal.management, *case.reveal.outcome):
            assert item.evidence, f"{case.id}/reveal: {item.text[:60]}"


def test_seed_cases_cover_the_five_reports(cases):
    files = sorted(case.source.text_file for case in cases.values())
    seeds = sorted(p.name for p in sources_dir().glob("*.txt"))
    assert set(seeds) <= set(files)


@pytest.mark.parametrize("choose", ["best", "worst"])
def test_every_case_plays_to_its_reveal(cases, choose):
    for case in cases.values():
        attempt = engine.start(case)
        for index, stage in enumerate(case.stages):
            view = engine.view(case, attempt)
            assert view.reveal is None and len(view.stages) == index + 1
            if choose == "best":
                picks = {q.id: q.answer for q in stage.questions}
            else:
                picks = {q.id: next(o.id for o in q.options if engine.credit(q, o.id) == 0) for q in stage.questions}
            attempt = engine.commit(case, attempt, index, picks)
        view = engine.view(case, attempt)
        assert view.finished and view.reveal == case.reveal
        possible = sum(len(stage.questions) for stage in case.stages)
        assert view.score.possible == possible
        assert view.score.percent == (100.0 if choose == "best" else 0.0)


def test_every_stage_asks_diagnosis_and_next_step_with_4_to_6_explained_options(cases, content):
    catalogue = content.catalogue
    for case in cases.values():
        for stage in case.stages:
            kinds = sorted(q.kind for q in stage.questions)
            assert kinds == ["diagnosis", "next_step"], f"{case.id}/{stage.id}: {kinds}"
            for question in stage.questions:
                assert 4 <= len(question.options) <= 6
                assert all(o.explanation for o in question.options)
                assert question.teaching_note
                for o in question.options:
                    # a catalogue option reads the same in every case; an inline one (a finding,
                    # a marker, a site) carries its own label under an id the catalogue lacks
                    if o.id in catalogue:
                        assert catalogue[o.id].kind == question.kind and o.label == catalogue[o.id].label, \
                            f"{case.id}/{question.id}/{o.id}: catalogue options must be of kind {question.kind}, unrelabelled"
                    else:
                        assert o.label, f"{case.id}/{question.id}/{o.id}: an inline option needs its own label"


def test_titles_and_summaries_never_name_the_diagnosis(cases, content):
    for case in cases.values():
        terms = checks.spoiler_terms(case, content.catalogue)
        assert terms, f"{case.id}: reveal.diagnosis_id must name a catalogue diagnosis"
        for text in (case.id.replace("-", " "), case.title, case.summary, *case.objectives):
            for term in terms + ["sarcoma", "metasta"]:
                assert not re.search(re.escape(term), text, re.IGNORECASE), f"{case.id}: {text!r} names {term!r}"


def test_stage_notes_point_only_at_what_the_learner_can_see(cases):
    """A resident found "(see discrepancies)" at stage 1, where no discrepancy is shown: they come at the reveal."""
    for case in cases.values():
        for stage in case.stages:
            for finding in stage.findings:
                note = " ".join((finding.note or "").split())
                assert "see discrepancies" not in note, (case.id, finding.id)
                if "discrepanc" in note:
                    assert "at the end" in note or "reveal" in note, (case.id, finding.id, note)
        assert all(part for part in case.reveal.discrepancies), case.id


def test_reveal_has_teaching_points_and_a_citation(cases):
    for case in cases.values():
        assert 3 <= len(case.reveal.teaching_points) <= 5
        assert case.source.title and (case.source.authors or case.source.note)


def test_question_bank_has_enough_cross_case_review_questions(content):
    review = content.bank.review
    assert len(review) >= 15
    assert len({q.topic for q in review}) >= 4
    for question in review:
        assert all(o.explanation for o in question.options)
        assert question.answer in {o.id for o in question.options}
        assert set(question.cases) <= set(content.cases)
        assert question.references


def test_case_images_must_be_files_inside_the_content_folder(tmp_path):
    import shutil

    root = tmp_path / "content"
    shutil.copytree(REPO / "content", root)
    case_file = next((root / "cases").glob("*.yaml"))
    text = case_file.read_text(encoding="utf-8")
    (root / "images").mkdir()
    (root / "images" / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    image = ("    images:\n      - path: {path}\n        caption: Axial image\n        alt: An axial image\n"
             "        credit: Test\n")
    first_findings = text.index("    findings:")
    for path, ok in [("images/scan.png", True), ("../../etc/passwd.png", False), ("images/missing.png", False)]:
        case_file.write_text(text[:first_findings] + image.format(path=path) + text[first_findings:], encoding="utf-8")
        content = loader.load_content(root)
        if ok:
            case = content.cases[case_file.stem]
            assert Path(case.stages[0].images[0].path) == (root / "images" / "scan.png").resolve()
        else:
            assert any(p.field == "stages[0].images[0].path" for p in content.errors)
            # the edit is refused: the last valid version (with the good image) stays in service
            assert loader.display_name(case_file) in content.stale
            assert Path(content.cases[case_file.stem].stages[0].images[0].path) == (root / "images" / "scan.png").resolve()
    (root / "cases" / "another.yaml").write_text(text[:first_findings] + image.format(path="../../etc/passwd.png")
                                                 + text[first_findings:], encoding="utf-8")
    content = loader.load_content(root)
    assert "another" not in content.cases  # never valid, so nothing to fall back to
