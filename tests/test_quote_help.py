"""Help for the hard part of authoring, the verbatim quote: what is shown when one is not found.

The report text and the slips are those a new author met (shared/reviews/new-author.md): an en
dash typed as a hyphen, a word added, a look-alike letter.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import factories
from test_content import sources_dir
from quiz.content import evidence, loader

REPORT = ("A 60-year-old man was admitted to hospital due to swelling of the left knee for 2 months. "
          "X-ray, computed tomography\u2013computed tomography (CT), magnetic resonance imaging (MRI) were "
          "performed. The tumour measured 3 \u00d7 2 cm, and the dose was 50 \u00b5g. "
          "Immunohistochemistry showed CD34 and SATA6 positivity.")


@pytest.fixture
def report(tmp_path) -> Path:
    path = tmp_path / "knee.txt"
    path.write_text(REPORT, encoding="utf-8")
    return path


def test_the_dash_family_is_normalised_like_hyphens(report):
    source = evidence.source_text(report)
    assert evidence.quote_found("computed tomography-computed tomography (CT)", source)
    assert evidence.quote_found("computed tomography\u2014computed tomography (CT)", source)


def test_curly_quotes_and_ligatures_fold_to_plain_letters(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("The \ufb01nal \u201cdiagnosis\u201d was the patient\u2019s.", encoding="utf-8")
    assert evidence.quote_found('The final "diagnosis" was the patient\'s.', evidence.source_text(path))


def test_the_mapped_normalisation_is_the_same_text_for_every_seed_report():
    for path in sorted(sources_dir().glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        text, origin = evidence.normalise_mapped(raw)
        assert text == evidence.normalise(raw), path.name
        assert len(origin) == len(text)


def test_an_added_word_shows_the_whole_quote_the_nearest_passage_and_the_first_difference(report):
    quote = "A 60-year-old man was admitted to the hospital due to swelling of the left knee for 2 months."
    assert evidence.explain_missing(quote, report) == (
        f'quote not found in knee.txt: "{quote}"\n'
        '  nearest passage (96% alike): "A 60-year-old man was admitted to hospital due to swelling of the left '
        'knee for 2 months. X-ray, computed"\n'
        '  first difference after "man was admitted to": the quote goes on "the hospital due to swelling o", '
        'the source goes on "hospital due to swelling of th"')


def test_look_alike_characters_are_named(report):
    message = evidence.explain_missing("The tumour measured 3 x 2 cm, and the dose was 50 ug.", report)
    assert message.splitlines()[2:] == [
        '  first difference after "The tumour measured 3": the quote goes on "x 2 cm, and the dose was 50 ug", '
        'the source goes on "× 2 cm, and the dose was 50 μg"',
        '  look-alike characters: the source has MULTIPLICATION SIGN (U+00D7) in "measured 3 × 2 cm, and t"; '
        'the source has MICRO SIGN (U+00B5) in "dose was 50 µg. Immunohis"']


def test_a_quote_unlike_anything_in_the_source_says_so(report):
    assert evidence.explain_missing("Completely unrelated words about the pancreas", report).endswith(
        "  no passage of the source is close to it: check source.text_file, or copy the words from the report")


def test_search_finds_a_passage_as_it_stands_in_the_report(report):
    [passage] = evidence.search("sata6", report, width=60)
    assert "CD34 and SATA6 positivity" in passage


def test_sources_folders_are_searched_in_order(tmp_path, report):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (second / "knee.txt").write_text(REPORT, encoding="utf-8")
    found, why = evidence.find_source("knee.txt", [first, second])
    assert (found, why) == ((second / "knee.txt").resolve(), "")
    (first / "knee.txt").write_text("other words", encoding="utf-8")
    assert evidence.find_source("knee.txt", f"{first}:{second}")[0] == (first / "knee.txt").resolve()
    missing, why = evidence.find_source("none.txt", [first, second])
    assert missing is None and why == f"source text none.txt not found in {first}, {second}; quotes not checked"
    assert evidence.find_source("../knee.txt", [first])[1] == (
        "must name a file inside the sources folder; quotes not checked")


def test_validate_takes_several_sources_folders(tmp_path):
    root = tmp_path / "content"
    text = factories.minimal_case().replace("  year: 2020\n", "  year: 2020\n  text_file: report.txt\n")
    factories.write_content(root, {factories.CASE_ID: text})
    empty, reports = tmp_path / "empty", tmp_path / "reports"
    empty.mkdir()
    reports.mkdir()
    parsed = loader.parse_case(text.encode(), "x.yaml", factories.catalogue_entries(), sources=[empty])
    assert [p.message for p in parsed.problems] == [f"source text report.txt not found in {empty}; quotes not checked"]
    (reports / "report.txt").write_text(
        "Intro: a 50-year-old man presented with a growing mass of the thigh. Then wide excision was performed "
        "and there was no recurrence after two years.", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "quiz", "validate", "--strict", "--sources", str(empty),
                           "--sources", str(reports), str(root)], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("0 errors, 0 warnings")
