"""A live class in real browsers: one instructor and three students play a case to its reveal.

The students never reload: their pages follow the instructor through the two-second
``st.fragment(run_every=...)`` poll, and the presenter's counts come from its own live fragment.
"""
from __future__ import annotations

import os
import re

import pytest

import factories
from streamlit_server import running_app

pytestmark = pytest.mark.browser

PASSCODE = "browser-passcode"
CASE = factories.load_case(factories.case_dict(stages=2))  # two stages keep the test short
FOLLOW_MS = 15_000  # a poll every 2 s, a version cached for at most 1 s: far less than this



def see(page, text: str, timeout: int = FOLLOW_MS) -> None:
    page.get_by_text(text, exact=False).filter(visible=True).first.wait_for(timeout=timeout)


def label(question, option_id: str) -> str:
    return next(o.label for o in question.options if o.id == option_id)


def test_an_instructor_and_three_students_play_a_case_to_its_reveal(browser, tmp_path):
    content = factories.write_content(tmp_path / "content", {CASE.id: factories.case_dict(stages=2)})
    env = {"QUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'class.sqlite3'}", "QUIZ_CONTENT_DIR": str(content),
           "QUIZ_INSTRUCTOR_PASSCODE": PASSCODE}
    shots = os.environ.get("QUIZ_SCREENSHOTS")
    with running_app(env) as url:
        teacher = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        teacher.set_default_timeout(30_000)
        teacher.goto(f"{url}/teach")
        teacher.get_by_label("Instructor passcode", exact=True).fill(PASSCODE)
        teacher.get_by_role("button", name="Enter").click()
        teacher.get_by_role("button", name="Create session").click()
        see(teacher, "Join on your phone")
        join_text = teacher.get_by_text(re.compile(r"\?join=[A-Z0-9]{6}")).first.inner_text()
        code = re.search(r"\?join=([A-Z0-9]{6})", join_text).group(1)
        assert join_text.count(f"{url}/?join={code}") >= 1, "the join URL is the app's root"
        teacher.get_by_test_id("stImage").first.wait_for()  # the QR code
        if shots:
            teacher.screenshot(path=f"{shots}/class-lobby.png", full_page=True)

        students = []
        for name in ("Ann", "Bob", "Cy"):
            page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{url}/?join={code}")
            page.get_by_label("Your nickname", exact=True).fill(name)
            page.get_by_role("button", name="Join").click()
            see(page, "You're in")
            students.append(page)
        see(teacher, "Joined")
        teacher.get_by_test_id("stMetricValue").filter(has_text="3").first.wait_for(timeout=FOLLOW_MS)

        choices = {  # Ann always right, Bob partly, Cy wrong on the first stage's diagnosis
            "Ann": lambda q: q.answer,
            "Bob": lambda q: next(iter(q.acceptable), q.answer),
            "Cy": lambda q: next(o.id for o in q.options if o.id != q.answer and o.id not in q.acceptable),
        }
        total = len(CASE.stages)
        teacher.get_by_role("button", name="Start: show stage 1").click()
        for index, stage in enumerate(CASE.stages):
            for page in students:  # the students' pages move on by themselves
                see(page, "Read the findings. Answering opens soon.")
                see(page, stage.findings[0].text.split("**")[0].strip())
            teacher.get_by_role("button", name="Open answering").click()
            for page, name in zip(students, ("Ann", "Bob", "Cy")):
                see(page, "Answering is open")
                groups = page.get_by_role("radiogroup")
                groups.first.wait_for(timeout=FOLLOW_MS)
                for number, question in enumerate(stage.questions):
                    groups.nth(number).get_by_text(label(question, choices[name](question)), exact=True).click()
                    see(page, "Answer saved")
                html = page.content()  # earlier stages were revealed; this one's key must not be here
                for secret in (rf"EXPLAIN [a-z-]+ at stage {index + 1}\.", f"KEYNOTE for stage {index + 1} ", "REVEALED"):
                    assert not re.search(secret, html), f"{secret} on a student page before the reveal"
            teacher.get_by_test_id("stMetricValue").filter(has_text="3 of 3").first.wait_for(timeout=FOLLOW_MS)
            if shots and index == 0:
                teacher.screenshot(path=f"{shots}/class-presenter.png", full_page=True)
                students[1].screenshot(path=f"{shots}/class-student.png", full_page=True)
            teacher.get_by_role("button", name="Close answering").click()
            see(teacher, "Answering closed")  # "Reveal" is enabled before and after: wait for the new page
            teacher.get_by_role("button", name="Reveal the key").click()
            for page in students:
                see(page, "The key is revealed")
            see(students[0], "Correct: this is the best answer.")
            assert "EXPLAIN" in students[0].content()
            if index == 0:
                see(students[1], "Partly right")
                see(students[2], "Not the best answer")
            last = index + 1 == total
            teacher.get_by_role("button", name="Final reveal: what the authors did" if last else "Next stage").click()
        for page in students:
            see(page, "REVEALED management")
        see(students[0], "100%")
        see(teacher, "REVEALED outcome")
        if shots:
            students[0].screenshot(path=f"{shots}/class-final.png", full_page=True)

        teacher.get_by_role("tab", name="Results").click()
        see(teacher, "Percent correct per stage")
        teacher.get_by_role("button", name="Download all answers (CSV)").wait_for()
        teacher.get_by_role("tab", name="Present").click()
        teacher.get_by_role("button", name="End session…").click()
        teacher.get_by_role("button", name="End the session now").click()
        for page in students:
            see(page, "This class session has ended")
