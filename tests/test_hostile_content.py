"""Hostile or broken content files from the security probe (security-probe.md), each attack first.

F1 a list of 99,000 empty stages, F2 near-miss ids by the thousand: bounded problems and hints.
F4 case files linked to files outside the content folder; F6 images and data:/file: links in text;
F9 a broken file keeps its last valid version in service. Timings are in bench/hostile_input.py.
"""
from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest

import factories
from conftest import REPO
from quiz.content import checks, loader, problems

# getattr: the same tests run against the code before the fix, to show that each reproduces its probe
MAX_PROBLEMS = getattr(problems, "MAX_PROBLEMS", 200)
MAX_HINTS = getattr(checks, "MAX_HINTS", 20)
OUTSIDE = getattr(loader, "OUTSIDE", "links to a file outside the content folder; it is not read")
CATALOGUE = factories.catalogue_entries()


@pytest.fixture(autouse=True)
def fresh_caches():
    caches = (loader._file_cache, loader._content_cache, getattr(loader, "_last_valid", {}))
    for cache in caches:
        cache.clear()
    yield
    for cache in caches:
        cache.clear()


def parse(raw: bytes, stem: str = factories.CASE_ID) -> loader.Parsed:
    return loader.parse_case(raw, f"{stem}.yaml", CATALOGUE, stem=stem)


# --- F1, F2: bounded work -------------------------------------------------------------------

def test_f1_a_list_of_99000_empty_stages_is_one_error_not_half_a_million():
    raw = b"stages:\n" + b"- {}\n" * 99_000
    assert len(raw) > 290_000
    parsed = parse(raw)
    assert parsed.model is None
    assert len(parsed.problems) <= MAX_PROBLEMS + 1
    stages = [p for p in parsed.problems if p.field == "stages"]
    assert len(stages) == 1 and "too many items (99,000)" in stages[0].message, stages
    assert (stages[0].line, stages[0].column) == (2, 1)


def test_f1_every_list_of_the_model_has_a_bound():
    """A list without max_length would let a file make one problem per item again."""
    from quiz.content import schema

    def unbounded(node, where):
        if isinstance(node, dict):
            if node.get("type") == "array" and "maxItems" not in node:
                yield where
            if isinstance(node.get("additionalProperties"), dict) and "maxProperties" not in node:
                yield where
            for key, value in node.items():
                yield from unbounded(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from unbounded(value, f"{where}[{i}]")

    import json

    found = [w for name, text in schema.render().items() for w in unbounded(json.loads(text), name)]
    assert found == []


def test_problems_past_the_limit_are_counted_in_one_closing_line():
    data = factories.case_dict()
    stage = data["stages"][0]
    stage["findings"] = [{"text": "A finding.", "evidence": ["x"] * 20} for _ in range(20)]  # 400 too-short quotes
    parsed = parse(factories.dump(data).encode())
    assert len(parsed.problems) == MAX_PROBLEMS + 1
    last = parsed.problems[-1]
    assert last.severity == "error" and "and 200 more problems in this file, not listed" in last.message, last


def test_f2_near_miss_option_ids_get_at_most_twenty_hints():
    data = factories.case_dict()
    template = data["stages"][0]["questions"][0]
    near = ["soft-tissue-sarcomx", "lipomx", "schwannomx", "abscesx"]
    questions = []
    for i in range(10):
        question = copy.deepcopy(template)
        question.update(id=f"q{i}", options=[{"id": o, "explanation": "Why."} for o in near], answer=near[0])
        question.pop("acceptable", None)
        questions.append(question)
    for stage in data["stages"]:
        stage["questions"] = copy.deepcopy(questions)
    for s, stage in enumerate(data["stages"]):
        for q in stage["questions"]:
            q["id"] = f"s{s}-{q['id']}"
    parsed = parse(factories.dump(data).encode())
    unknown = [p for p in parsed.problems if "is not in the catalogue" in p.message]
    assert len(unknown) == 3 * 10 * 4  # every one reported ...
    hinted = [p for p in parsed.problems if "did you mean" in p.message]
    assert 0 < len(hinted) <= MAX_HINTS  # ... but only the first twenty with a hint
    assert "did you mean 'soft-tissue-sarcoma'?" in unknown[0].message


def test_f2_unknown_fields_by_the_thousand_are_capped_and_hinted_twenty_times():
    raw = ("id: thigh-lump\n" + "".join(f"titl{i}: x\n" for i in range(3000))).encode()
    parsed = parse(raw)
    assert len(parsed.problems) == MAX_PROBLEMS + 1
    assert sum("did you mean" in p.message for p in parsed.problems) <= MAX_HINTS
    assert "more problems in this file" in parsed.problems[-1].message


def test_a_real_vignette_is_far_inside_every_bound(content):
    assert content.cases and not content.errors


# --- F4: files outside the content folder ------------------------------------------------

def test_f4_a_case_file_linked_to_an_outside_file_is_not_read(tmp_path):
    root = factories.write_content(tmp_path / "content")
    secret = tmp_path / "secret.yaml"
    secret.write_text("id: SECRET-VALUE-1234-from-outside-file\n", encoding="utf-8")
    (root / "cases" / "linked.yaml").symlink_to(secret)
    (root / "cases" / "environ.yaml").symlink_to("/proc/self/environ")
    content = loader.load_content(root)
    assert factories.CASE_ID in content.cases  # the real case still loads
    shown = "\n".join(str(p) for p in content.problems)
    assert "SECRET-VALUE" not in shown
    linked = [p for p in content.problems if p.file.endswith(("linked.yaml", "environ.yaml"))]
    assert len(linked) == 2 and all(p.message == OUTSIDE for p in linked), linked


def test_f4_a_question_bank_linked_outside_is_not_read(tmp_path):
    root = factories.write_content(tmp_path / "content")
    outside = tmp_path / "elsewhere.yaml"
    (root / "questions.yaml").rename(outside)
    (root / "questions.yaml").symlink_to(outside)
    content = loader.load_content(root)
    assert content.bank is None
    assert any(p.file.endswith("questions.yaml") and p.message == OUTSIDE for p in content.problems)


def test_f4_a_link_inside_the_content_folder_still_works(tmp_path):
    root = factories.write_content(tmp_path / "content")
    (root / "drafts").mkdir()
    real = root / "cases" / f"{factories.CASE_ID}.yaml"
    real.rename(root / "drafts" / real.name)
    real.symlink_to(root / "drafts" / real.name)
    assert factories.CASE_ID in loader.load_content(root).cases


# --- F6: images and dangerous links in text ----------------------------------------------

@pytest.mark.parametrize("text", [
    "A lump ![scan](http://attacker.example/pixel.png) in the thigh.",
    "A lump ![svg](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=).",
    "A lump ![scan][fig]\n\n[fig]: https://attacker.example/x.png",
    "See [the report](data:text/html,<script>alert(1)</script>).",
    "See [the report](file:///etc/passwd).",
    "See <file:///etc/passwd>.",
    "See [the report](DATA&#58;text/html,x).",
    "See [the report][r].\n\n[r]: javascript:alert(1)",
])
def test_f6_images_and_data_or_file_links_in_text_are_errors(text):
    data = factories.case_dict()
    data["stages"][0]["findings"][0]["text"] = text
    parsed = parse(factories.dump(data).encode())
    assert parsed.model is None
    [problem] = [p for p in parsed.problems if p.field == "stages[0].findings[0].text"]
    assert problem.severity == "error"
    assert "image" in problem.message or "link to a" in problem.message


def test_f6_ordinary_links_and_a_web_source_url_are_fine():
    data = factories.case_dict()
    data["stages"][0]["findings"][0]["text"] += " See [the guideline](https://example.org/sarcoma) and <https://doi.org/10.1/x>."
    data["source"]["url"] = "https://example.org/report"
    assert parse(factories.dump(data).encode()).model is not None
    data["source"]["url"] = "data:text/html,<b>x</b>"
    parsed = parse(factories.dump(data).encode())
    assert [p.field for p in parsed.problems if p.severity == "error"] == ["source.url"]


def test_f6_the_question_bank_is_checked_too(tmp_path):
    bank = factories.bank_dict(review=[factories.review_question()])
    bank["review"][0]["prompt"] = "Which lump? ![x](http://attacker.example/x.png)"
    root = factories.write_content(tmp_path / "content", bank=bank)
    content = loader.load_content(root)
    assert content.bank is None
    assert any(p.field == "review[0].prompt" and "image" in p.message for p in content.errors)


# --- F9: the last valid version stays in service -----------------------------------------

def touch_later(path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_f9_a_broken_case_file_keeps_its_last_valid_version(tmp_path):
    root = factories.write_content(tmp_path / "content")
    first = loader.load_content(root)
    case = first.cases[factories.CASE_ID]
    path = root / "cases" / f"{factories.CASE_ID}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("answer: mri", "answer: mri-typo", 1), encoding="utf-8")
    touch_later(path)
    content = loader.load_content(root)
    assert content.cases[factories.CASE_ID] == case  # still playable, as it was
    assert any("'mri-typo' is not one of the options" in p.message for p in content.errors)  # and reported
    assert loader.display_name(path) in content.stale
    path.write_text(factories.dump(dict(factories.case_dict(), title="A growing lump in the leg")), encoding="utf-8")
    touch_later(path)
    fixed = loader.load_content(root)
    assert not fixed.errors and not fixed.stale and fixed.cases[factories.CASE_ID].title == "A growing lump in the leg"


def test_f9_a_broken_question_bank_keeps_every_case_playable(tmp_path):
    root = factories.write_content(tmp_path / "content")
    assert factories.CASE_ID in loader.load_content(root).cases
    bank = root / "questions.yaml"
    bank.write_text(bank.read_text(encoding="utf-8").replace("catalogue:", "catalog:", 1), encoding="utf-8")
    touch_later(bank)
    content = loader.load_content(root)
    assert factories.CASE_ID in content.cases and content.bank is not None
    assert any(p.file.endswith("questions.yaml") for p in content.errors)
    assert loader.display_name(bank) in content.stale
    # an edit to a case while the bank is broken is checked against the bank in service
    case_path = root / "cases" / f"{factories.CASE_ID}.yaml"
    case_path.write_text(factories.dump(dict(factories.case_dict(), title="A growing lump in the calf")), encoding="utf-8")
    touch_later(case_path)
    assert loader.load_content(root).cases[factories.CASE_ID].title == "A growing lump in the calf"


def test_f9_the_command_line_reports_a_broken_file_as_it_is(tmp_path):
    root = factories.write_content(tmp_path / "content")
    path = root / "cases" / f"{factories.CASE_ID}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("answer: mri", "answer: mri-typo", 1), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "quiz", "validate", str(root)], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1 and "0 valid cases" in result.stdout
