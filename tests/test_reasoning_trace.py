"""The reasoning trace carries the learner's pad, certainty and one-liner, and so does the progress CSV (core)."""
from __future__ import annotations

import csv
import io

import pytest

from quiz.play import differential, engine, progress, reasoning_trace
from quiz.store import Store
from learner_support import learner_of

CASE_ID = "right-sided-pain-numbness-weakness"
ONELINER = "63 year old woman, prior leiomyosarcoma and prior fusion, right-sided numbness"


@pytest.fixture
def case(cases):
    return cases[CASE_ID]


def scripted_pads(case, catalogue):
    """Stage 1: two diagnoses, the second leading and flagged must-not-miss; later stages: the expert's top two."""
    others = [e.id for e in catalogue.values() if e.kind == "diagnosis" and e.id != case.reveal.diagnosis_id]
    first = differential.add(differential.add(differential.EMPTY, others[0], catalogue), others[1], catalogue)
    first = differential.flag_must_not_miss(differential.set_leading(first, others[1]), others[1])
    pads = [first]
    for stage in case.stages[1:]:
        pad = differential.EMPTY
        for entry in differential.expert(stage)[:2]:
            pad = differential.add(pad, entry.diagnosis, catalogue)
        pads.append(pad)
    return pads


def scripted_reasoning(case, catalogue):
    pads = scripted_pads(case, catalogue)
    out = {}
    for index, stage in enumerate(case.stages):
        out[index] = {"pad": differential.pad_to_data(pads[index]),
                      "certainty": {q.id: ("low" if index == 0 else "high") for q in stage.questions
                                    if q.kind == "diagnosis"},
                      "problem_representation": ONELINER if index in (0, len(case.stages) - 1) else None}
    return out


def commit_all(case, attempt, upto):
    for index in range(attempt.stage_index, upto):
        attempt = engine.commit(case, attempt, index, {q.id: q.answer for q in case.stages[index].questions})
    return attempt


def strings(value) -> list[str]:
    """Every string inside a trace (dataclasses, tuples), to look for what must not be there."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (tuple, list)):
        return [s for item in value for s in strings(item)]
    if hasattr(value, "__dataclass_fields__"):
        return [s for name in value.__dataclass_fields__ for s in strings(getattr(value, name))]
    return []


def test_the_trace_of_an_unfinished_attempt_holds_only_the_committed_stage_and_no_expert(case, content):
    catalogue = content.catalogue
    reasoning = scripted_reasoning(case, catalogue)
    attempt = commit_all(case, engine.start(case, "seed-1"), 1)
    traces = reasoning_trace.stage_traces(case, attempt, reasoning, catalogue)
    assert [t.stage_number for t in traces] == [1]
    first = traces[0]
    pad = scripted_pads(case, catalogue)[0]
    assert [line.diagnosis for line in first.pad] == list(pad.ids)
    assert [line.rank for line in first.pad] == [1, 2]
    assert first.leading.diagnosis == pad.ids[1] and first.leading.label == catalogue[pad.ids[1]].label
    assert [line.diagnosis for line in first.must_not_miss] == [pad.ids[1]]
    assert first.differential_text == " > ".join(catalogue[d].label for d in pad.ids)
    assert first.certainty_text == "Low"
    assert first.problem_representation == ONELINER
    assert first.differential_score is None  # drawn from the expert's list: only once the case is finished
    assert [r.question_id for r in first.answers] == [q.id for q in case.stages[0].questions]
    # Nothing of the expert's list, the model one-liner or a later stage is in the trace.
    text = "\n".join(strings(traces))
    for stage in case.stages:
        for entry in stage.differential:
            assert entry.reason not in text
        if stage.problem_representation:
            assert stage.problem_representation.summary not in text
    for stage in case.stages[1:]:
        assert stage.heading not in text
        for question in stage.questions:
            assert question.prompt not in text and question.id not in {r.question_id for r in first.answers}
    # An expert-only entry of any stage (not on the pad, not an option asked so far) is not named.
    asked = {o.label for q in case.stages[0].questions for o in q.options} | {o.id for q in case.stages[0].questions
                                                                             for o in q.options}
    for stage in case.stages:
        for entry in stage.differential:
            if entry.diagnosis not in pad.ids and catalogue[entry.diagnosis].label not in asked:
                assert catalogue[entry.diagnosis].label not in text and entry.diagnosis not in text


def test_the_finished_trace_carries_every_stage_with_its_score(case, content):
    catalogue = content.catalogue
    reasoning = scripted_reasoning(case, catalogue)
    pads = scripted_pads(case, catalogue)
    attempt = commit_all(case, engine.start(case, "seed-2"), len(case.stages))
    traces = reasoning_trace.stage_traces(case, attempt, reasoning, catalogue)
    assert [t.stage_number for t in traces] == list(range(1, len(case.stages) + 1))
    for index, trace in enumerate(traces):
        assert tuple(line.diagnosis for line in trace.pad) == pads[index].ids
        assert trace.certainty_text == ("Low" if index == 0 else "High")
        assert trace.differential_score == pytest.approx(differential.compare(case, index, pads[index]).score)
    assert [t.problem_representation for t in traces] == [ONELINER] + [None] * (len(case.stages) - 2) + [ONELINER]
    # Without a named leading entry the top one leads.
    assert traces[1].leading.rank == 1
    rows = reasoning_trace.table(traces)
    assert list(rows[0]) == list(reasoning_trace.TABLE_COLUMNS)
    assert rows[0]["Leading"] == catalogue[pads[0].ids[1]].label
    assert rows[0]["Must not miss"] == catalogue[pads[0].ids[1]].label
    assert rows[0]["Certainty"] == "Low" and rows[0]["Problem representation"] == ONELINER


def test_a_stage_without_reasoning_and_unreadable_data_give_blank_lines(case, content):
    attempt = commit_all(case, engine.start(case, "seed-3"), 2)
    reasoning = {0: {"pad": {"entries": "not a list of entries"}, "certainty": {"x": "very"}},
                 5: {"pad": None, "problem_representation": "not committed"}}
    traces = reasoning_trace.stage_traces(case, attempt, reasoning, content.catalogue)
    assert len(traces) == 2
    for trace in traces:
        assert trace.pad == () and trace.certainty == () and trace.problem_representation is None
    assert reasoning_trace.certainty_words(70) == "70%"


def test_the_progress_csv_carries_the_pad_certainty_and_one_liner(case, content, tmp_path):
    catalogue = content.catalogue
    store = Store(f"sqlite:///{tmp_path / 'trace.sqlite3'}")
    learner = learner_of(store, "Ada")
    record = store.current_attempt(learner, case.id)
    reasoning = scripted_reasoning(case, catalogue)
    attempt = engine.start(case, record.seed)
    for index, stage in enumerate(case.stages):
        attempt = engine.commit(case, attempt, index, {q.id: q.answer for q in stage.questions})
        done = engine.score(case, attempt) if engine.is_finished(case, attempt) else None
        store.record_stage(record.id, index, stage.kind, engine.results(case, attempt, index),
                           finished=(done.earned, done.possible) if done else None, reasoning=reasoning[index])
    frame = progress.with_reasoning(progress.history_frame(store.answer_history(learner), {case.id: case}),
                                    store.reasoning_history(learner), catalogue)
    rows = list(csv.DictReader(io.StringIO(progress.to_csv(frame))))
    header = list(rows[0])
    assert header[-5:] == ["certainty", "differential", "leading", "must_not_miss", "problem_representation"]
    pads = scripted_pads(case, catalogue)
    for row in rows:
        index = int(row["stage_number"]) - 1
        stage = case.stages[index]
        question = next(q for q in stage.questions if q.id == row["question_id"])
        pad = pads[index]
        assert row["differential"] == " > ".join(catalogue[d].label for d in pad.ids)
        assert row["leading"] == catalogue[pad.leading_id].label
        assert row["must_not_miss"] == "; ".join(catalogue[e.diagnosis].label for e in pad.entries if e.must_not_miss)
        assert row["certainty"] == (("low" if index == 0 else "high") if question.kind == "diagnosis" else "")
        assert row["problem_representation"] == (ONELINER if index in (0, len(case.stages) - 1) else "")
    # The trace the reveal shows is built from the same stored reasoning.
    traces = reasoning_trace.stage_traces(case, attempt, store.stage_reasoning(record.id), catalogue)
    assert traces[0].differential_text == rows[0]["differential"]
