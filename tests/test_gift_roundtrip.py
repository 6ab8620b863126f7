"""The GIFT export read back by an independent parser (gift-pegjs, run by Node): every question,
option, weight and feedback survives, and each case question carries the findings up to its stage
and nothing of a later one."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from quiz.content import export

PARSER = Path(__file__).resolve().parent / "gift" / "parse.js"


def parsed_by_gift_pegjs(text: str, tmp_path: Path) -> list[dict]:
    node = shutil.which("node")
    if node is None or not (PARSER.parent / "node_modules" / "gift-pegjs").is_dir():
        pytest.fail("Node and tests/gift/node_modules are needed: scripts/test.sh installs them (npm ci --prefix tests/gift)")
    path = tmp_path / "export.gift"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([node, str(PARSER), str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [q for q in json.loads(done.stdout) if q["type"] != "Category"]


def test_every_question_option_weight_and_feedback_round_trips(content, tmp_path):
    expected = list(export.questions(content))
    parsed = parsed_by_gift_pegjs(export.to_gift(content), tmp_path)
    assert [q["title"] for q in parsed] == [q.name for q in expected]
    for question, read in zip(expected, parsed):
        assert read["type"] == "MC", question.name
        assert read["stem"]["format"] == "markdown"
        assert read["stem"]["text"].endswith(question.prompt), question.name
        assert (read.get("globalFeedback") or {}).get("text") == question.teaching_note, question.name
        assert [c["text"]["text"] for c in read["choices"]] == [o.label for o in question.options], question.name
        assert [(c.get("feedback") or {}).get("text") for c in read["choices"]] == [o.explanation for o in question.options]
        for choice, option in zip(read["choices"], question.options):
            assert choice["isCorrect"] == option.best, (question.name, option.id)
            weight = None if option.best or option.credit == 0 else option.credit * 100
            assert choice["weight"] == pytest.approx(weight) if weight else choice["weight"] is None


def test_a_case_question_holds_the_findings_up_to_its_stage_and_no_later_one(content, tmp_path):
    parsed = {q["title"]: q["stem"]["text"] for q in parsed_by_gift_pegjs(export.to_gift(content), tmp_path)}
    for case in content.cases.values():
        for number, stage in enumerate(case.stages, start=1):
            earlier = {f.text for s in case.stages[:number] for f in s.findings}
            later = [f.text for s in case.stages[number:] for f in s.findings if f.text not in earlier]
            for question in stage.questions:
                stem = parsed[f"{case.id}/{question.id}"]
                for shown in case.stages[:number]:
                    assert f"**Stage {case.stages.index(shown) + 1} of {len(case.stages)}: {shown.heading}**" in stem
                    for finding in shown.findings:
                        assert finding.text in stem, (case.id, question.id)
                for text in later:
                    assert text not in stem, (case.id, question.id, text[:60])
                assert stem.count("**Stage ") == number
