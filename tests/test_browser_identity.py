"""Issue 10 acceptance, in a real browser: a learner's record is theirs.

Two browser contexts (two people: no shared cookie) type the same display name; neither sees the
other's progress. A page change keeps the name, a reload keeps the progress (the key is in the
browser's cookie), and "Continue on another device" moves the record to a third context.
"""
from __future__ import annotations

import os
import re
import time

import pytest

from conftest import REPO
from quiz.content import loader
from streamlit_server import running_app

pytestmark = pytest.mark.browser

CASES = loader.load_content(REPO / "content").cases
CASE = min(CASES.values(), key=lambda c: (len(c.stages), c.id))
NAME_BOX = "Your display name (optional)"


def person(browser):
    """A new browser context: another person's browser, with no cookie of its own."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def type_name(page, name: str) -> None:
    box = page.get_by_role("textbox", name=NAME_BOX)
    box.fill(name)
    box.press("Enter")
    page.wait_for_timeout(800)  # the rerun that stores it


def name_shown(page) -> str:
    page.wait_for_timeout(1500)  # the page's rerun has filled the box (a page change draws it anew)
    box = page.get_by_role("textbox", name=NAME_BOX)
    box.wait_for()
    return box.input_value()


def commit_first_stage(page) -> None:
    page.get_by_role("heading", name=CASE.title).wait_for()
    form = page.get_by_test_id("stForm")
    for question in CASE.stages[0].questions:
        form.get_by_text(next(o.label for o in question.options if o.id == question.answer), exact=True).click()
    form.get_by_role("button", name="Commit answers").click()
    page.get_by_text("Feedback").wait_for()


def answered(page) -> str | None:
    """The "Questions answered" figure on My progress, or None when it says there is nothing yet."""
    page.get_by_role("heading", name="My progress").wait_for()
    page.wait_for_timeout(500)
    if page.get_by_text("No answers yet", exact=False).count():
        return None
    metric = page.get_by_test_id("stMetric").filter(has_text="Questions answered")
    metric.wait_for()
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def wait_for_cookie(page, seconds: float = 10) -> None:
    """The browser holds the learner cookie within ``seconds`` (the page writes it by a script)."""
    deadline = time.monotonic() + seconds
    while not any(c["name"] == "quiz_learner" for c in page.context.cookies()):
        assert time.monotonic() < deadline, "the page never wrote the learner cookie"
        page.wait_for_timeout(100)


def go(page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")


def test_two_browsers_one_name_page_change_reload_and_another_device(browser, tmp_path):
    shots = os.environ.get("QUIZ_SCREENSHOTS")
    mine = str(len(CASE.stages[0].questions))
    with running_app({"QUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'identity.sqlite3'}"}) as url:
        alice = person(browser)
        go(alice, url, f"?case={CASE.id}")
        alice.get_by_role("heading", name=CASE.title).wait_for()  # no name needed to open a case
        type_name(alice, "Alice")
        commit_first_stage(alice)
        assert any(c["name"] == "quiz_learner" for c in alice.context.cookies())  # the key, kept by the browser

        # A page change by the sidebar menu keeps the name (new-user B2).
        for title in ("Review", "My progress"):
            alice.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
            alice.get_by_role("heading", name=title).wait_for()
            assert name_shown(alice) == "Alice", title
        assert answered(alice) == mine

        # Another person types the same name, and look-alikes: nothing of Alice's (security probe F16).
        other = person(browser)
        go(other, url, "progress")
        for look_alike in ("Alice", "alice", "Alice\u200b"):
            type_name(other, look_alike)
            assert answered(other) is None, look_alike
        go(other, url, "progress?learner=Alice")  # the old name link opens nothing either
        other.get_by_text("no longer open anyone's progress", exact=False).wait_for()
        assert answered(other) is None and "learner=" not in other.url
        if shots:
            other.screenshot(path=f"{shots}/identity-other-person.png", full_page=True)

        # A reload, and a new tab of the same browser, keep the progress and the name.
        alice.reload()
        assert answered(alice) == mine and name_shown(alice) == "Alice"
        tab = alice.context.new_page()
        tab.set_default_timeout(30_000)
        go(tab, url, "progress")
        assert answered(tab) == mine and name_shown(tab) == "Alice"
        tab.close()

        # Continue on another device: the private link, shown only when asked for, moves the record.
        alice.get_by_text("Continue on another device").click()
        alice.get_by_text("Show my private link").click()
        code = alice.get_by_test_id("stCode").filter(has_text="?resume=").first
        code.wait_for()
        link = re.search(r"\S+\?resume=[A-Za-z0-9_-]+", code.inner_text()).group(0)
        assert link.startswith(url)
        if shots:
            alice.screenshot(path=f"{shots}/identity-continue.png", full_page=True)
        phone = person(browser)
        phone.goto(link)
        phone.get_by_text("now continues your progress", exact=False).wait_for()
        assert "resume=" not in phone.url  # the key leaves the address bar at once
        wait_for_cookie(phone)  # written by the page itself, as soon as the link is taken
        go(phone, url, "progress")
        assert answered(phone) == mine and name_shown(phone) == "Alice"
        phone.reload()  # the phone keeps it in its own cookie
        assert answered(phone) == mine
        assert answered(other) is None  # and the other person still has nothing
        for page in (alice, other, phone):
            page.context.close()
