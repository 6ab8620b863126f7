"""Security-probe findings F13 and F14: what the Review page and My progress give away before play.

Both reproduce the probe on the shipped content first (what a learner with no finished case would
see), then check that the core hides it.
"""
from __future__ import annotations

from datetime import datetime, timezone

from quiz.play import engine, progress



def test_f13_review_questions_naming_diagnoses_stay_locked_until_their_cases_are_finished(content, cases):
    bank = content.bank.review
    naming = [q for q in bank if "leiomyosarcoma" in (q.prompt + " ".join(o.label for o in q.options)).lower()]
    assert naming, "the probe: review questions do name the diagnosis (else this test proves nothing)"
    assert progress.unlocked_review(bank, finished_case_ids=()) == []
    one = sorted(cases)[0]
    opened = progress.unlocked_review(bank, finished_case_ids={one})
    assert all(set(q.cases) <= {one} for q in opened)
    assert progress.unlocked_review(bank, finished_case_ids=set(cases)) == list(bank)


def test_f14_the_origin_of_an_unfinished_case_is_not_an_area_on_my_progress(cases):
    case = next(c for c in cases.values() if c.tags.origin)
    first = case.stages[0]
    rows = [{"case_id": case.id, "attempt_id": 1, "stage_index": 0, "stage_kind": first.kind,
             "question_id": q.id, "question_kind": q.kind, "option_id": q.answer, "best_id": q.answer,
             "credit": engine.credit(q, q.answer), "answered_at": datetime(2026, 1, 1, tzinfo=timezone.utc)}
            for q in first.questions]
    frame = progress.history_frame(rows, cases)
    assert case.tags.origin in set(frame["origin"]), "the probe: the answers carry the case's origin"
    shown = set(progress.accuracy_by_tag(frame, finished=())["tag"])
    assert case.tags.origin not in shown and set(case.tags.region) <= shown
    assert case.tags.origin in set(progress.accuracy_by_tag(frame, finished={case.id})["tag"])
