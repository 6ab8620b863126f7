"""The Review page in the real app (AppTest): gated by finished cases, shuffled per showing, mistakes cleared."""
from __future__ import annotations

from datetime import timedelta

import pytest

from apptest_support import assert_no_exception, finish_case, flat, page_app, page_text
from conftest import REPO
from quiz import store as store_module
from quiz.content import loader
from quiz.play import engine, schedule
from study_support import T0, play
from learner_support import learner_of

CONTENT = loader.load_content(REPO / "content")
CASES, BANK = CONTENT.cases, CONTENT.bank.review


pytestmark = pytest.mark.usefixtures("database")  # conftest.py: a fresh SQLite file per test


def best(question):
    return question.answer


def wrong(question):
    return next(o.id for o in question.options if engine.credit(question, o.id) == 0)


def shown_review_question(at):
    radio = next((r for r in at.radio if r.key.startswith("rq-") and r.key.endswith("-choice")), None)
    return radio, (next(q for q in BANK if radio.key.startswith(f"rq-{q.id}-")) if radio else None)


def test_a_new_learner_sees_no_review_question_only_how_many_are_locked():
    at = page_app("review", learner="Newcomer")
    assert_no_exception(at)
    radio, _ = shown_review_question(at)
    assert radio is None
    text = page_text(at)
    assert f"{len(BANK)} of {len(BANK)} questions are locked" in text
    assert "finished every case it draws on" in text
    for question in BANK:  # neither the questions nor the cases they draw on are named
        assert question.prompt not in text
        assert not any(option.label in text for option in question.options)
    for case in CASES.values():
        assert case.title not in text and case.id not in text


def test_a_first_visit_has_everything_locked_and_the_page_says_why():
    at = page_app("review")  # a browser with no record yet
    assert_no_exception(at)
    assert shown_review_question(at)[0] is None
    assert "Finish a case on the Cases page and its questions open here" in page_text(at)


def test_a_question_opens_once_every_case_it_draws_on_is_finished(database):
    finished = set(min(BANK, key=lambda q: (len(q.cases), q.id)).cases)
    for case_id in sorted(finished):
        finish_case(database, "Half", CASES[case_id], wrong)  # finishing counts, not the score
    started = CASES[min(set(CASES) - finished)]  # one stage committed, not finished: it does not count
    db = store_module.open_store(database)
    record = db.current_attempt(learner_of(db, "Half"), started.id)
    attempt = engine.commit(started, engine.start(started, record.seed), 0,
                            {q.id: q.answer for q in started.stages[0].questions})
    db.record_stage(record.id, 0, started.stages[0].kind, engine.results(started, attempt, 0))
    open_ = [q for q in BANK if set(q.cases) <= finished]
    assert len(open_) < len(BANK)
    seen = set()
    at = page_app("review", learner="Half")
    for _ in range(len(open_) + 1):
        assert_no_exception(at)
        radio, question = shown_review_question(at)
        assert question in open_, f"{question.id} draws on {question.cases}, not all finished"
        seen.add(question.id)
        text = page_text(at)
        locked = len(BANK) - len(open_)
        assert f"{locked} of {len(BANK)} questions {'is' if locked == 1 else 'are'} locked" in text
        radio.set_value(question.answer)
        at.button(key=radio.key.replace("-choice", "-check")).click()
        at.run()
        next(b for b in at.button if b.label == "Next question →").click()
        at.run()
    assert seen == {q.id for q in open_}


def test_review_options_are_in_a_fresh_order_per_showing_and_kept_on_screen(database):
    for case in CASES.values():
        finish_case(database, "Order", case, best)
    at = page_app("review", learner="Order")
    radio, question = shown_review_question(at)
    key = radio.key.removesuffix("-choice")
    seed = at.session_state[f"{key}-seed"]
    assert list(radio.options) == [o.label for o in engine.ask(engine.review_question(question), seed).options]
    at.multiselect(key="review-topics").set_value([]).run()  # any rerun keeps the question's order
    assert list(shown_review_question(at)[0].options) == list(radio.options)
    seeds = {seed}
    for _ in range(5):  # every new page session shows the questions with newly drawn seeds
        other = page_app("review", learner="Order")
        radio, _ = shown_review_question(other)
        seeds.add(other.session_state[f"{radio.key.removesuffix('-choice')}-seed"])
    assert len(seeds) == 6


def test_quick_fire_feedback_has_a_readable_heading(database):
    for case in CASES.values():
        finish_case(database, "Label", case, best)
    at = page_app("review", learner="Label")
    radio, question = shown_review_question(at)
    radio.set_value(question.answer)
    at.button(key=radio.key.replace("-choice", "-check")).click()
    at.run()
    text = page_text(at)
    assert "**review:**" not in text
    verdicts = [m.value for m in at.markdown if "You chose" in m.value]
    assert verdicts and verdicts[0].startswith("✅ You chose")  # the verdict first; the question is just above
    assert text.count(question.prompt) == 2  # once on the page; page_text repeats the page flattened


def due_radio(at):
    return next((r for r in at.radio if r.key.startswith("due-") and r.key.endswith("-choice")), None)


def question_of(radio, case):
    return next(q for s in case.stages for q in s.questions if radio.key.startswith(f"due-case:{case.id}:{q.id}-"))


def missed_rows(at):
    frames = [f.value for f in at.dataframe if "Next review" in f.value.columns]
    return len(frames[0]) if frames else 0


def test_a_due_item_answered_shows_its_next_due_date_and_only_earlier_findings(database):
    case = CASES[sorted(CASES)[0]]
    finish_case(database, "Due", case, wrong)  # every question missed: every one is a card, due now
    at = page_app("review", learner="Due")
    assert_no_exception(at)
    total = sum(len(s.questions) for s in case.stages)
    assert f"{total} item(s) due today" in page_text(at)
    assert missed_rows(at) == total
    radio = due_radio(at)
    question = question_of(radio, case)
    index = engine.find_question(case, question.id)[0]
    text = page_text(at)
    assert all(flat(f.text) in text for s in case.stages[:index + 1] for f in s.findings)
    later = [f.text for s in case.stages[index + 1:] for f in s.findings]
    assert not [t for t in later if t in text]  # never a later stage's findings
    seed = at.session_state[f"{radio.key.removesuffix('-choice')}-seed"]  # options in this showing's order
    assert list(radio.options) == [o.label for o in engine.ask(question, seed).options]
    radio.set_value(question.answer)
    at.button(key=radio.key.replace("-choice", "-check")).click()
    at.run()
    assert_no_exception(at)
    db = store_module.open_store(database)
    [card] = [i for i in schedule.items(db, learner_of(db, "Due")) if i.question_id == question.id]
    expected = f"Next review of this question: **{'due today at ' + f'{card.due:%H:%M} UTC' if card.due.date() == store_module.now().date() else f'{card.due:%Y-%m-%d}'}**"
    assert expected in page_text(at)
    assert card.due > store_module.now()


def test_an_item_leaves_the_missed_list_when_the_schedule_says_so(database):
    """A missed question answered right at each due date: the page's last answer makes it learned."""
    case = CASES[sorted(CASES)[0]]
    question = case.stages[0].questions[0]
    # Work out, with the scheduler itself, when to have answered so that one more right answer learns it.
    probe = [schedule.review(None, schedule.Outcome(case.id, question.id, 0.0, None, T0))]
    while not schedule.is_learned(schedule.review(probe[-1], schedule.Outcome(case.id, question.id, 1.0, None,
                                                                               schedule.utc(probe[-1].due)))):
        probe.append(schedule.review(probe[-1], schedule.Outcome(case.id, question.id, 1.0, None,
                                                                  schedule.utc(probe[-1].due))))
    shift = store_module.now() - schedule.utc(probe[-1].due) - timedelta(hours=1)
    db = store_module.open_store(database)
    learner = learner_of(db, "Spaced")
    play(db, learner, case, lambda q: wrong(q) if q == question else best(q), T0 + shift)  # missed long ago
    for card in probe[:-1]:  # right at each due date since
        schedule.record_review(db, learner, case.id, question.id, 1.0, now=schedule.utc(card.due) + shift)
    assert len(probe) >= 3  # a few spaced right answers, not one lucky guess
    at = page_app("review", learner="Spaced")
    assert_no_exception(at)
    assert missed_rows(at) == 1
    radio = due_radio(at)
    assert question_of(radio, case) == question
    radio.set_value(question.answer)
    at.button(key=radio.key.replace("-choice", "-check")).click()
    at.run()
    assert_no_exception(at)
    assert "learned: it leaves your missed list" in page_text(at)
    assert missed_rows(at) == 0
    again = page_app("review", learner="Spaced")
    assert missed_rows(again) == 0 and due_radio(again) is None
    assert "Nothing due today" in page_text(again)


@pytest.mark.parametrize("stated, rating", [("low", 2), ("high", 4)])
def test_a_review_answer_is_scheduled_by_the_certainty_given_with_it(database, stated, rating):
    """The Review page asks how sure the learner is; a right answer is Hard when unsure, Easy when sure."""
    case = CASES[sorted(CASES)[0]]
    finish_case(database, "Sure", case, wrong)
    at = page_app("review", learner="Sure")
    radio = due_radio(at)
    question = question_of(radio, case)
    key = radio.key.removesuffix("-choice")
    sure = at.radio(key=f"{key}-certainty")
    assert sure.label == "How sure are you?" and sure.value is None  # asked, never preset
    radio.set_value(question.answer)
    sure.set_value(stated)
    at.button(key=f"{key}-check").click()
    at.run()
    assert_no_exception(at)
    db = store_module.open_store(database)
    learner = learner_of(db, "Sure")
    last = schedule.review_log(db, learner, f"case:{case.id}:{question.id}")[-1]
    assert (last["source"], last["rating"], last["certainty"]) == ("review", rating, stated)
    [card] = [i for i in schedule.items(db, learner) if i.question_id == question.id]
    assert card.due > store_module.now()
    assert f"{card.due:%H:%M} UTC" in page_text(at) or f"{card.due:%Y-%m-%d}" in page_text(at)
    shown = at.radio(key=f"{key}-certainty")
    assert shown.disabled and shown.value == stated  # given with the answer, kept on screen, not changed after it


def test_a_quick_fire_answer_is_scheduled_by_the_certainty_given_with_it(database):
    for case in CASES.values():
        finish_case(database, "Quick", case, best)
    at = page_app("review", learner="Quick")
    radio, question = shown_review_question(at)
    key = radio.key.removesuffix("-choice")
    radio.set_value(question.answer)
    at.radio(key=f"{key}-certainty").set_value("low")
    at.button(key=f"{key}-check").click()
    at.run()
    assert_no_exception(at)
    db = store_module.open_store(database)
    [last] = schedule.review_log(db, learner_of(db, "Quick"), f"bank:{question.id}")
    assert (last["rating"], last["certainty"]) == (2, "low")  # right but unsure: a card, rated Hard
