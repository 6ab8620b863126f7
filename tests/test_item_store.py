"""What item analysis reads from a database filled by the real player and classroom code, and cohorts."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

import factories
from class_support import BACKENDS, database_url
from item_support import play_self_study, run_class
from quiz import item_store
from quiz import store as store_module
from quiz.item_store import CLASS, SELF_STUDY, CohortError
from quiz.play import item_analysis as ia
from learner_support import learner_of

CASE = factories.load_case()
OTHER = factories.load_case(factories.case_dict("other-lump", stages=1))


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    url = database_url(request.param, tmp_path)  # every table starts empty
    yield store_module.Store(url)
    store_module.forget_stores()


def test_self_study_counts_each_learners_first_attempt_only(store):
    first = play_self_study(store, CASE, "Ann", {"s1-diagnosis": "lipoma"})
    play_self_study(store, CASE, "Ann", {})  # a replay after reading the explanations: not counted
    play_self_study(store, CASE, "Bob", {"s1-diagnosis": "schwannoma"}, stages=1)  # stopped after stage 1
    play_self_study(store, CASE, "Bob", {})
    play_self_study(store, OTHER, "Cy", {})  # another case
    rows = item_store.self_study_choices(store, CASE.id)
    questions = [q.id for stage in CASE.stages for q in stage.questions]
    by_who: dict[str, dict[str, str]] = {}
    for row in rows:
        assert row.source == SELF_STUDY and row.session_id is None and row.certainty is None
        by_who.setdefault(row.respondent, {})[row.question] = row.option
    assert len(by_who) == 2 and not any("Ann" in who or "Bob" in who for who in by_who)
    ann, bob = (by_who[w] for w in sorted(by_who, key=lambda w: int(w.split("-")[1])))
    assert list(ann) == questions and ann["s1-diagnosis"] == "lipoma"
    assert list(bob) == ["s1-diagnosis", "s1-next-step"] and bob["s1-diagnosis"] == "schwannoma"
    assert store.committed_choices(first)[0]["s1-diagnosis"] == "lipoma"
    # Through the core: Ann 5 of 6 right, Bob stage 1 only with 0.5 + 1.
    report = ia.analyse(ia.grade(CASE, (r.row() for r in rows)), ia.items_of(CASE), min_n=1)
    s1 = report.items[0]
    assert (s1.n, s1.difficulty, s1.mean_credit) == (2, 0.0, 0.25)
    assert report.items[-1].n == 1 and (report.respondents, report.complete) == (2, 1)


def test_class_answers_of_the_case_by_session_without_nicknames(store):
    one = run_class(store, CASE, {"ann": {"s1-diagnosis": "lipoma", "s1-next-step": "mri"},
                                  "bob": {"s1-diagnosis": "soft-tissue-sarcoma"}})
    two = run_class(store, CASE, {"cy": {"s1-diagnosis": "abscess", "s1-next-step": "observation"}})
    run_class(store, OTHER, {"dee": {"s1-diagnosis": "lipoma"}})
    rows = item_store.class_choices(store, CASE.id)
    assert {r.session_id for r in rows} == {one.session_id, two.session_id}
    assert all(r.source == CLASS and r.respondent.startswith("student-") for r in rows)
    assert sorted((r.question, r.option) for r in rows if r.session_id == two.session_id) == [
        ("s1-diagnosis", "abscess"), ("s1-next-step", "observation")]
    only_one = item_store.class_choices(store, CASE.id, [one.session_id])
    assert len(only_one) == 3 and {r.session_id for r in only_one} == {one.session_id}
    assert len({r.respondent for r in only_one}) == 2
    listed = item_store.sessions(store, CASE.id)
    assert [s.id for s in listed] == [two.session_id, one.session_id]  # newest first
    assert [s.students for s in listed] == [1, 2]
    assert len(item_store.sessions(store)) == 3


def test_cohorts_group_sessions(store):
    one = run_class(store, CASE, {"ann": {"s1-diagnosis": "lipoma"}})
    two = run_class(store, OTHER, {"bob": {"s1-diagnosis": "lipoma"}})
    cohort = item_store.create_cohort(store, "  PGY-2   2025 ")
    assert cohort.name == "PGY-2 2025" and cohort.session_ids == ()
    with pytest.raises(CohortError, match="already a cohort called 'PGY-2 2025'"):
        item_store.create_cohort(store, "pgy-2 2025")
    with pytest.raises(CohortError, match="Give the cohort a name"):
        item_store.create_cohort(store, "   ")
    with pytest.raises(CohortError, match="at most 80"):
        item_store.create_cohort(store, "x" * 81)
    spring = item_store.create_cohort(store, "Spring rotation")
    item_store.set_cohort_sessions(store, cohort.id, [two.session_id, one.session_id, one.session_id])
    item_store.set_cohort_sessions(store, spring.id, [one.session_id])
    assert [(c.name, c.session_ids) for c in item_store.list_cohorts(store)] == [
        ("PGY-2 2025", tuple(sorted([one.session_id, two.session_id]))), ("Spring rotation", (one.session_id,))]
    assert {s.id: set(s.cohort_ids) for s in item_store.sessions(store)} == {
        one.session_id: {cohort.id, spring.id}, two.session_id: {cohort.id}}
    with pytest.raises(CohortError, match="No class session has the id 999"):
        item_store.set_cohort_sessions(store, cohort.id, [one.session_id, 999])
    assert item_store.list_cohorts(store)[0].session_ids == tuple(sorted([one.session_id, two.session_id]))  # unchanged
    item_store.set_cohort_sessions(store, cohort.id, [])
    item_store.delete_cohort(store, spring.id)
    assert [(c.name, c.session_ids) for c in item_store.list_cohorts(store)] == [("PGY-2 2025", ())]
    with pytest.raises(CohortError, match="no longer exists"):
        item_store.set_cohort_sessions(store, spring.id, [one.session_id])
    assert len(item_store.class_choices(store, CASE.id)) == 1  # answers stay


def test_a_database_made_before_cohorts_gets_their_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    old = [t for t in store_module.metadata.sorted_tables if t.name not in ("cohorts", "cohort_sessions")]
    store_module.metadata.create_all(engine, tables=old)
    assert "cohorts" not in sa.inspect(engine).get_table_names()
    engine.dispose()
    store_module.forget_stores()
    store = store_module.Store(url)
    assert {"cohorts", "cohort_sessions"} <= set(sa.inspect(store.engine).get_table_names())
    assert item_store.create_cohort(store, "Late adopters").name == "Late adopters"
    store_module.forget_stores()


def test_a_first_attempt_in_an_exam_counts_once_the_exam_has_ended(store):
    from quiz.play import exam

    cases = {CASE.id: CASE}
    learner = learner_of(store, "Eve")
    state = exam.start(store, cases, learner, [CASE.id])
    exam.commit(store, cases, state.exam.id, learner, CASE.id, 0,
                {"s1-diagnosis": "lipoma", "s1-next-step": "mri"})
    play_self_study(store, CASE, "Eve", {})  # tutor mode meanwhile: a later attempt, never counted
    assert item_store.self_study_choices(store, CASE.id) == []  # the exam is open: nothing of it shows
    exam.finish(store, cases, state.exam.id, learner)
    rows = item_store.self_study_choices(store, CASE.id)
    assert sorted((r.question, r.option) for r in rows) == [("s1-diagnosis", "lipoma"), ("s1-next-step", "mri")]
