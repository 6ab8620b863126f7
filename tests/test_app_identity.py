"""Issue 10 part 1 in the real app (AppTest): a learner's record is theirs.

Security probe F16 (anyone who typed "Alice" read and deleted Alice's history), new-user B2 (the
name was lost on every page change) and B12 (``?learner=`` opened anyone's history). Each session
here is one browser: :func:`as_learner` gives it the key its cookie would hold.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from apptest_support import (answer_stage, as_learner, assert_no_exception, fresh_app, learner_key, learner_of,
                             page_app, page_text)
from conftest import REPO
from quiz import identity
from quiz import store as store_module
from quiz.content import loader
from quiz.play import engine
from quiz.ui import common

CASES = loader.load_content(REPO / "content").cases
CASE = min(CASES.values(), key=lambda c: len(c.stages))


pytestmark = pytest.mark.usefixtures("database")  # conftest.py: a fresh SQLite file per test


def best(question):
    return question.answer


def answers_stored(url: str) -> int:
    return store_module.open_store(url).run(lambda conn: conn.execute(
        sa.select(sa.func.count()).select_from(store_module.answers)).scalar(), write=False)


def learners_stored(url: str) -> int:
    return store_module.open_store(url).run(lambda conn: conn.execute(
        sa.select(sa.func.count()).select_from(store_module.learners)).scalar(), write=False)


def named(at: AppTest, name: str) -> AppTest:
    at.text_input(key=common.NAME_WIDGET).input(name).run()
    assert_no_exception(at)
    return at


def answered(dashboard: AppTest) -> str | None:
    """The "Questions answered" figure on My progress, or None when the page says there is nothing yet."""
    metrics = {m.label: m.value for m in dashboard.metric}
    return metrics.get("Questions answered")


def test_f16_two_browsers_with_the_same_name_never_see_each_others_progress(database):
    alice = named(fresh_app(case=CASE.id, learner="browser A"), "Alice")
    answer_stage(alice, CASE, 0, best)
    mine = len(CASE.stages[0].questions)
    assert answers_stored(database) == mine

    # Browser B, sharing no cookie, types the very same name (and look-alikes) on My progress.
    for look_alike in ("Alice", "alice", "Alice\u200b", "\u202eAlice"):
        other = named(page_app("dashboard", learner=f"browser B {look_alike!r}"), look_alike)
        assert answered(other) == "0" and "No answers yet" in page_text(other)  # typing a name made B a record
    # B plays too: its answers are its own, A's stay A's.
    bob = named(fresh_app(case=CASE.id, learner="browser B"), "Alice")
    answer_stage(bob, CASE, 0, best)
    a_page, b_page = page_app("dashboard", learner="browser A"), page_app("dashboard", learner="browser B")
    assert answered(a_page) == answered(b_page) == str(mine)
    # B deletes "Alice's" progress: only its own goes.
    b_page.checkbox(key="reset-confirm").check().run()
    b_page.button(key="reset-progress").click().run()
    assert_no_exception(b_page)
    assert answers_stored(database) == mine and answered(page_app("dashboard", learner="browser A")) == str(mine)


def test_b12_a_learner_link_opens_no_ones_progress(database):
    answer_stage(named(fresh_app(case=CASE.id, learner="browser A"), "Alice"), CASE, 0, best)
    for page in ("dashboard", "review", "library", "exam"):
        at = AppTest.from_string(f"from quiz.ui import {page}\n{page}.render()\n", default_timeout=60)
        at.query_params["learner"] = "Alice"
        at.run()
        assert_no_exception(at)
        text = page_text(at)
        assert "no longer open anyone's progress" in text, page
        assert "learner" not in at.query_params  # dropped from the address
        assert at.text_input(key=common.NAME_WIDGET).value == ""  # not Alice's label either
        assert answered(at) is None and "Completed" not in text and "In progress" not in text
    player = AppTest.from_string("from quiz.ui import library\nlibrary.render()\n", default_timeout=60)
    player.query_params.update({"learner": "Alice", "case": CASE.id})
    player.run()
    assert "Feedback" not in page_text(player)  # Alice's committed stage is not shown: a fresh attempt
    assert learners_stored(database) == 1  # and looking created nobody


def test_a_case_opens_without_a_name_and_the_first_answer_makes_the_record(database):
    at = fresh_app(case=CASE.id)  # a first visit: no cookie, no name
    assert_no_exception(at)
    assert "display name" not in " ".join(i.value for i in at.info)  # no "type a name to start" dead end
    assert any(b.label == "Commit answers" for b in at.button) and learners_stored(database) == 0
    shown = {r.key.rsplit("-", 1)[-1]: list(r.options) for r in at.radio}
    key = at.session_state[common.KEY_STATE]
    assert identity.is_browser_key(key) and not at.get("html")  # no cookie before anything is stored
    at = answer_stage(at, CASE, 0, best)
    assert_no_exception(at)
    assert "Feedback" in page_text(at) and learners_stored(database) == 1
    db = store_module.open_store(database)
    learner = db.learner_for_key(key)
    [attempt] = db.attempts(learner)
    ask = {q.id: [o.label for o in engine.ask(q, attempt.seed).options] for q in CASE.stages[0].questions}
    assert {q: ask[q] for q in shown if q in ask} == {q: v for q, v in shown.items() if q in ask}  # same order
    [script] = [h for h in at.get("html") if common.COOKIE in h.proto.body]
    body = script.proto.body
    assert f"{common.COOKIE}={key}" in body and "SameSite=Lax" in body and "Max-Age=" in body
    assert script.proto.unsafe_allow_javascript


def test_b2_the_name_survives_a_page_change_and_a_reload(database):
    navigation = ("import streamlit as st\nfrom quiz.ui import dashboard, library, review\n"
                  "page = st.session_state.get('test-page', 'cases')\n"
                  "st.navigation([st.Page(library.render, title='Cases', url_path='cases', default=page == 'cases'),"
                  " st.Page(review.render, title='Review', url_path='review', default=page == 'review'),"
                  " st.Page(dashboard.render, title='My progress', url_path='progress', default=page == 'progress')"
                  "]).run()\n")
    at = AppTest.from_string(navigation, default_timeout=60)
    as_learner(at, "Renata")
    at.run()
    named(at, "Dr Renata")
    for page in ("review", "progress", "cases"):
        at.session_state["test-page"] = page
        at.run()
        assert_no_exception(at)
        assert at.text_input(key=common.NAME_WIDGET).value == "Dr Renata", page
    again = page_app("dashboard", learner="Renata")  # a reload, or the server restarted: a new session
    assert again.text_input(key=common.NAME_WIDGET).value == "Dr Renata"
    db = store_module.open_store(database)
    assert db.display_name(learner_of(db, "Renata")) == "Dr Renata"
    cleared = named(again, "")
    assert db.display_name(learner_of(db, "Renata")) is None and cleared.text_input(key=common.NAME_WIDGET).value == ""


def test_a_typed_name_is_cleaned_before_it_is_kept(database):
    named(page_app("dashboard", learner="Ed"), "  \u202eEd\u200b  Wood ")
    db = store_module.open_store(database)
    assert db.display_name(learner_of(db, "Ed")) == "Ed Wood"


def test_continue_on_another_device_moves_the_record_and_leaves_the_url(database):
    answer_stage(fresh_app(case=CASE.id, learner="laptop"), CASE, 0, best)
    laptop = page_app("dashboard", learner="laptop")
    text = page_text(laptop)
    assert "Continue on another device" in text and learner_key("laptop") not in text  # hidden until asked
    laptop.toggle(key="show-resume-link").set_value(True).run()
    [link] = [c.value for c in laptop.code if "?resume=" in c.value]
    key = identity.parse_key(link)
    assert key == learner_key("laptop")

    phone = page_app("dashboard", resume=key)  # the phone opens the link: no cookie of its own
    assert_no_exception(phone)
    assert "resume" not in phone.query_params  # the key leaves the address bar at once
    assert "now continues your progress" in page_text(phone)
    assert answered(phone) == str(len(CASE.stages[0].questions))
    assert phone.session_state[common.KEY_STATE] == key
    assert any(f"{common.COOKIE}={key}" in h.proto.body for h in phone.get("html"))  # kept in the phone's cookie

    tablet = page_app("dashboard")  # or the code is typed on My progress
    tablet.text_input(key="resume-pasted").input(f"  {link} ")
    tablet = next(b for b in tablet.button if b.label == "Continue with this progress").click().run()
    assert_no_exception(tablet)
    assert answered(tablet) == str(len(CASE.stages[0].questions))


def test_a_bad_resume_link_opens_nothing_and_says_so(database):
    answer_stage(fresh_app(case=CASE.id, learner="laptop"), CASE, 0, best)
    for value in ("Alice", identity.new_key()):
        at = page_app("dashboard", resume=value)
        assert_no_exception(at)
        assert "resume" not in at.query_params
        assert [e.value for e in at.error if "resume" in e.value or "opens no progress" in e.value]
        assert answered(at) is None
    assert learners_stored(database) == 1
