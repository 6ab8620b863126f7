"""A resident in a real browser: deep link, play a case to its reveal, check score and trace."""
from __future__ import annotations

import os

import pytest

from conftest import REPO
from quiz.content import loader
from streamlit_server import running_app

pytestmark = pytest.mark.browser



def test_deep_link_play_to_reveal(browser, tmp_path):
    cases = loader.load_content(REPO / "content").cases
    case = min(cases.values(), key=lambda c: len(c.stages))
    env = {"QUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'browser.sqlite3'}"}
    with running_app(env) as url:
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{url}/?case={case.id}&learner=Browser%20Resident")
        page.get_by_role("heading", name=case.title).wait_for()
        for index, stage in enumerate(case.stages):
            page.get_by_text(f"Stage {index + 1} of {len(case.stages)}", exact=False).first.wait_for()
            form = page.get_by_test_id("stForm")
            for question in stage.questions:
                label = next(o.label for o in question.options if o.id == question.answer)
                form.get_by_text(label, exact=True).click()
            form.get_by_role("button", name="Commit answers").click()
            page.get_by_text("Feedback").wait_for()
            correct = page.get_by_text("Correct: this is the best answer.").filter(visible=True)
            correct.nth(len(stage.questions) - 1).wait_for()  # the feedback is drawn a moment after its heading
            assert correct.count() == len(stage.questions)
            last = index + 1 == len(case.stages)
            page.get_by_role("button", name="See what the authors did" if last else f"Continue to stage {index + 2}").click()
        page.get_by_text("Your reasoning trace").wait_for()
        page.get_by_text(case.reveal.diagnosis, exact=False).first.wait_for()
        assert page.get_by_test_id("stMetricValue").first.inner_text() == "100%"
        page.get_by_test_id("stDataFrame").first.wait_for()  # the trace table loads lazily
        page.get_by_test_id("stVegaLiteChart").first.wait_for()
        if os.environ.get("QUIZ_SCREENSHOTS"):
            page.screenshot(path=os.environ["QUIZ_SCREENSHOTS"] + "/reveal.png", full_page=True)
        page.close()
