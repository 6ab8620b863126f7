"""Spaced review: cards from real answers, due dates as fsrs itself computes them, and items leaving the missed list."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from fsrs import Card, Rating, Scheduler, State

from class_support import BACKENDS, database_url
from quiz.play import engine, exam, schedule
from quiz.store import Store

from study_support import T0, best, choices, play, wrong
from learner_support import learner_of


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    return database_url(request.param, tmp_path)


def fsrs_chain(*steps):
    """What fsrs itself makes of a new card reviewed with (rating, time) steps, with the app's settings."""
    scheduler = Scheduler(enable_fuzzing=False)
    card = Card(due=steps[0][1])
    for rating, at in steps:
        card, _log = scheduler.review_card(card, rating, at)
    return card


@pytest.mark.parametrize("credit, certainty, expected", [
    (0.0, None, Rating.Again), (0.0, "high", Rating.Again), (0.5, "high", Rating.Again),  # partial credit is a miss
    (1.0, "low", Rating.Hard), (1.0, 10, Rating.Hard), (1.0, "moderate", Rating.Good), (1.0, 50, Rating.Good),
    (1.0, None, Rating.Good), (1.0, "high", Rating.Easy), (1.0, 90, Rating.Easy), (1.0, "Medium", Rating.Good),
    # A number falls in the level whose value it is nearest (calibration.level): 0-49 low, 50-83 moderate, 84-100 high.
    (1.0, 0, Rating.Hard), (1.0, 49, Rating.Hard), (1.0, 49.9, Rating.Hard), (1.0, 83, Rating.Good),
    (1.0, 84, Rating.Easy), (1.0, 100, Rating.Easy),
])
def test_rating_from_answer_and_certainty(credit, certainty, expected):
    assert schedule.rating(credit, certainty) == expected


def test_a_bad_certainty_is_refused_with_its_value():
    with pytest.raises(ValueError, match="'sure'"):
        schedule.rating(1.0, "sure")
    with pytest.raises(ValueError, match="outside 0-100"):
        schedule.rating(1.0, 140)


def test_which_first_answers_start_a_card():
    assert schedule.needs_card(0.0) and schedule.needs_card(0.5, "high") and schedule.needs_card(1.0, "low")
    assert schedule.needs_card(1.0, 40) and not schedule.needs_card(1.0, 50) and not schedule.needs_card(1.0, 70)
    assert not schedule.needs_card(1.0) and not schedule.needs_card(1.0, "moderate")
    at = T0
    cards, applied = schedule.cards_from_outcomes([
        schedule.Outcome("c", "right-sure", 1.0, "high", at), schedule.Outcome("c", "right-unsure", 1.0, "low", at),
        schedule.Outcome("c", "missed", 0.0, None, at)])
    assert set(cards) == {"case:c:right-unsure", "case:c:missed"} and len(applied) == 2
    assert cards["case:c:right-unsure"].stability == fsrs_chain((Rating.Hard, at)).stability


def test_due_dates_of_a_missed_case_question_are_fsrs_own(url, cases):
    store = Store(url)
    learner = learner_of(store, "spacer")
    case = cases[sorted(cases)[0]]
    play(store, learner, case, lambda q: wrong(q) if q.id == case.stages[0].questions[0].id else best(q), T0)
    schedule.sync(store, learner, now=T0)
    [item] = schedule.items(store, learner)
    question_id = case.stages[0].questions[0].id
    assert (item.case_id, item.question_id, item.item) == (case.id, question_id, f"case:{case.id}:{question_id}")
    expected = fsrs_chain((Rating.Again, T0))
    assert item.due == expected.due == T0 + timedelta(minutes=1)  # fsrs's first learning step
    assert item.card.stability == expected.stability and item.card.state == State.Learning

    # Reviews on the Review page: right and sure ten minutes later, then right with moderate certainty a day later.
    t1 = T0 + timedelta(minutes=10)
    after = schedule.record_review(store, learner, case.id, question_id, 1.0, "high", now=t1)
    expected = fsrs_chain((Rating.Again, T0), (Rating.Easy, t1))
    assert after.due == expected.due and after.card.stability == expected.stability
    assert after.due > t1 + timedelta(hours=12)  # Easy graduates it: due on a later day
    t2 = after.due
    after = schedule.record_review(store, learner, case.id, question_id, 1.0, "moderate", now=t2)
    expected = fsrs_chain((Rating.Again, T0), (Rating.Easy, t1), (Rating.Good, t2))
    assert after.due == expected.due and after.card.difficulty == expected.difficulty

    # Due today, in the learner's day: nothing now; the next due date is fsrs's.
    [stored] = schedule.items(store, learner)
    assert stored.due == expected.due
    assert schedule.due_today([stored], t2) == [] and schedule.due_now([stored], expected.due) == [stored]
    log = schedule.review_log(store, learner)
    assert [(r["rating"], r["source"]) for r in log] == [(1, "case"), (4, "review"), (3, "review")]


def test_due_today_follows_the_learners_day(cases):
    card = fsrs_chain((Rating.Again, T0), (Rating.Good, T0 + timedelta(minutes=1)),
                      (Rating.Good, T0 + timedelta(minutes=11)))  # due one day later, 09:11 UTC
    item = schedule.ReviewItem("case:c:q", "c", "q", card)
    evening = T0 + timedelta(hours=14)  # 23:00 UTC: the card is due tomorrow
    assert schedule.due_today([item], evening) == []
    assert schedule.due_today([item], evening, timezone(timedelta(hours=12))) == [item]  # already tomorrow there


def test_a_correct_retry_moves_an_item_on_and_it_leaves_the_missed_list_when_learned(url, cases):
    """Review B6: a correct retry used to leave the item listed for ever."""
    store = Store(url)
    learner = learner_of(store, "retrier")
    case = cases[sorted(cases)[1]]
    question = case.stages[1].questions[0]
    play(store, learner, case, lambda q: wrong(q) if q.id == question.id else best(q), T0)
    schedule.sync(store, learner, now=T0)
    assert [i.question_id for i in schedule.missed(schedule.items(store, learner))] == [question.id]

    steps, now = [(Rating.Again, T0)], T0 + timedelta(minutes=1)
    for _ in range(10):
        item = schedule.record_review(store, learner, case.id, question.id, 1.0, "moderate", now=now)
        steps.append((Rating.Good, now))
        expected = fsrs_chain(*steps)
        assert item.due == expected.due
        assert item.due > now  # it moved on
        learned = expected.state == State.Review and expected.stability >= schedule.LEARNED_STABILITY_DAYS
        assert item.learned == learned
        listed = schedule.missed(schedule.items(store, learner))
        assert (listed == []) == learned
        if learned:
            break
        now = item.due
    else:
        pytest.fail("ten right answers at their due dates never made the item learned")
    assert len(steps) > 2  # one correct retry is not enough to call it learned

    # Missing it again brings it back, due at once.
    back = schedule.record_review(store, learner, case.id, question.id, 0.0, now=now + timedelta(days=30))
    assert not back.learned and schedule.missed(schedule.items(store, learner))[0].item == back.item


def test_each_answer_counts_once_and_old_right_answers_never_later(url, cases):
    store = Store(url)
    learner = learner_of(store, "once")
    case = cases[sorted(cases)[2]]
    play(store, learner, case, best, T0)  # all right, no card
    schedule.sync(store, learner, now=T0)
    assert schedule.items(store, learner) == []
    play(store, learner, case, wrong, T0 + timedelta(days=1))
    schedule.sync(store, learner, now=T0 + timedelta(days=1))
    schedule.sync(store, learner, now=T0 + timedelta(days=1))
    cards = schedule.items(store, learner)
    assert len(cards) == sum(len(s.questions) for s in case.stages)
    expected = fsrs_chain((Rating.Again, T0 + timedelta(days=1)))
    assert all(c.due == expected.due and c.card.stability == expected.stability for c in cards)
    assert len(schedule.review_log(store, learner)) == len(cards)  # the right answers of day 0 never counted


def test_exam_answers_count_when_the_exam_ends(url, cases):
    store = Store(url)
    learner = learner_of(store, "examined")
    case = cases[sorted(cases)[0]]
    state = exam.start(store, cases, learner, (case.id,), time_limit=timedelta(hours=1), now=T0)
    exam.commit(store, cases, state.exam.id, learner, case.id, 0, choices(case.stages[0], wrong),
                now=T0 + timedelta(minutes=2))
    schedule.sync(store, learner, now=T0 + timedelta(minutes=3))
    assert schedule.items(store, learner) == []  # a missed card now would tell the result
    exam.finish(store, cases, state.exam.id, learner, now=T0 + timedelta(minutes=20))
    schedule.sync(store, learner, now=T0 + timedelta(minutes=21))
    items = schedule.items(store, learner)
    assert {i.question_id for i in items} == {q.id for q in case.stages[0].questions}
    expected = fsrs_chain((Rating.Again, T0 + timedelta(minutes=20)))  # scheduled from when the result was shown
    assert all(i.due == expected.due for i in items)
    assert {r["source"] for r in schedule.review_log(store, learner)} == {"exam"}


def test_review_bank_questions_are_items_too(url, content):
    store = Store(url)
    learner = learner_of(store, "quick")
    question = content.bank.review[0]
    assert schedule.record_review(store, learner, None, question.id, 1.0, "high", now=T0) is None  # known: no card
    item = schedule.record_review(store, learner, None, question.id, 1.0, "low", now=T0 + timedelta(minutes=1))
    assert item.item == f"bank:{question.id}" and item.case_id is None
    assert item.card.stability == fsrs_chain((Rating.Hard, T0 + timedelta(minutes=1))).stability


def test_reset_forgets_cards_and_exams(url, cases):
    store = Store(url)
    learner = learner_of(store, "forgetful")
    case = cases[sorted(cases)[0]]
    play(store, learner, case, wrong, T0)
    exam.start(store, cases, learner, (case.id,), now=T0)
    schedule.sync(store, learner, now=T0)
    assert schedule.items(store, learner)
    store.reset_learner(learner)
    assert schedule.items(store, learner) == [] and schedule.review_log(store, learner) == []
    assert exam.exams_of(store, learner) == []


def test_a_review_shows_the_findings_up_to_the_questions_stage_and_no_later(cases):
    for case in cases.values():
        for index, stage in enumerate(case.stages):
            for question in stage.questions:
                context = schedule.findings_until(case, question.id)
                assert [c.number for c in context] == list(range(1, index + 2))
                shown = {f.text for c in context for f in c.findings}
                assert shown == {f.text for s in case.stages[:index + 1] for f in s.findings}
                assert not hasattr(context[-1], "questions")  # findings only: no key, no later question
    with pytest.raises(engine.EngineError, match="no question 'gone'"):
        schedule.findings_until(next(iter(cases.values())), "gone")


def test_the_certainty_stated_at_the_stage_rates_its_answer(url, cases):
    """The certainty a learner commits with a stage (stored with the stage's reasoning) is the card's rating."""
    store = Store(url)
    learner = learner_of(store, "unsure")
    case = next(c for c in (cases[k] for k in sorted(cases))
                if sum(q.kind == "diagnosis" for s in c.stages for q in s.questions) >= 1
                and sum(len(s.questions) for s in c.stages) >= 3)
    questions = [q for s in case.stages for q in s.questions]
    diagnosis = next(q for q in questions if q.kind == "diagnosis")
    others = [q for q in questions if q.id != diagnosis.id]
    sure, missed = others[0], others[1]
    stated = {diagnosis.id: "low", sure.id: "high", missed.id: "high"}
    play(store, learner, case, lambda q: wrong(q) if q.id == missed.id else best(q), T0,
         certainty=lambda q: stated.get(q.id))
    schedule.sync(store, learner, now=T0)
    cards = {i.question_id: i for i in schedule.items(store, learner)}
    # Right but unsure: a card, rated Hard. Right and sure: none. Missed, however sure: Again.
    assert set(cards) == {diagnosis.id, missed.id}
    assert cards[diagnosis.id].card.stability == fsrs_chain((Rating.Hard, T0)).stability
    assert cards[missed.id].card.stability == fsrs_chain((Rating.Again, T0)).stability
    log = {r["item"]: r for r in schedule.review_log(store, learner)}
    assert (log[f"case:{case.id}:{diagnosis.id}"]["rating"], log[f"case:{case.id}:{diagnosis.id}"]["certainty"]) == (
        int(Rating.Hard), "low")
    assert (log[f"case:{case.id}:{missed.id}"]["rating"], log[f"case:{case.id}:{missed.id}"]["certainty"]) == (
        int(Rating.Again), "high")


def test_a_numeric_certainty_stated_at_the_stage_uses_the_calibration_bands(url, cases):
    store = Store(url)
    case = cases[sorted(cases)[0]]
    first = case.stages[0].questions[0]
    for name, number, card in (("forty-nine", 49, True), ("fifty", 50, False)):
        learner = learner_of(store, name)
        play(store, learner, case, best, T0, certainty=lambda q: number if q.id == first.id else None)
        schedule.sync(store, learner, now=T0)
        assert any(i.question_id == first.id for i in schedule.items(store, learner)) is card, name


def test_the_certainty_committed_in_an_exam_rates_its_answers_when_the_exam_ends(url, cases):
    store = Store(url)
    learner = learner_of(store, "unsure examinee")
    case, index = next((cases[k], i) for k in sorted(cases) for i, s in enumerate(cases[k].stages)
                       if any(q.kind == "diagnosis" for q in s.questions))
    stage = case.stages[index]
    diagnosis = next(q for q in stage.questions if q.kind == "diagnosis")
    state = exam.start(store, cases, learner, (case.id,), time_limit=None, now=T0)
    for i, s in enumerate(case.stages[:index + 1]):
        exam.commit(store, cases, state.exam.id, learner, case.id, i, choices(s, best),
                    certainty={diagnosis.id: "low"} if i == index else None, now=T0 + timedelta(minutes=i + 1))
    exam.finish(store, cases, state.exam.id, learner, now=T0 + timedelta(minutes=20))
    schedule.sync(store, learner, now=T0 + timedelta(minutes=21))
    [item] = schedule.items(store, learner)  # right and unsure: a card; right with no certainty given: none
    assert item.question_id == diagnosis.id
    assert item.card.stability == fsrs_chain((Rating.Hard, T0 + timedelta(minutes=20))).stability
    assert store.stage_reasoning(state.attempt_ids[case.id])[index]["certainty"] == {diagnosis.id: "low"}
