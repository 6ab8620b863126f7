"""In a real browser: a problem on the Author page takes the author to its line of the pasted draft."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from conftest import REPO
from quiz.ui import author
from streamlit_server import running_app

pytestmark = pytest.mark.browser

CASE = sorted((REPO / "content" / "cases").glob("*.yaml"))[0]


def test_go_to_line_puts_the_caret_on_the_problem_line(browser, tmp_path):
    lines = CASE.read_text(encoding="utf-8").splitlines()
    wrong = next(i for i, line in enumerate(lines) if re.match(r"^\s+answer:\s", line))
    lines[wrong] = re.sub(r"answer:.*", "answer: no-such-option", lines[wrong])
    draft = "\n".join(lines) + "\n"
    env = {"QUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'author.sqlite3'}"}
    with running_app(env) as url:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{url}/author")
        box = page.get_by_label(author.PASTE_LABEL)
        box.wait_for(timeout=30_000)
        box.fill(draft)
        box.press("Control+Enter")  # Streamlit applies a text area's value on Ctrl+Enter or blur
        page.get_by_text("Errors make the case unplayable").wait_for(timeout=30_000)
        page.get_by_text(f"line {wrong + 1}, column").first.click()  # open the problem's expander
        go_to = page.get_by_role("button", name=f"Go to line {wrong + 1} in the draft")
        go_to.click()
        request = page.locator("script[data-request]")
        try:  # a click that lands while the check's rerun is still running can be dropped by the page
            request.wait_for(state="attached", timeout=8_000)
        except PlaywrightTimeoutError:
            go_to.click()
            request.wait_for(state="attached", timeout=15_000)
        page.wait_for_function(
            "label => { const b = document.querySelector(`textarea[aria-label=\"${label}\"]`);"
            " return b && document.activeElement === b && b.selectionEnd > b.selectionStart; }",
            arg=author.PASTE_LABEL, timeout=15_000)
        start, end, top = box.evaluate("b => [b.selectionStart, b.selectionEnd, b.scrollTop]")
        value = box.input_value()
        assert value[:start].count("\n") == wrong  # the caret is on the problem's line ...
        assert value[start:end] == lines[wrong]  # ... and the whole line is selected
        assert top > 0  # the draft scrolled to it (the line is far below the first screen) ...
        # ... so that the selected line is inside the box's visible part
        caret_y = box.evaluate(
            "b => { const t = b.cloneNode(); t.style.cssText += ';position:absolute;visibility:hidden;height:0;';"
            " t.style.width = b.offsetWidth + 'px'; b.parentNode.appendChild(t);"
            " t.value = b.value.slice(0, b.selectionStart); const y = t.scrollHeight; t.remove(); return y; }")
        assert top <= caret_y <= top + box.evaluate("b => b.clientHeight")
        page.screenshot(path=str(tmp_path / "author-goto.png"))
        # the problems table shows each message whole, up to its last word
        table = page.get_by_test_id("stTable")
        table.scroll_into_view_if_needed()
        cell = table.get_by_text("'no-such-option' is not one of the options")
        assert cell.is_visible()
        message = cell.inner_text()
        assert message.rstrip().endswith(")") and "drug-induced-liver-injury" in message, message
        page.screenshot(path=str(tmp_path / "author-table.png"))
