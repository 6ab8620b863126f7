"""In a real browser: each attempt shows its own option order, and a reload keeps it."""
from __future__ import annotations

import math
import os

import pytest

from conftest import REPO
from quiz import store as store_module
from quiz.content import loader
from quiz.play import engine
from streamlit_server import learner_page, running_app
from learner_support import learner_of

pytestmark = pytest.mark.browser

LEARNER = "Order Resident"


def chance_of_same_first_stage(case) -> float:
    """How likely two independent attempts show the first stage in the very same order."""
    return math.prod(1 / math.factorial(len(q.options)) for q in case.stages[0].questions)


def displayed(page, case, stage_index: int = 0) -> dict[str, list[str]]:
    """Each question's option labels top to bottom, found by the group's accessible name (plain text)."""
    out = {}
    for question in case.stages[stage_index].questions:
        group = page.get_by_role("radiogroup", name=question.prompt)  # no markdown asterisks in the name
        group.wait_for()
        out[question.id] = [text.strip() for text in group.locator("label").all_inner_texts()]
    return out


def in_engine_order(case, seed: str, stage_index: int = 0) -> dict[str, list[str]]:
    return {q.id: [o.label for o in engine.ask(q, seed).options] for q in case.stages[stage_index].questions}


def latest_seed(url: str, case) -> str:
    store_module.forget_stores()
    db = store_module.open_store(url)
    return db.current_attempt(learner_of(db, LEARNER), case.id).seed


def test_two_attempts_show_different_orders_and_a_reload_keeps_one(browser, tmp_path):
    cases = loader.load_content(REPO / "content").cases
    # a short case whose first stage two attempts would show identically only by a very rare chance
    case = min(cases.values(), key=lambda c: (len(c.stages), chance_of_same_first_stage(c)))
    assert chance_of_same_first_stage(case) < 1e-4
    database = f"sqlite:///{tmp_path / 'shuffle.sqlite3'}"
    shots = os.environ.get("QUIZ_SCREENSHOTS")
    with running_app({"QUIZ_DATABASE_URL": database}) as url:
        learner_of(store_module.open_store(database), LEARNER)  # a learner with a record: the page opens its attempt
        page = learner_page(browser, url, LEARNER, viewport={"width": 1366, "height": 900})
        page.goto(f"{url}/?case={case.id}")
        page.get_by_role("heading", name=case.title).wait_for()
        first = displayed(page, case)
        seed = latest_seed(database, case)
        assert first == in_engine_order(case, seed)
        if shots:
            page.screenshot(path=f"{shots}/shuffle-desktop.png", full_page=True)
        page.reload()
        page.get_by_role("heading", name=case.title).wait_for()
        assert displayed(page, case) == first  # the same attempt: the same order

        # another device of the same learner, the same attempt
        phone = learner_page(browser, url, LEARNER, viewport={"width": 390, "height": 844})
        phone.set_default_timeout(30_000)
        phone.goto(f"{url}/?case={case.id}")
        phone.get_by_role("heading", name=case.title).wait_for()
        assert displayed(phone, case) == first
        if shots:
            phone.screenshot(path=f"{shots}/shuffle-phone.png", full_page=True)
        phone.close()

        for index, stage in enumerate(case.stages):  # finish the attempt, choosing by label
            page.get_by_text(f"Stage {index + 1} of {len(case.stages)}", exact=False).first.wait_for()
            form = page.get_by_test_id("stForm")
            for question in stage.questions:
                label = next(o.label for o in question.options if o.id == question.answer)
                form.get_by_role("radiogroup", name=question.prompt).get_by_text(label, exact=True).click()
            form.get_by_role("button", name="Commit answers").click()
            page.get_by_text("Feedback").wait_for()
            last = index + 1 == len(case.stages)
            page.get_by_role("button", name="See what the authors did" if last else f"Continue to stage {index + 2}").click()
        page.get_by_role("button", name="Play this case again").click()
        page.get_by_text(f"Stage 1 of {len(case.stages)}", exact=False).first.wait_for()
        second = displayed(page, case)
        new_seed = latest_seed(database, case)
        assert new_seed != seed
        assert second == in_engine_order(case, new_seed)
        assert second != first
        page.reload()
        page.get_by_role("heading", name=case.title).wait_for()
        assert displayed(page, case) == second
        page.close()
