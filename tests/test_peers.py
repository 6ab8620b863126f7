"""Peer statistics from first attempts on real vignettes: the minimum n, and no individual's answer readable."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from class_support import BACKENDS, database_url
from quiz.play import engine, exam, peers
from quiz.store import Store

from study_support import T0, best, choices, play, walk, wrong
from learner_support import learner_of


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    return database_url(request.param, tmp_path)


@pytest.fixture
def case(cases):
    return cases[sorted(cases)[0]]


def option(question, n: int) -> str:
    """The n-th option by id (never by position on screen: that is drawn per attempt)."""
    return sorted(o.id for o in question.options)[n % len(question.options)]


def first_stage(store, name: str, case, pick, at):
    learner = learner_of(store, name)
    play(store, learner, case, pick, at, stages=1)
    return learner


def test_nothing_is_shown_below_five_first_attempts(url, case):
    store = Store(url)
    question = case.stages[0].questions[0]
    for i in range(4):
        first_stage(store, f"peer-{i}", case, lambda q: option(q, 0) if q.id == question.id else best(q),
                    T0 + timedelta(minutes=i))
    stats = peers.stats_for_case(store, case)
    assert set(stats) == {q.id for s in case.stages for q in s.questions}
    assert all(s is None for s in stats.values())
    assert peers.library_bands(store, {case.id: case}) == {case.id: None}


def test_five_first_attempts_give_shares_with_n(url, case):
    store = Store(url)
    question = case.stages[0].questions[0]
    picks = [0, 0, 1, 2, 0]
    for i, n in enumerate(picks):
        first_stage(store, f"peer-{i}", case, lambda q, n=n: option(q, n) if q.id == question.id else best(q),
                    T0 + timedelta(minutes=i))
    stats = peers.stats_for_case(store, case)[question.id]
    assert stats.n == 5
    assert set(stats.options) == {o.id for o in question.options}  # every option, chosen or not
    assert {k: v.count for k, v in stats.options.items() if v.count} == dict(Counter(option(question, n) for n in picks))
    assert sum(v.share for v in stats.options.values()) == pytest.approx(1)
    key_count = sum(option(question, n) == question.answer for n in picks)
    assert stats.full_credit == key_count / 5 and stats.band == peers.band(key_count / 5)
    later = case.stages[1].questions[0].id
    assert peers.stats_for_case(store, case)[later] is None  # nobody answered stage 2


def test_only_first_attempts_count(url, case):
    store = Store(url)
    question = case.stages[0].questions[0]
    learners = [first_stage(store, f"peer-{i}", case, wrong, T0 + timedelta(minutes=i)) for i in range(5)]
    before = peers.stats_for_case(store, case)[question.id]
    assert before.full_credit == 0.0
    for learner in learners:  # everyone replays, now knowing the key, in tutor mode and in an exam
        play(store, learner, case, best, T0 + timedelta(days=1))
    state = exam.start(store, {case.id: case}, learners[0], (case.id,), now=T0 + timedelta(days=2))
    exam.commit(store, {case.id: case}, state.exam.id, learners[0], case.id, 0, choices(case.stages[0], best),
                now=T0 + timedelta(days=2))
    after = peers.stats_for_case(store, case)
    assert after[question.id] == before
    # Later stages were first answered in the replays: those are their first attempts.
    later = [after[q.id] for s in case.stages[1:] for q in s.questions]
    assert all(s.n == 5 and s.full_credit == 1.0 for s in later)
    first_stage_questions = len(case.stages[0].questions)
    mean = len(later) / (len(later) + first_stage_questions)
    assert peers.library_bands(store, {case.id: case}) == {case.id: peers.band(mean)}


def test_peer_statistics_reveal_no_individual(url, case):
    """Whatever a viewer sees, no figure rests on fewer than five people, and one more answer changes nothing
    until a new group of five is complete, so comparing two views never isolates one colleague's answer."""
    store = Store(url)
    question = case.stages[0].questions[0]
    seen = []
    for i in range(12):
        pick = (lambda q: option(q, 1) if q.id == question.id else best(q)) if i == 10 else \
            (lambda q, i=i: option(q, i % 2) if q.id == question.id else best(q))
        first_stage(store, f"peer-{i}", case, pick, T0 + timedelta(minutes=i))
        seen.append(peers.stats_for_case(store, case)[question.id])
    assert seen[:4] == [None] * 4
    for stats in seen[4:]:
        assert stats.n >= peers.MIN_N and stats.n % peers.MIN_N == 0
        for share in stats.options.values():  # a count of 1 is shown only inside a group of at least five
            assert share.share == share.count / stats.n
    assert seen[4] == seen[5] == seen[6] == seen[7] == seen[8]  # the 6th-9th learners' answers are not told
    assert seen[9].n == 10 and seen[10] == seen[11] == seen[9]  # nor the 11th's, however distinctive
    assert seen[9] != seen[4]
    # What a page gets names no one: no learner's id, name or answer time, only counts and shares by option.
    names = {f"peer-{i}" for i in range(12)}
    for stats in seen[4:]:
        found = list(walk(stats))
        assert not {field for _path, field, _value in found} & {"learner_id", "answered_at", "name"}
        assert not {value for _path, _field, value in found if isinstance(value, str)} & names


def test_bands(cases):
    assert [peers.band(p) for p in (1.0, 0.7, 0.69, 0.3, 0.29, 0.0)] == \
        ["easier", "easier", "moderate", "moderate", "harder", "harder"]
    case = cases[sorted(cases)[0]]
    q1, q2 = case.stages[0].questions
    first = [peers.FirstAnswer(i, case.id, q.id, q.answer if i < k else wrong(q), 1.0 if i < k else 0.0,
                               T0 + timedelta(minutes=i)) for q, k in ((q1, 5), (q2, 1)) for i in range(5)]
    stats = peers.case_stats(case, first)
    assert stats[q1.id].full_credit == 1.0 and stats[q2.id].full_credit == 0.2
    assert peers.case_band(stats) == "moderate"  # mean 0.6
    assert peers.case_band({}) is None
    assert engine.credit(q1, q1.answer) == 1.0
