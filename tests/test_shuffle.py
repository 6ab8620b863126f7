"""An honest score: option order is drawn per attempt, so blind strategies score what chance does.

Every real vignette is played through the real engine by strategies that never read a word:
always the first option as displayed, always the last, always the longest, never the longest.
Their expected score is computed from the content itself (the mean credit of a uniformly random
pick), so the tests need no hard-coded numbers and keep working as the vignettes are revised.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

import factories
from quiz.content.model import Option, Question
from quiz.play import engine

SEEDS = [f"blind-{i}" for i in range(200)]
#: How far above a random pick a length strategy may score, as a share of the possible points per case.
#: Length does not depend on the order, so there is no randomness to average away: this bounds the
#: content's cue, and the item-cue lint keeps the key from being the longest option too often.
TOLERANCE = 0.15

Strategy = Callable[[engine.AskedQuestion], str]


def longest(asked: engine.AskedQuestion) -> engine.AskedOption:
    return max(asked.options, key=lambda o: len(o.label))  # a tie goes to whichever is shown first


POSITION: dict[str, Strategy] = {
    "first": lambda asked: asked.options[0].id,
    "last": lambda asked: asked.options[-1].id,
}
LENGTH: dict[str, Strategy] = {
    "longest": lambda asked: longest(asked).id,
    # the test-wise reverse: the first option shown that is not the longest
    "never-longest": lambda asked: next(o.id for o in asked.options if o != longest(asked)),
}


def questions(case):
    return [q for stage in case.stages for q in stage.questions]


def chance(question: Question) -> tuple[float, float]:
    """Mean and variance of the credit a uniformly random pick earns."""
    credits = [engine.credit(question, o.id) for o in question.options]
    mean = sum(credits) / len(credits)
    return mean, sum((c - mean) ** 2 for c in credits) / len(credits)


def blind_play(case, strategy: Strategy, seed: str) -> float:
    """Play the whole case through the engine, looking only at what the page shows; the score earned."""
    attempt = engine.start(case, seed)
    while not engine.is_finished(case, attempt):
        stage = engine.view(case, attempt).stages[attempt.stage_index]
        attempt = engine.commit(case, attempt, attempt.stage_index, {q.id: strategy(q) for q in stage.questions})
    return engine.score(case, attempt).earned


@pytest.mark.parametrize("name", sorted(POSITION))
def test_position_strategies_score_chance_on_every_case(cases, name):
    """Over many attempts, always-first and always-last average what a random pick does (within 4 standard errors)."""
    for case in cases.values():
        expected = sum(chance(q)[0] for q in questions(case))
        spread = math.sqrt(sum(chance(q)[1] for q in questions(case)) / len(SEEDS))
        mean = sum(blind_play(case, POSITION[name], seed) for seed in SEEDS) / len(SEEDS)
        assert abs(mean - expected) <= 4 * spread + 1e-9, (
            f"{case.id}: always-{name} averages {mean:.2f} points; chance is {expected:.2f} ± {spread:.2f}")


@pytest.mark.parametrize("name", sorted(LENGTH))
def test_length_strategies_do_not_beat_chance_on_any_case(cases, name):
    for case in cases.values():
        possible = len(questions(case))
        expected = sum(chance(q)[0] for q in questions(case))
        mean = sum(blind_play(case, LENGTH[name], seed) for seed in SEEDS[:50]) / 50
        assert (mean - expected) / possible <= TOLERANCE, (
            f"{case.id}: {name} scores {mean / possible:.0%}; a random pick {expected / possible:.0%}")


@pytest.mark.parametrize("name", sorted(POSITION) + sorted(LENGTH))
def test_blind_strategies_do_not_beat_chance_on_the_review_bank(content, name):
    strategy = {**POSITION, **LENGTH}[name]
    bank = [engine.review_question(q) for q in content.bank.review]
    expected = sum(chance(q)[0] for q in bank)
    spread = math.sqrt(sum(chance(q)[1] for q in bank) / len(SEEDS))
    mean = sum(engine.credit(q, strategy(engine.ask(q, seed))) for seed in SEEDS for q in bank) / len(SEEDS)
    if name in POSITION:
        assert abs(mean - expected) <= 4 * spread, (mean, expected, spread)
    else:
        assert (mean - expected) / len(bank) <= TOLERANCE, f"{name} scores {mean:.1f} of {len(bank)}; chance {expected:.1f}"


def test_the_key_takes_every_position_across_attempts(cases):
    for case in cases.values():
        for question in questions(case):
            places = {[o.id for o in engine.ask(question, seed).options].index(question.answer) for seed in SEEDS[:100]}
            assert places == set(range(len(question.options))), f"{case.id}/{question.id}: key only at {places}"


# --- the order itself -----------------------------------------------------------------

def ids(question: Question, seed: str) -> list[str]:
    return [o.id for o in engine.ask(question, seed).options]


def any_question(cases) -> Question:
    return questions(cases[sorted(cases)[0]])[0]


def test_the_same_seed_gives_the_same_order(cases):
    question = any_question(cases)
    assert ids(question, "one attempt") == ids(question, "one attempt")
    assert sorted(ids(question, "one attempt")) == sorted(o.id for o in question.options)


def test_other_seeds_give_other_orders(cases):
    question = any_question(cases)
    orders = {tuple(ids(question, seed)) for seed in SEEDS[:50]}
    assert len(orders) > 10  # 4 options have 24 orders; 50 seeds drawing one of a handful would be a bug
    fresh = {tuple(ids(question, engine.new_seed())) for _ in range(50)}
    assert len(fresh) > 10


def test_file_order_has_no_influence(cases):
    """Permuting the options in the file gives, for the same seed, the very same order on screen,
    except that neither file's own order is ever shown (then the draw is rotated by one)."""
    rng = random.Random(7)
    compared = 0
    for case in cases.values():
        for question in questions(case):
            shuffled = list(question.options)
            rng.shuffle(shuffled)
            moved = question.model_copy(update={"options": shuffled})
            file_orders = {tuple(o.id for o in question.options), tuple(o.id for o in shuffled)}
            for seed in SEEDS[:5]:
                drawn = tuple(sorted((o.id for o in question.options), key=lambda i: engine._rank(seed, question.id, i)))
                if drawn in file_orders:
                    continue
                assert ids(moved, seed) == ids(question, seed)
                compared += 1
    assert compared > 100


def test_the_file_order_is_never_shown(cases):
    """By construction, not by luck: over many seeds no question shows its options as written."""
    for case in cases.values():
        for question in questions(case):
            in_file = [o.id for o in question.options]
            for seed in SEEDS:
                assert ids(question, seed) != in_file, (case.id, question.id, seed)
    two = Question(id="q", kind="diagnosis", prompt="Which?", answer="a",
                   options=[Option(id="a", label="A"), Option(id="b", label="B")])
    assert {tuple(ids(two, seed)) for seed in SEEDS} == {("b", "a")}


def test_the_view_and_the_feedback_carry_the_display_order(cases):
    case = cases[sorted(cases)[0]]
    attempt = engine.start(case, "view-seed")
    stage = engine.view(case, attempt).stages[0]
    for asked, question in zip(stage.questions, case.stages[0].questions):
        assert [o.id for o in asked.options] == [o.id for o in engine.display_order(question, "view-seed")]
    attempt = engine.commit(case, attempt, 0, {q.id: q.answer for q in case.stages[0].questions})
    committed = engine.view(case, attempt).stages[0]
    for asked, result in zip(stage.questions, committed.results):
        assert [o.id for o in result.options] == [o.id for o in asked.options]


def pinned_question(fixed_at: set[int]) -> Question:
    options = [Option(id=f"opt-{i}", label=f"Option {i}", fixed=i in fixed_at) for i in range(6)]
    return Question(id="q", kind="diagnosis", prompt="Which?", options=options, answer="opt-1")


@pytest.mark.parametrize("fixed_at", [{5}, {0, 5}, {2}, {0, 1, 2, 3, 4, 5}])
def test_pinned_options_keep_their_place_and_the_rest_still_shuffle(fixed_at):
    question = pinned_question(fixed_at)
    seen = set()
    for seed in SEEDS[:60]:
        order = ids(question, seed)
        assert sorted(order) == sorted(o.id for o in question.options)
        for index in fixed_at:
            assert order[index] == f"opt-{index}"
        seen.add(tuple(order))
    assert (len(seen) > 1) == (6 - len(fixed_at) > 1)  # all pinned: the file order, the only one left


def test_fixed_is_read_from_yaml_and_defaults_to_shuffled():
    data = factories.case_dict()
    data["stages"][0]["questions"][0]["options"][-1]["fixed"] = True
    question = factories.load_case(data).stages[0].questions[0]
    assert [o.fixed for o in question.options] == [False] * (len(question.options) - 1) + [True]
    for seed in SEEDS[:20]:
        assert ids(question, seed)[-1] == question.options[-1].id


def test_review_questions_keep_pins():
    from quiz.content.model import ReviewQuestion

    data = factories.review_question()
    data["options"][-1]["fixed"] = True
    question = engine.review_question(ReviewQuestion.model_validate(data))
    assert all(ids(question, seed)[-1] == data["options"][-1]["id"] for seed in SEEDS[:20])
