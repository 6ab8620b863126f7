"""The differential pad on a phone in a real browser: type-ahead by synonym, commit, the comparison, the reveal."""
from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from conftest import REPO
from quiz.content import loader
from quiz.ui.text import unformatted
from streamlit_server import running_app

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def shoot(page, name: str) -> None:
    folder = os.environ.get("QUIZ_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def pick(page, box, typed: str, option: str) -> None:
    """Choose `option` in a multiselect by typing. A fragment rerun can redraw the box just as it opens, so
    the list is reopened (a few times at most) until the option shows."""
    for attempt in range(4):
        box.locator("input").click()
        page.keyboard.type(typed)
        choice = page.get_by_role("option").filter(has_text=option).first
        try:
            choice.wait_for(timeout=5_000 if attempt < 3 else 30_000)
        except Exception:
            page.keyboard.press("Escape")
            page.evaluate("document.activeElement.blur()")
            continue
        choice.click()
        page.keyboard.press("Escape")
        return
    raise AssertionError(f"{option!r} never showed in the picker")


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
                page.get_by_text("Your differential beside an expert's").scroll_into_view_if_needed()
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


def test_the_stage_in_play_reruns_on_its_own_and_the_page_still_follows(browser, tmp_path):
    """Pad edits, the commit and Continue rerun fragments: the progress bar above them, the folded stage,
    the carried-over pad and the flags and findings kept folded away must all still be right, and a reload
    must rebuild the page from the record: the last commit's feedback, then the carried-over pad."""
    import sqlalchemy as sa

    from quiz.store import Store, attempts

    content = loader.load_content(REPO / "content")
    case = max(content.cases.values(), key=lambda c: len(c.stages))
    total = len(case.stages)
    entries = [e.diagnosis for e in case.stages[0].differential][:2]
    names = [content.catalogue[d].label for d in entries]
    finding = next(f for f in case.stages[0].findings if f.id)
    database = tmp_path / "fragments.sqlite3"
    with running_app({"QUIZ_DATABASE_URL": f"sqlite:///{database}"}) as url:
        page = browser.new_page(viewport=PHONE)
        page.set_default_timeout(30_000)
        page.goto(f"{url}/?case={case.id}")
        page.get_by_text(f"Stage 1 of {total}", exact=True).wait_for()  # the progress bar
        box = page.get_by_test_id("stMultiSelect").first
        for name in names:
            box.locator("input").click()
            page.keyboard.type(name)
            page.get_by_role("option").filter(has_text=name).first.click()
            page.keyboard.press("Escape")
            box.get_by_text(name, exact=False).first.wait_for()
        # the type-ahead keeps the focus, and Streamlit's picker swallows the next tap elsewhere: leave it first
        page.evaluate("document.activeElement.blur()")
        details = page.get_by_test_id("stCheckbox").filter(has_text="Must-not-miss flags")
        details.click()
        flags = page.get_by_test_id("stMultiSelect").filter(has_text="Must not miss")
        pick(page, flags, names[1][:12], names[1])
        flags.get_by_text(names[1], exact=False).first.wait_for()
        supports = page.get_by_test_id("stMultiSelect").filter(has_text="Supported by")
        pick(page, supports, unformatted(finding.text)[:12], unformatted(finding.text)[:40])
        page.evaluate("document.activeElement.blur()")
        details.click()  # folded away: what was set stays, and the switch says how much
        page.get_by_text("(2 set)", exact=False).first.wait_for()
        expect(page.get_by_test_id("stMultiSelect").filter(has_text="Must not miss")).to_have_count(0)
        form = page.get_by_test_id("stForm")
        for question in case.stages[0].questions:
            form.get_by_text(next(o.label for o in question.options if o.id == question.answer), exact=True).click()
        form.get_by_role("button", name="Commit answers").click()
        page.get_by_text("Your differential beside an expert's").wait_for()  # the commit reran the answers only:
        page.get_by_text(case.stages[0].heading, exact=False).first.wait_for()  # the stage's findings stay above
        page.get_by_role("button", name="Continue to stage 2").click()
        page.get_by_text(f"Stage 2 of {total}", exact=True).wait_for()  # the bar, drawn above the fragment, by it
        page.get_by_text(f"✔ Stage 1 of {total}", exact=False).first.wait_for()
        carried = page.get_by_test_id("stMultiSelect").first
        for name in names:  # the pad carries over for revision
            carried.get_by_text(name, exact=False).first.wait_for()
        shoot(page, "pad-phone-stage-2")
        page.reload()  # Continue is the tab's own step: a reload rebuilds from the record, at the last commit
        page.get_by_text(f"Stage 1 of {total}", exact=True).wait_for()
        page.get_by_text("Your differential beside an expert's").wait_for()
        page.get_by_role("button", name="Continue to stage 2").click()
        page.get_by_text(f"Stage 2 of {total}", exact=False).first.wait_for()
        carried = page.get_by_test_id("stMultiSelect").first
        for name in names:
            carried.get_by_text(name, exact=False).first.wait_for()
        page.close()
    db = Store(f"sqlite:///{database}")
    [attempt] = db.run(lambda conn: conn.execute(sa.select(attempts.c.id)).scalars().all(), write=False)
    kept = db.stage_reasoning(attempt)[0]["pad"]["entries"]
    assert [e["diagnosis"] for e in kept] == entries
    assert [bool(e.get("must_not_miss")) for e in kept] == [False, True]
    assert finding.id in kept[0].get("supports", [])
