"""Exam mode in a real browser: flag a question during the exam, hand in, the end lists it as flagged."""
from __future__ import annotations

import os

import pytest

from conftest import REPO
from quiz.content import loader
from streamlit_server import learner_page, running_app

pytestmark = pytest.mark.browser


def test_flag_a_question_hand_in_and_find_it_flagged(browser, tmp_path):
    cases = loader.load_content(REPO / "content").cases
    case = max(cases.values(), key=lambda c: (len(c.stages[0].questions), c.id))
    question = case.stages[0].questions[0]
    shots = os.environ.get("QUIZ_SCREENSHOTS")
    env = {"QUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'exam.sqlite3'}"}
    with running_app(env) as url:
        page = learner_page(browser, url, "Flagger")
        page.goto(f"{url}/exam")
        page.get_by_role("heading", name="Exam").wait_for()
        page.get_by_test_id("stMultiSelect").first.click()
        page.get_by_role("option", name=case.title).click()
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Start the exam").click()
        page.get_by_text("Time left").wait_for()
        page.get_by_text("Stage 1 of", exact=False).first.wait_for()
        if shots:
            page.screenshot(path=f"{shots}/exam-desktop.png")
        flag = page.get_by_text("to come back to").first
        flag.click()
        page.get_by_text("🚩 Flagged:", exact=False).wait_for()  # saved at once, listed during the exam
        form = page.get_by_test_id("stForm")
        for q in case.stages[0].questions:
            form.get_by_text(next(o.label for o in q.options if o.id == q.answer), exact=True).click()
        form.get_by_role("button", name="Commit answers").click()
        page.get_by_text("Stage 2 of", exact=False).first.wait_for()
        assert page.get_by_text("Correct: this is the best answer.").count() == 0  # no feedback in an exam
        # another device of the same learner (its cookie holds the same key): the exam resumes
        phone = learner_page(browser, url, "Flagger", viewport={"width": 390, "height": 844})
        phone.goto(f"{url}/exam")
        phone.get_by_text("Time left").wait_for()
        phone.get_by_text("Stage 2 of", exact=False).first.wait_for()
        assert phone.get_by_text("🚩 Flagged:", exact=False).count() == 1
        if shots:
            phone.screenshot(path=f"{shots}/exam-phone.png")
        phone.close()
        page.get_by_text("I am done", exact=False).click()
        page.get_by_role("button", name="Hand in the exam").click()
        page.get_by_text("Your results").wait_for()
        flagged = page.get_by_text("Flagged questions", exact=False)
        flagged.wait_for()
        listing = page.get_by_test_id("stMarkdownContainer").filter(has_text=question.prompt).filter(
            has_text=f"{case.title} · stage 1")
        assert listing.count() >= 1
        page.get_by_text("You flagged this question.").first.wait_for()
        if shots:
            page.screenshot(path=f"{shots}/exam-results-desktop.png")
        page.close()
