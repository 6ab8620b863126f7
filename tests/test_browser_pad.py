"""The differential pad on a phone in a real browser: type-ahead by synonym, commit, the comparison, the reveal."""
from __future__ import annotations

import os

import pytest

from conftest import REPO
from quiz.content import loader
from streamlit_server import running_app

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def shoot(page, name: str) -> None:
    folder = os.environ.get("QUIZ_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_pad_on_a_phone(browser, tmp_path):
    content = loader.load_content(REPO / "content")
    case = min(content.cases.values(), key=lambda c: len(c.stages))
    # A synonym, not the label: the type-ahead must find entries by their other names too.
    typed = next((e.diagnosis, s) for e in case.stages[0].differential
                 for s in content.catalogue[e.diagnosis].synonyms if e.diagnosis != case.reveal.diagnosis_id)
    wanted = content.catalogue[typed[0]].label
    env = {"QUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'pad.sqlite3'}"}
    with running_app(env) as url:
        page = browser.new_page(viewport=PHONE)
        page.set_default_timeout(30_000)
        page.goto(f"{url}/?case={case.id}")
        page.get_by_role("heading", name=case.title).wait_for()
        box = page.get_by_test_id("stMultiSelect").first
        box.locator("input").click()
        page.keyboard.type(typed[1])
        page.get_by_role("option").filter(has_text=wanted).first.click()
        page.keyboard.press("Escape")
        box.get_by_text(wanted, exact=False).first.wait_for()
        page.get_by_text("Leading diagnosis", exact=False).first.wait_for()
        shoot(page, "pad-phone-before-commit")
        for index, stage in enumerate(case.stages):
            page.get_by_text(f"Stage {index + 1} of {len(case.stages)}", exact=False).first.wait_for()
            form = page.get_by_test_id("stForm")
            for question in stage.questions:
                label = next(o.label for o in question.options if o.id == question.answer)
                form.get_by_text(label, exact=True).click()
            form.get_by_text("Moderate", exact=True).first.click()
            form.get_by_role("button", name="Commit answers").click()
            page.get_by_text("Feedback").wait_for()
            page.get_by_text("Your differential beside an expert's").wait_for()
            if index == 0:
                page.get_by_text("Differential score").first.wait_for()
                page.get_by_text("Not on your list:", exact=False).first.wait_for()
                for entry in case.stages[0].differential:
                    page.get_by_text(entry.reason, exact=False).first.wait_for(state="attached")
                shoot(page, "pad-phone-comparison")
                page.set_viewport_size({"width": 1280, "height": 900})
                shoot(page, "pad-desktop-comparison")
                page.set_viewport_size(PHONE)
            last = index + 1 == len(case.stages)
            page.get_by_role("button", name="See what the authors did" if last else f"Continue to stage {index + 2}").click()
        page.get_by_text("How your differential moved").wait_for()
        page.get_by_text("Certainty trace").wait_for()
        shoot(page, "pad-phone-reveal")
        page.close()
