"""Loading content: valid cases and located problems, one bad file never hiding the good ones."""
from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

import factories
from quiz.content import loader
from quiz.content.problems import Problem, field_path

CATALOGUE = factories.catalogue_entries()


@pytest.fixture(autouse=True)
def fresh_caches():
    loader._file_cache.clear()
    loader._content_cache.clear()
    yield
    loader._file_cache.clear()
    loader._content_cache.clear()


def parse(text: str, stem: str = factories.CASE_ID, **kwargs) -> loader.Parsed:
    return loader.parse_case(text.encode(), f"{stem}.yaml", CATALOGUE, stem=stem, **kwargs)


def errors(parsed_or_content) -> list[str]:
    return [str(p) for p in parsed_or_content.problems if p.severity == "error"]


def touch_later(path: Path) -> None:
    """Make sure an edit shows in the file's signature even on a coarse clock."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


# --- one file ------------------------------------------------------------------

def test_parse_case_accepts_the_fixture_and_fills_catalogue_labels():
    parsed = parse(factories.dump(factories.case_dict()))
    assert parsed.problems == []
    case = parsed.model
    options = case.stages[0].questions[0].options
    assert [(o.id, o.label) for o in options] == [
        ("soft-tissue-sarcoma", "Soft-tissue sarcoma"), ("lipoma", "Lipoma"),
        ("schwannoma", "Schwannoma"), ("abscess", "Abscess")]
    inline = case.stages[2].questions[1].options[-1]
    assert (inline.id, inline.label) == ("amputation", "Amputation")
    assert parsed.document.position(("stages", 0, "id")) == (22, 7)


def test_parse_case_minimal_vignette_has_no_problems():
    assert parse(factories.minimal_case()).problems == []


def test_parse_case_never_raises_on_junk():
    for raw in (b"\x00\x01", b"[", b"- 1", b"just text", b"{}", b"id: x", b"\xff\xfe"):
        parsed = loader.parse_case(raw, "junk.yaml", CATALOGUE, stem="junk")
        assert parsed.model is None and parsed.problems
        assert all(p.line >= 1 and p.column >= 1 and p.message for p in parsed.problems)


def test_missing_field_is_reported_at_its_parent():
    text = factories.minimal_case().replace("  diagnosis: Primary soft-tissue sarcoma of the thigh\n", "")
    parsed = parse(text)
    assert errors(parsed) == ["thigh-lump.yaml:54:3: reveal.diagnosis: required field is missing"]


def test_all_pydantic_errors_are_reported_each_at_its_line():
    text = (factories.minimal_case()
            .replace("minutes: 10", "minutes: 500")
            .replace("  origin: primary", "  origin: elsewhere")
            .replace("          schwannoma: 0.5", "          schwannoma: 1.5"))
    found = {(p.line, p.field) for p in parse(text).problems}
    assert found == {(13, "minutes"), (10, "tags.origin"), (39, "stages[0].questions[0].acceptable.schwannoma")}


def test_bad_slug_message():
    parsed = parse(factories.minimal_case().replace("  - id: presentation", "  - id: Presentation Stage"))
    [problem] = parsed.problems
    assert (problem.line, problem.field) == (17, "stages[0].id")
    assert "lower-case letters, digits and hyphens" in problem.message


def test_cross_reference_errors():
    text = (factories.minimal_case()
            .replace("        acceptable:\n          schwannoma: 0.5", "        acceptable:\n          schwanoma: 0.5")
            .replace("diagnosis_id: soft-tissue-sarcoma", "diagnosis_id: sarcoma-nos"))
    messages = {(p.line, p.field): p.message for p in parse(text).problems if p.severity == "error"}
    assert messages[(39, "stages[0].questions[0].acceptable.schwanoma")] == (
        "'schwanoma' is not one of the options (soft-tissue-sarcoma, lipoma, schwannoma, abscess); "
        "did you mean 'schwannoma'?")
    assert messages[(55, "reveal.diagnosis_id")].startswith("'sarcoma-nos' is not in the catalogue")


def test_best_answer_cannot_also_earn_partial_credit():
    parsed = parse(factories.minimal_case().replace("          schwannoma: 0.5", "          soft-tissue-sarcoma: 0.5"))
    assert [p.message for p in parsed.problems] == ["the best answer cannot also be a partial-credit answer"]


def test_duplicate_question_and_option_ids():
    text = factories.minimal_case().replace("      - id: first-next-step", "      - id: first-diagnosis")
    text = text.replace("          - id: observation", "          - id: mri")
    found = sorted((p.line, p.message.split(" (")[0]) for p in parse(text).problems if p.severity == "error")
    assert found == [(40, "duplicate question id 'first-diagnosis'"), (50, "duplicate option id 'mri'")]


def test_placeholders_are_errors_at_their_line():
    parsed = parse(factories.minimal_case().replace("heading: Presentation", "heading: TODO heading"))
    assert errors(parsed) == ["thigh-lump.yaml:19:14: stages[0].heading: placeholder not filled in: 'TODO heading'"]


def test_lint_warnings_keep_the_case_playable():
    text = factories.minimal_case().replace(
        "title: A growing lump in the thigh of a 50-year-old man", "title: A soft-tissue sarcoma of the thigh")
    parsed = parse(text)
    assert parsed.model is not None
    [warning] = parsed.problems
    assert (warning.severity, warning.line, warning.field) == ("warning", 3, "title")
    assert "names the diagnosis" in warning.message and ": warning: " in str(warning)


def test_top_level_must_be_a_mapping():
    [problem] = parse("- a\n- b\n").problems
    assert (problem.line, problem.column, problem.field) == (1, 1, "")
    assert problem.message == "the file must be a mapping of fields, not a list"


def test_quotes_are_checked_against_the_source_text(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "report.txt").write_text(
        "Intro: a 50-year-old man presented with a growing mass of the thigh. Then wide excision was performed "
        "and there was no recurrence after two years.", encoding="utf-8")
    text = factories.minimal_case().replace("  year: 2020\n", "  year: 2020\n  text_file: report.txt\n")
    assert parse(text, sources=sources).problems == []
    altered = text.replace("no recurrence after two years", "no relapse after two years")
    [warning] = parse(altered, sources=sources).problems
    assert (warning.severity, warning.line, warning.field) == ("warning", 62, "reveal.outcome[0].evidence[0]")
    assert warning.message == (
        'quote not found in report.txt: "no relapse after two years"\n'
        '  nearest passage (73% alike): "no recurrence after two years."\n'
        '  first difference after "no": the quote goes on "relapse after two years", '
        'the source goes on "recurrence after two years."')
    missing = text.replace("text_file: report.txt", "text_file: other.txt")
    [warning] = parse(missing, sources=sources).problems
    assert (warning.line, warning.field) == (8, "source.text_file") and "not found" in warning.message


def test_parse_bank_checks():
    bank = factories.bank_dict(review=[factories.review_question()])
    bank["catalogue"].append(dict(bank["catalogue"][0]))
    bank["review"][0]["answer"] = "opt-z"
    bank["review"][0]["options"] = bank["review"][0]["options"][:3]
    parsed = loader.parse_bank(factories.dump(bank, schema_line=False).encode(), "questions.yaml")
    assert parsed.model is None
    found = {(p.field, p.severity, p.message.split(" (")[0].split(";")[0]) for p in parsed.problems}
    assert found == {
        ("catalogue[10].id", "error", "duplicate catalogue id 'soft-tissue-sarcoma'"),
        ("review[0].answer", "error", "'opt-z' is not one of the options"),
        ("review[0].options", "warning", "3 options"),
    }


def test_review_section_with_only_comments_reads_as_empty():
    text = factories.dump(factories.bank_dict(), schema_line=False) + "review:\n  # none yet\n"
    parsed = loader.parse_bank(text.encode(), "questions.yaml")
    assert parsed.problems == [] and parsed.model.review == []


# --- a folder ------------------------------------------------------------------

def test_load_content_of_a_valid_folder(tmp_path):
    root = factories.write_content(tmp_path / "content")
    content = loader.load_content(root)
    assert content.problems == [] and content.errors == [] and content.warnings == []
    assert list(content.cases) == [factories.CASE_ID]
    assert content.case_files[factories.CASE_ID] == root / "cases" / f"{factories.CASE_ID}.yaml"
    assert content.files == 2
    assert set(content.catalogue) == {entry["id"] for entry in factories.CATALOGUE}


def test_one_bad_file_does_not_hide_two_good_ones(tmp_path):
    bad = factories.minimal_case("bad-case").replace("minutes: 10", "minutes: ten")
    root = factories.write_content(tmp_path / "content", {
        "good-one": factories.case_dict("good-one"),
        "bad-case": bad,
        "good-two": factories.minimal_case("good-two"),
    })
    content = loader.load_content(root)
    assert sorted(content.cases) == ["good-one", "good-two"]
    assert content.files == 4
    assert [(Path(p.file).name, p.line, p.field) for p in content.problems] == [("bad-case.yaml", 13, "minutes")]
    assert "valid integer" in content.problems[0].message


def test_a_hostile_file_among_good_ones(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefg", "bcdefgh"))
    root = factories.write_content(tmp_path / "content", {
        "good-one": factories.minimal_case("good-one"), "bomb": bomb, "binary": b"\x00\xff\x00"})
    content = loader.load_content(root)
    assert list(content.cases) == ["good-one"]
    assert sorted(Path(p.file).name for p in content.errors) == ["binary.yaml", "bomb.yaml"]


def test_duplicate_case_ids_are_reported_at_the_second_ids_line(tmp_path):
    root = factories.write_content(tmp_path / "content", {"twin": factories.minimal_case("twin")})
    (root / "cases" / "twin.yml").write_text(factories.minimal_case("twin"), encoding="utf-8")
    content = loader.load_content(root)
    assert list(content.cases) == ["twin"]
    [problem] = content.problems
    assert (Path(problem.file).name, problem.line, problem.column, problem.field) == ("twin.yml", 2, 5, "id")
    assert problem.message.startswith("case id 'twin' is also used by") and problem.message.endswith("twin.yaml")


def test_missing_bank_and_missing_cases(tmp_path):
    root = factories.write_content(tmp_path / "content")
    (root / "questions.yaml").unlink()
    content = loader.load_content(root)
    assert content.bank is None and content.cases == {}
    assert "the shared question bank questions.yaml is missing" in content.problems[0].message
    assert any("is not in the catalogue" in p.message for p in content.errors)
    empty = loader.load_content(tmp_path / "nothing-here")
    assert empty.cases == {} and len(empty.problems) == 1


def test_case_paths_subset_and_missing_file(tmp_path):
    root = factories.write_content(tmp_path / "content", {"one": factories.minimal_case("one"),
                                                          "two": factories.minimal_case("two")})
    content = loader.load_content(root, case_paths=[root / "cases" / "two.yaml", root / "cases" / "gone.yaml"])
    assert list(content.cases) == ["two"]
    [problem] = content.problems
    assert problem.message == "file not found" and problem.file.endswith("gone.yaml")


def test_review_links_to_unknown_cases_are_warnings(tmp_path):
    bank = factories.bank_dict(review=[factories.review_question(cases=["good", "broken", "thigh-lumb"])])
    root = factories.write_content(tmp_path / "content", {
        "good": factories.minimal_case("good"),
        "broken": factories.minimal_case("broken").replace("minutes: 10", "minutes: x"),
        "thigh-lump": factories.minimal_case("thigh-lump"),
    }, bank=bank)
    content = loader.load_content(root)
    warnings = [p for p in content.warnings]
    assert len(warnings) == 1  # "broken" exists (its errors are reported on their own)
    assert warnings[0].field == "review[0].cases[2]"
    assert "no case has id 'thigh-lumb' (did you mean 'thigh-lump'?)" in warnings[0].message


# --- caching -----------------------------------------------------------------------

def test_unchanged_folder_comes_from_the_cache(tmp_path, monkeypatch):
    root = factories.write_content(tmp_path / "content", {"one": factories.minimal_case("one"),
                                                          "two": factories.minimal_case("two")})
    first = loader.load_content(root)
    calls = []
    real = loader.parse_case
    monkeypatch.setattr(loader, "parse_case", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    assert loader.load_content(root) is first
    assert loader.load_content(str(root)) is first
    assert calls == []

    path = root / "cases" / "two.yaml"
    path.write_text(factories.minimal_case("two").replace("minutes: 10", "minutes: 20"), encoding="utf-8")
    touch_later(path)
    second = loader.load_content(root)
    assert second is not first and second.cases["two"].minutes == 20
    assert [Path(name).name for name in calls] == ["two.yaml"]  # only the edited file was read again


def test_editing_the_bank_reparses_every_case(tmp_path):
    root = factories.write_content(tmp_path / "content")
    assert loader.load_content(root).cases[factories.CASE_ID].stages[0].questions[0].options[1].label == "Lipoma"
    bank = factories.bank_dict()
    bank["catalogue"][1]["label"] = "Lipoma (benign)"
    (root / "questions.yaml").write_text(factories.dump(bank, schema_line=False), encoding="utf-8")
    touch_later(root / "questions.yaml")
    case = loader.load_content(root).cases[factories.CASE_ID]
    assert case.stages[0].questions[0].options[1].label == "Lipoma (benign)"


def test_added_and_removed_files_are_seen(tmp_path):
    root = factories.write_content(tmp_path / "content")
    assert list(loader.load_content(root).cases) == [factories.CASE_ID]
    (root / "cases" / "second.yaml").write_text(factories.minimal_case("second"), encoding="utf-8")
    assert sorted(loader.load_content(root).cases) == ["second", factories.CASE_ID]
    (root / "cases" / f"{factories.CASE_ID}.yaml").unlink()
    assert list(loader.load_content(root).cases) == ["second"]


@pytest.mark.parametrize("enabled", [True, False])
def test_load_leaves_the_garbage_collector_as_it_found_it(tmp_path, monkeypatch, enabled):
    root = factories.write_content(tmp_path / "content")
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        loader.load_content(root)
        assert gc.isenabled() is enabled
        monkeypatch.setattr(loader, "parse_case", lambda *a, **k: 1 / 0)
        (root / "cases" / "new.yaml").write_text("id: new\n", encoding="utf-8")
        with pytest.raises(ZeroDivisionError):
            loader.load_content(root)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


# --- problems ------------------------------------------------------------------------

def test_problem_format_and_field_paths():
    assert field_path(("stages", 1, "questions", 0, "answer")) == "stages[1].questions[0].answer"
    assert field_path(("acceptable", "x", "[key]")) == "acceptable.x"
    assert str(Problem("a.yaml", 3, 5, "minutes", "too long")) == "a.yaml:3:5: minutes: too long"
    assert str(Problem("a.yaml", 1, 1, "", "file is empty")) == "a.yaml:1:1: file is empty"
    assert str(Problem("a.yaml", 2, 1, "title", "names it", "warning")) == "a.yaml:2:1: title: warning: names it"
    assert sorted([Problem("b", 1, 1, "", "x"), Problem("a", 9, 1, "", "x"), Problem("a", 2, 1, "", "x")])[0].line == 2
