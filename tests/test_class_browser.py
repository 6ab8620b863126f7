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



# The instructor's controls are clicked by their enabled button: while the page redraws after an
# action, the button of the previous phase (there disabled) can stand beside the new one for a moment.


def see(page, text: str, timeout: int = FOLLOW_MS) -> None:
    page.get_by_text(text, exact=False).filter(visible=True).first.wait_for(timeout=timeout)


def label(question, option_id: str) -> str:
    return next(o.label for o in question.options if o.id == option_id)


def answer(page, number: int, chosen: str, certainty: str = "High") -> None:
    """Tap question ``number``'s option and then how sure (each question's radio groups: options, certainty)."""
    groups = page.get_by_role("radiogroup")
    groups.nth(2 * number).get_by_text(chosen, exact=True).click()
    groups.nth(2 * number + 1).get_by_text(certainty, exact=True).click()


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
        sure = {"Ann": "High", "Bob": "Moderate", "Cy": "Low"}
        total = len(CASE.stages)
        teacher.get_by_role("button", name="Start: show stage 1", disabled=False).click()
        for index, stage in enumerate(CASE.stages):
            for page in students:  # the students' pages move on by themselves
                see(page, "Read the findings. Answering opens soon.")
                see(page, stage.findings[0].text.split("**")[0].strip())
            teacher.get_by_role("button", name="Open answering", disabled=False).click()
            for page, name in zip(students, ("Ann", "Bob", "Cy")):
                see(page, "Answering is open")
                groups = page.get_by_role("radiogroup")
                groups.first.wait_for(timeout=FOLLOW_MS)
                for number, question in enumerate(stage.questions):
                    chosen = label(question, choices[name](question))
                    groups.nth(2 * number).get_by_text(chosen, exact=True).click()
                    if index == 0 and number == 0:  # one tap is not an answer yet: the phone says what is missing
                        see(page, "Not saved yet")
                    groups.nth(2 * number + 1).get_by_text(sure[name], exact=True).click()
                    see(page, f"Saved: {chosen} · {sure[name].lower()} certainty")
                html = page.content()  # earlier stages were revealed; this one's key must not be here
                for secret in (rf"EXPLAIN [a-z-]+ at stage {index + 1}\.", f"KEYNOTE for stage {index + 1} ", "REVEALED"):
                    assert not re.search(secret, html), f"{secret} on a student page before the reveal"
            teacher.get_by_test_id("stMetricValue").filter(has_text="3 of 3").first.wait_for(timeout=FOLLOW_MS)
            if shots and index == 0:
                teacher.screenshot(path=f"{shots}/class-presenter.png", full_page=True)
                students[1].screenshot(path=f"{shots}/class-student.png", full_page=True)
            teacher.get_by_role("button", name="Close answering", disabled=False).click()
            see(teacher, "Answering closed")  # "Reveal" is enabled before and after: wait for the new page
            teacher.get_by_role("button", name="Reveal the key", disabled=False).click()
            for page in students:
                see(page, "The key is revealed")
            see(students[0], "Correct: this is the best answer.")
            see(students[0], "Your certainty: High · +3 in the class score")
            assert "EXPLAIN" in students[0].content()
            if index == 0:
                see(students[1], "Partly right")
                see(students[2], "Not the best answer")
            last = index + 1 == total
            onward = "Final reveal: what the authors did" if last else "Next stage"
            teacher.get_by_role("button", name=onward, disabled=False).click()
        for page in students:
            see(page, "REVEALED management")
        see(students[0], "100%")
        see(teacher, "REVEALED outcome")
        if shots:
            students[0].screenshot(path=f"{shots}/class-final.png", full_page=True)

        teacher.get_by_role("tab", name="Results").click()
        see(teacher, "Percent correct per stage")
        see(teacher, "How sure the class was, per option")
        teacher.get_by_role("button", name="Download all answers (CSV)").wait_for()
        teacher.get_by_role("tab", name="Present").click()
        teacher.get_by_role("button", name="End session…").click()
        teacher.get_by_role("button", name="End the session now").click()
        for page in students:
            see(page, "This class session has ended")


def start_session(teacher, url: str) -> str:
    teacher.goto(f"{url}/teach")
    teacher.get_by_label("Instructor passcode", exact=True).fill(PASSCODE)
    teacher.get_by_role("button", name="Enter").click()
    teacher.get_by_role("button", name="Create session").click()
    see(teacher, "Join on your phone")
    join_text = teacher.get_by_text(re.compile(r"\?join=[A-Z0-9]{6}")).first.inner_text()
    return re.search(r"\?join=([A-Z0-9]{6})", join_text).group(1)


def phone(browser):
    page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    page.set_default_timeout(30_000)
    return page


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """One running app for the review findings below (each test makes its own session)."""
    root = tmp_path_factory.mktemp("class-review")
    content = factories.write_content(root / "content", {CASE.id: factories.case_dict(stages=2)})
    env = {"QUIZ_DATABASE_URL": f"sqlite:///{root / 'class.sqlite3'}", "QUIZ_CONTENT_DIR": str(content),
           "QUIZ_INSTRUCTOR_PASSCODE": PASSCODE}
    with running_app(env) as url:
        yield url


def desk(browser, width: int = 1400, height: int = 1000):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(30_000)
    return page


def test_the_pages_own_paths_open_them(browser, app_url):
    """B12: /cases opened a "Page not found" dialog (the default page lives at the root only)."""
    page = phone(browser)
    code = start_session(desk(browser), app_url)
    for path, heading in (("/cases", "Case library"), (f"/class?join={code}", "Join a class"),
                          ("/review", "Review"), ("/", "Case library")):
        page.goto(f"{app_url}{path}")
        see(page, heading)
        page.wait_for_timeout(500)
        assert not page.get_by_text("Page not found").count(), path


def test_markdown_in_the_url_stays_text_in_the_error_box(browser, app_url):
    """B7: ?join=[Session moved: log in again](https://evil.example/login) put a live link in the red box."""
    page = phone(browser)
    page.goto(f"{app_url}/?join=[Session moved: log in again](https://evil.example/login)")
    see(page, "is not a join code")
    alert = page.get_by_test_id("stAlert").filter(has_text="is not a join code").first
    assert alert.locator("a").count() == 0, alert.inner_html()
    assert page.locator("a[href*='evil.example']").count() == 0, "no link to the stranger's site anywhere"
    # The value box is drawn a moment after the error box: wait for it before reading the page.
    page.get_by_test_id("stCode").filter(has_text="Session moved").first.wait_for(timeout=FOLLOW_MS)
    shown = page.locator("body").inner_text().replace("\u2060", "")  # word joiners keep autolinking away
    assert "[Session moved: log in again](https://evil.example/login)" in shown, "the value is shown as typed"

    # A nickname taken by another phone: the error names it, as text.
    code = start_session(desk(browser), app_url)
    for name in ("[x](https://e.vil/a)", "[X](https://e.vil/a)"):  # the second is taken (case is ignored)
        page.goto(f"{app_url}/?join={code}")
        page.get_by_label("Your nickname", exact=True).fill(name)
        page.get_by_role("button", name="Join").click()
        page.wait_for_timeout(300)
    see(page, "already uses the nickname")
    assert page.locator("a[href*='e.vil']").count() == 0, "the nickname in the error box is text"


def test_a_pasted_long_nickname_stays_in_the_field(browser, app_url):
    """B8: pasting a nickname over 24 characters left the field empty, and Join said "Choose a nickname"."""
    code = start_session(desk(browser), app_url)
    page = phone(browser)
    page.goto(f"{app_url}/?join={code}")
    field = page.get_by_label("Your nickname", exact=True)
    field.fill("A nickname pasted from notes, too long")
    assert field.input_value() == "A nickname pasted from notes, too long"
    page.get_by_role("button", name="Join").click()
    see(page, "at most 24 characters")
    assert not page.get_by_text("Choose a nickname").count()
    assert field.input_value() == "A nickname pasted from notes, too long", "nothing typed is lost"


def test_seats_saved_answers_and_a_fresh_csv(browser, app_url):
    """B2 (seat), B6 (saved next to the question, after a reload too), B3 (CSV while answering is open)."""
    shots = os.environ.get("QUIZ_SCREENSHOTS")
    teacher = desk(browser)
    code = start_session(teacher, app_url)
    ann = phone(browser)
    ann.goto(f"{app_url}/?join={code}")
    ann.get_by_label("Your nickname", exact=True).fill("Ann")
    ann.get_by_role("button", name="Join").click()
    see(ann, "You're in")
    assert "seat=" in ann.url and "Ann" not in ann.url

    other = phone(browser)
    other.goto(f"{app_url}/?join={code}")
    other.get_by_label("Your nickname", exact=True).fill("ann")
    other.get_by_role("button", name="Join").click()
    see(other, "ask your instructor to release your seat")

    teacher.get_by_role("button", name="Start: show stage 1", disabled=False).click()
    teacher.get_by_role("button", name="Open answering", disabled=False).click()
    question = CASE.stages[0].questions[0]
    chosen = label(question, question.answer)
    see(ann, "Answering is open")
    answer(ann, 0, chosen)
    see(ann, f"Saved: {chosen}")
    ann.reload()
    see(ann, f"Saved: {chosen}")
    if shots:
        ann.screenshot(path=f"{shots}/class-phone-saved.png", full_page=True)

    teacher.get_by_role("tab", name="Results").click()
    see(teacher, "As of")
    with teacher.expect_download() as download:
        teacher.get_by_role("button", name="Download all answers (CSV)").click()
    rows = download.value.path().read_text().splitlines()
    assert len(rows) == 2 and question.answer in rows[1] and "Ann" in rows[1], rows
    assert "certainty" in rows[0].split(",") and ",high,3.0,3.0," in rows[1], "the CSV has the certainty and points"

    teacher.get_by_role("tab", name="Students").click()
    teacher.get_by_role("button", name="Release seat").first.wait_for()
    if shots:
        teacher.screenshot(path=f"{shots}/class-instructor-students.png", full_page=True)



def test_a_window_whose_control_was_taken_says_so_at_once(browser, app_url):
    """B11: the first window kept its controls, with no notice, for over 20 s."""
    shots = os.environ.get("QUIZ_SCREENSHOTS")
    teacher = desk(browser)
    code = start_session(teacher, app_url)
    teacher.get_by_role("button", name="Start: show stage 1", disabled=False).click()
    teacher.get_by_role("button", name="Open answering", disabled=False).click()
    second = desk(browser, 1280, 800)
    second.goto(f"{app_url}/teach")
    second.get_by_label("Instructor passcode", exact=True).fill(PASSCODE)
    second.get_by_role("button", name="Enter").click()
    second.locator(f".st-key-class-resume-{code}").get_by_role("button", name="Resume").click()
    second.get_by_role("button", name="Close answering").wait_for()  # this window steers now
    see(teacher, "Another instructor window has taken control", timeout=6_000)
    assert not teacher.get_by_role("button", name="Close answering").count(), "no controls left on the first"
    if shots:
        teacher.screenshot(path=f"{shots}/class-instructor-taken.png", full_page=True)
        second.screenshot(path=f"{shots}/class-instructor-present.png", full_page=True)


def test_a_presenter_window_three_phones_and_a_countdown(browser, app_url):
    """Issue 13: the presenter page never shows a control or the key before the reveal; the countdown
    closes answering by itself."""
    shots = os.environ.get("QUIZ_SCREENSHOTS")
    teacher = desk(browser)
    code = start_session(teacher, app_url)
    link = teacher.get_by_role("link", name="Open the presenter view")
    with teacher.context.expect_page() as opened:
        link.click()
    screen = opened.value
    screen.set_viewport_size({"width": 1280, "height": 720})
    screen.set_default_timeout(30_000)
    see(screen, "Join on your phone")
    assert f"/present?session={code}" in screen.url
    screen.get_by_text(f"{app_url}/?join={code}", exact=True).wait_for()  # the app's root, as the QR code

    def no_controls_no_key(secrets: tuple[str, ...]) -> None:
        for selector in ("button", "input", "select", "textarea", "[role=radio]", "[role=tab]"):
            found = screen.locator(selector).filter(visible=True)
            assert found.count() == 0, f"{selector} on the presenter view: {found.first.evaluate('e => e.outerHTML')}"
        assert not screen.get_by_test_id("stSidebar").filter(visible=True).count(), "no sidebar"
        html = screen.content()
        for secret in secrets:
            assert not re.search(secret, html), f"{secret} on the projector before the reveal"

    key_of_stage_1 = (r"EXPLAIN [a-z-]+ at stage 1\.", "KEYNOTE for stage 1 ", "Best answer", "REVEALED")
    no_controls_no_key(key_of_stage_1)
    assert screen.get_by_text(code, exact=True).first.is_visible(), "the join code, large"
    screen.get_by_test_id("stImage").first.wait_for()
    if shots:
        screen.screenshot(path=f"{shots}/presenter-lobby.png")

    phones = []
    for name in ("Ann", "Bob", "Cy"):
        page = phone(browser)
        page.goto(f"{app_url}/?join={code}")
        page.get_by_label("Your nickname", exact=True).fill(name)
        page.get_by_role("button", name="Join").click()
        see(page, "You're in")
        phones.append(page)
    screen.get_by_test_id("stMetricValue").filter(has_text="3").first.wait_for(timeout=FOLLOW_MS)

    teacher.get_by_role("button", name="Start: show stage 1", disabled=False).click()
    see(screen, CASE.stages[0].findings[0].text.split("**")[0].strip())
    teacher.get_by_role("combobox", name="Countdown").click()
    teacher.get_by_role("option", name="15 s").click()
    teacher.get_by_role("button", name="Open answering", disabled=False).click()
    question = CASE.stages[0].questions[0]
    see(screen, question.prompt)
    see(screen, "0:1")  # 0:15 .. 0:10, ticking
    for page in phones[:2]:
        see(page, "Answering closes by itself")
        answer(page, 0, label(question, question.answer))
        see(page, "Saved:")
    screen.get_by_test_id("stMetricValue").filter(has_text="of 3").first.wait_for(timeout=FOLLOW_MS)
    no_controls_no_key(key_of_stage_1)
    if shots:
        screen.screenshot(path=f"{shots}/presenter-countdown.png")

    see(screen, "Answering closed", timeout=30_000)  # zero, without the instructor
    for page in phones:
        see(page, "Answering is closed")
    see(teacher, "Answering closed")
    no_controls_no_key(key_of_stage_1)

    teacher.get_by_role("button", name="Reveal the key", disabled=False).click()
    see(screen, "Best answer")
    screen.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert re.search(rf"EXPLAIN {question.answer} at stage 1\.", screen.content())
    no_controls_no_key(("REVEALED", "LATER"))
    if shots:
        screen.screenshot(path=f"{shots}/presenter-revealed.png", full_page=True)
