"""The Review page in the real app (AppTest): gated by finished cases, shuffled per showing, mistakes cleared."""
from __future__ import annotations

import pytest

from apptest_support import assert_no_exception, finish_case, page_app, page_text
from conftest import REPO
from quiz import store as store_module
from quiz.content import loader
from quiz.play import engine

CONTENT = loader.load_content(REPO / "content")
CASES, BANK = CONTENT.cases, CONTENT.bank.review


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'review.sqlite3'}"
    monkeypatch.setenv("QUIZ_DATABASE_URL", url)
    yield url
    store_module.forget_stores()


def best(question):
    return question.answer


def wrong(question):
    return next(o.id for o in question.options if engine.credit(question, o.id) == 0)


def shown_review_question(at):
    radio = next((r for r in at.radio if r.key.startswith("rq-")), None)
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


def test_without_a_name_everything_is_locked_and_the_page_says_why():
    at = page_app("review")
    assert_no_exception(at)
    assert shown_review_question(at)[0] is None
    assert "Type your display name in the sidebar" in page_text(at)


def test_a_question_opens_once_every_case_it_draws_on_is_finished(database):
    finished = set(min(BANK, key=lambda q: (len(q.cases), q.id)).cases)
    for case_id in sorted(finished):
        finish_case(database, "Half", CASES[case_id], wrong)  # finishing counts, not the score
    started = CASES[min(set(CASES) - finished)]  # one stage committed, not finished: it does not count
    db = store_module.open_store(database)
    record = db.current_attempt(db.learner_id("Half"), started.id)
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


def mistake_radios(at):
    return [r for r in at.radio if r.key.startswith("mistake-")]


def test_a_correct_retry_takes_a_mistake_off_the_list(database):
    case = CASES[sorted(CASES)[0]]
    finish_case(database, "Retry", case, wrong)
    at = page_app("review", learner="Retry")
    assert_no_exception(at)
    radios = mistake_radios(at)
    total = sum(len(s.questions) for s in case.stages)
    assert len(radios) == total
    assert f"{total} question(s) where your latest answer was not the best one" in page_text(at)
    by_key = {q.id: q for s in case.stages for q in s.questions}
    right, missed_again = radios[0], radios[1]
    question = by_key[right.key.split(f"mistake-{case.id}-", 1)[1].rsplit("-", 2)[0]]
    other = by_key[missed_again.key.split(f"mistake-{case.id}-", 1)[1].rsplit("-", 2)[0]]
    # the options of a retry come in the order of this showing, not the file's
    seed = at.session_state[f"{right.key.removesuffix('-choice')}-seed"]
    assert list(right.options) == [o.label for o in engine.ask(question, seed).options]
    right.set_value(question.answer)
    at.button(key=right.key.replace("-choice", "-check")).click()
    at.run()
    missed_again = next(r for r in mistake_radios(at) if r.key.startswith(f"mistake-{case.id}-{other.id}-"))
    missed_again.set_value(wrong(other))
    at.button(key=missed_again.key.replace("-choice", "-check")).click()
    at.run()
    assert_no_exception(at)
    assert "Correct: this is the best answer." in page_text(at)  # still on screen right after the retry
    assert len(mistake_radios(at)) == total
    reloaded = page_app("review", learner="Retry")  # a new visit: the corrected one is gone, the other stays
    keys = [r.key for r in mistake_radios(reloaded)]
    assert len(keys) == total - 1
    assert not any(k.startswith(f"mistake-{case.id}-{question.id}-") for k in keys)
    assert any(k.startswith(f"mistake-{case.id}-{other.id}-") for k in keys)
    assert f"{total - 1} question(s) where your latest answer" in page_text(reloaded)
