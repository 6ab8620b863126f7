"""The live-class pages through AppTest: one instructor and several students on one database.

Each ``AppTest`` is one browser session; they share the database named by QUIZ_DATABASE_URL
(a SQLite file, or PostgreSQL with QUIZ_TEST_POSTGRES_URL set) exactly as browser sessions of
one or several Streamlit processes do.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import logging
import re

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

import factories
from apptest_support import page_text
from class_support import BACKENDS, PASSCODE, database_url
from conftest import REPO
from quiz import classroom
from quiz import store as store_module
from quiz.ui import class_host, class_student

CASE = factories.load_case()
TOTAL = len(CASE.stages)
LATER = [f.text for stage in CASE.stages[1:] for f in stage.findings]
HIDDEN_UNTIL_REVEAL = ("EXPLAIN", "KEYNOTE")
HIDDEN_UNTIL_END = ("REVEALED",)


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path, monkeypatch):
    url = database_url(request.param, tmp_path)
    content = factories.write_content(tmp_path / "content")
    monkeypatch.setenv("QUIZ_CONTENT_DIR", str(content))
    monkeypatch.setenv("QUIZ_DATABASE_URL", url)
    monkeypatch.setenv("QUIZ_INSTRUCTOR_PASSCODE", PASSCODE)
    monkeypatch.delenv("QUIZ_PUBLIC_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    store_module.forget_stores()
    classroom.forget_polls()


def page(module: str, url_path: str, **query: str) -> AppTest:
    at = AppTest.from_string(f"from quiz.ui import {module}\n{module}.render()\n", default_timeout=30)
    at.context["url"] = f"http://class.test:8501/{url_path}"
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def sent(at: AppTest) -> str:
    """Everything the page sent to the browser, element by element (protos in text form)."""
    parts: list[str] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts) + "\n" + page_text(at)


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def instructor(passcode: str = PASSCODE) -> AppTest:
    at = ok(page("class_host", class_host.URL_PATH))
    at.text_input(key="class-passcode-input").input(passcode)
    at.button[0].click()
    return ok(at.run())


def host_do(at: AppTest, action: str) -> AppTest:
    return ok(at.button(key=f"class-do-{action}").click().run())


def student(code: str, nickname: str) -> AppTest:
    at = ok(page("class_student", "class", join=code))
    at.text_input(key="class-nickname-input").input(nickname)
    next(b for b in at.button if b.label == "Join").click()
    return ok(at.run())


def radio(at: AppTest, question_id: str):
    return next(r for r in at.radio if r.key.endswith(f"-{question_id}"))


def sure(at: AppTest, question_id: str):
    """The certainty radio under a question (sessions made on the instructor's page ask it by default)."""
    return next(r for r in at.radio if r.key.endswith(f"-{question_id}-certainty"))


def answer(at: AppTest, question_id: str, option_id: str, certainty: str | None = "high") -> AppTest:
    """A phone taps an option and (unless None) how sure it is; both taps reach the server in one rerun."""
    radio(at, question_id).set_value(option_id)
    if certainty is not None:
        sure(at, question_id).set_value(certainty)
    return at.run()


def test_without_a_passcode_the_page_explains_how_to_set_one(database, monkeypatch):
    monkeypatch.delenv("QUIZ_INSTRUCTOR_PASSCODE")
    at = ok(page("class_host", class_host.URL_PATH))
    text = page_text(at)
    assert "QUIZ_INSTRUCTOR_PASSCODE" in text and "secrets.toml" in text and "no default" in text
    assert not at.text_input and not at.button


def test_the_passcode_may_come_from_streamlit_secrets(database, monkeypatch):
    monkeypatch.delenv("QUIZ_INSTRUCTOR_PASSCODE")
    at = AppTest.from_string("from quiz.ui import class_host\nclass_host.render()\n", default_timeout=30)
    at.secrets["instructor_passcode"] = "from-secrets"
    ok(at.run())
    at.text_input(key="class-passcode-input").input("from-secrets")
    at.button[0].click()
    ok(at.run())
    assert at.button(key="class-create")


def test_a_wrong_passcode_is_refused(database):
    at = instructor("not-the-passcode")
    assert "Wrong passcode" in page_text(at)
    assert not [b for b in at.button if (b.key or "").startswith("class-create")]
    assert class_host.PASSCODE_KEY not in at.session_state


def test_a_room_plays_a_case_from_join_to_reveal(database):
    host = instructor()
    assert "Start a new session" in page_text(host)
    assert "REVEALED" not in sent(host), "the case picker shows titles, never the diagnosis"
    host = ok(host.button(key="class-create").click().run())
    code = host.session_state[class_host.HOST_KEY].code
    lobby = sent(host)
    assert f"http://class.test:8501/?join={code}" in lobby and code in lobby
    assert "Scan to join" in lobby, "a QR code is shown"
    assert class_host.HOST_KEY not in str(host.query_params) and "token" not in str(host.query_params)

    # Ann and Cy follow the link; Bob types the code (lower case, with a space).
    ann = student(code, "Ann")
    cy = student(code, "Cy")
    bob = ok(page("class_student", "class"))
    bob.text_input(key="class-code-input").input(code.lower()[:3] + " " + code.lower()[3:])
    next(b for b in bob.button if b.label == "Next").click()
    ok(bob.run())
    assert bob.query_params["join"] == code
    bob.text_input(key="class-nickname-input").input("Bob")
    next(b for b in bob.button if b.label == "Join").click()
    ok(bob.run())
    for at, name in ((ann, "Ann"), (bob, "Bob"), (cy, "Cy")):
        assert name in [t.value for t in at.text], "nickname shown as plain text"
        assert "You're in" in page_text(at)
        assert not at.radio

    host = ok(host.run())
    assert host.metric[0].value == "3"
    host = host_do(host, "start")
    for at in (ann, bob, cy):
        ok(at.run())
        text = sent(at)
        assert CASE.stages[0].findings[0].text in text and "Answering opens soon" in text
        assert not at.radio
    host = host_do(host, "open")
    q_dx, q_next = CASE.stages[0].questions
    ann.run()
    ok(answer(ann, q_dx.id, q_dx.answer))
    assert "Saved: Soft-tissue sarcoma" in page_text(ann)
    ok(answer(ann, q_next.id, q_next.answer))
    bob.run()
    ok(answer(bob, q_dx.id, "lipoma"))
    ok(answer(bob, q_dx.id, "schwannoma"))  # a change of mind
    cy.run()
    ok(answer(cy, q_dx.id, "lipoma"))
    for at in (ann, bob, cy):
        text = sent(at)
        for secret in (*HIDDEN_UNTIL_REVEAL, *HIDDEN_UNTIL_END, *LATER):
            assert secret not in text, f"{secret!r} reached a student page before the reveal"

    host = ok(host.run())
    metrics = {m.label: m.value for m in host.metric}
    assert metrics == {"Joined": "3", "Answered": "1 of 3"}
    charts = [c for c in host.get("arrow_vega_lite_chart")] or host.get("vega_lite_chart")
    assert charts, "a live chart per question"
    store = store_module.open_store(database)
    assert classroom.tallies(store, host.session_state[class_host.HOST_KEY].session_id, [q_dx.id]) == {
        q_dx.id: {q_dx.answer: 1, "schwannoma": 1, "lipoma": 1}}

    host = host_do(host, "close")
    ok(answer(cy, q_dx.id, q_dx.answer))  # Cy's page was drawn before answering closed
    assert "Answering is closed" in page_text(cy)
    assert radio(cy, q_dx.id).value == "lipoma", "the page shows what is really stored"
    assert radio(cy, q_dx.id).disabled

    host = host_do(host, "reveal")
    for at in (ann, bob, cy):
        ok(at.run())
        text = sent(at)
        assert "EXPLAIN" in text and "KEYNOTE" in text
        assert "REVEALED" not in text and not any(t in text for t in LATER)
    assert "You chose **Soft-tissue sarcoma**" in page_text(ann) and "Correct" in page_text(ann)
    assert "Partly right" in page_text(bob)
    assert "You did not answer" in page_text(cy)
    assert "How the class answered" in page_text(cy)

    late = student(code, "Late")
    assert "KEYNOTE" in sent(late) and CASE.stages[0].findings[0].text in sent(late)

    for index in range(1, TOTAL):
        host = host_do(host, "advance")
        ok(late.run())
        assert f"Stage {index + 1} of {TOTAL}" in page_text(late), "a late joiner follows to the current stage"
        host = host_do(host, "open")
        ann.run()
        for question in CASE.stages[index].questions:
            ok(answer(ann, question.id, question.answer))
        host = host_do(host, "reveal")
    host = host_do(host, "advance")
    assert "REVEALED diagnosis" in page_text(host)
    for at in (ann, bob, cy, late):
        ok(at.run())
        assert "REVEALED management" in page_text(at) and "REVEALED outcome" in page_text(at)
    assert {m.label: m.value for m in ann.metric}["Your score so far"] == "100%"

    frames = {tuple(f.value.columns): f.value for f in host.dataframe}
    per_student = next(v for k, v in frames.items() if "nickname" in k and "score" in k)
    assert sorted(per_student["nickname"]) == ["Ann", "Bob", "Cy", "Late"]
    assert per_student.set_index("nickname").loc["Ann", "percent"] == 100.0
    stage_table = next(v for k, v in frames.items() if "% correct (of answers)" in k)
    assert list(stage_table["Stage"]) == [1, 2, 3]
    assert host.get("download_button")[0].label.startswith("Download all answers")
    csv_text = classroom.results_csv(classroom.result_rows(store, host.session_state[class_host.HOST_KEY], CASE))
    assert csv_text.count("\n") == 1 + 4 + 2 * (TOTAL - 1)

    host.button(key="class-do-end").click()
    host = ok(host.run())
    for at in (ann, late):
        ok(at.run())
        assert "has ended" in page_text(at) and "REVEALED management" in page_text(at)
    newcomer = ok(page("class_student", "class", join=code))
    assert "has ended" in page_text(newcomer)


def test_a_student_cannot_act_as_instructor(database):
    host = ok(instructor().button(key="class-create").click().run())
    real = host.session_state[class_host.HOST_KEY]
    ann = student(real.code, "Ann")
    assert class_host.HOST_KEY not in ann.session_state and class_host.PASSCODE_KEY not in ann.session_state
    assert not [b for b in ann.button if (b.key or "").startswith("class-do-")]
    assert real.token not in sent(ann) and real.token not in sent(host), "the token is never sent to a page"

    # The student opens the instructor page: the passcode gate, whatever the URL says.
    sneaky = ok(page("class_host", class_host.URL_PATH, join=real.code, host=real.code, token="x"))
    assert sneaky.text_input(key="class-passcode-input").label == "Instructor passcode"
    assert not [b for b in sneaky.button if (b.key or "").startswith("class-do-")]

    # A session holding a guessed token (it cannot come from a browser, but still): no controls, no results.
    forged = ok(instructor())
    forged.session_state[class_host.HOST_KEY] = classroom.Host(real.session_id, real.code, "guessed")
    ok(forged.run())
    assert "Another instructor window has taken control" in page_text(forged)
    assert not [b for b in forged.button if (b.key or "").startswith("class-do-")]
    assert "Take control of the session in this window" in page_text(forged)
    assert classroom.session_state(store_module.open_store(database), real.session_id).phase == classroom.LOBBY

    # The real instructor's window still steers.
    host = ok(host.run())
    assert [b for b in host.button if (b.key or "").startswith("class-do-")]


def test_a_nickname_in_use_is_refused_and_another_one_joins(database):
    host = ok(instructor().button(key="class-create").click().run())
    code = host.session_state[class_host.HOST_KEY].code
    student(code, "Ann")
    other = student(code, "ann")
    text = page_text(other)
    assert "already uses the nickname" in text and "choose another nickname" in text
    assert class_student.STUDENT_KEY not in other.session_state
    other.text_input(key="class-nickname-input").input("<b>Ann 2</b>")
    next(b for b in other.button if b.label == "Join").click()
    ok(other.run())
    assert "<b>Ann 2</b>" in [t.value for t in other.text], "shown verbatim as plain text, never as HTML"


def test_wrong_codes_get_a_clear_message(database):
    at = ok(page("class_student", "class", join="ZZZZZZ"))
    assert "No class session has the code ZZZZZZ" in page_text(at)
    at = ok(page("class_student", "class", join="hello!"))
    assert "is not a join code" in page_text(at)
    at = ok(page("class_student", "class"))
    at.text_input(key="class-code-input").input("12")
    next(b for b in at.button if b.label == "Next").click()
    assert "is not a join code" in page_text(ok(at.run()))


def test_a_restart_mid_session_resumes_everyone(database):
    host = ok(instructor().button(key="class-create").click().run())
    code = host.session_state[class_host.HOST_KEY].code
    ann = student(code, "Ann")
    host = host_do(host_do(host, "start"), "open")
    q_dx = CASE.stages[0].questions[0]
    ok(ann.run())
    ok(answer(ann, q_dx.id, "abscess"))
    seat = query(ann)[classroom.SEAT_PARAM]

    store_module.forget_stores()  # the server restarts: every browser session is new
    classroom.forget_polls()
    st.cache_data.clear()
    st.cache_resource.clear()

    host = instructor()
    assert code in page_text(host), "the running session is offered for resuming"
    host = ok(host.button(key=f"class-resume-{code}").click().run())
    assert {m.label for m in host.metric} >= {"Joined", "Answered"}
    assert "Answering open" in page_text(host)

    back = ok(page("class_student", "class", join=code, seat=seat))  # the phone reloads its URL
    assert "Ann" in [t.value for t in back.text], "the seat comes back by itself"
    assert radio(back, q_dx.id).value == "abscess", "answers are kept"
    ok(answer(back, q_dx.id, q_dx.answer))
    host = host_do(host, "reveal")
    ok(back.run())
    assert "Correct" in page_text(back)


def test_the_join_link_lands_on_the_student_page(database):
    host = ok(instructor().button(key="class-create").click().run())
    code = host.session_state[class_host.HOST_KEY].code
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.query_params["join"] = code
    ok(at.run())
    assert "Join a class" in page_text(at) and at.text_input(key="class-nickname-input")
    plain = ok(AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run())
    assert "Join a class" not in [t.value for t in plain.title]


# --- live-class review (B2-B8) and security probe (F12, F15, S1): each reproduced first -----------

def in_order(at: AppTest) -> list:
    """Every element of the page's main area, in the order a reader sees them."""
    return [node for node in at.main if not isinstance(node, Block)]


def stored_answers(url: str, student_id: int) -> dict[str, str]:
    rows = store_module.open_store(url).run(lambda conn: conn.execute(
        sa.select(store_module.class_answers.c.question_id, store_module.class_answers.c.option_id)
        .where(store_module.class_answers.c.student_id == student_id)).all(), write=False)
    return dict(rows)


def query(at: AppTest) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def open_session(*actions: str) -> tuple[AppTest, str]:
    host = ok(instructor().button(key="class-create").click().run())
    for action in actions:
        host = host_do(host, action)
    return host, host.session_state[class_host.HOST_KEY].code


def test_a_second_phone_cannot_become_a_student_by_typing_their_nickname(database):
    """B2 / F15: Ann answers; a second phone types "ann" (or opens ?nick=Ann) and must not
    become Ann, see her answer or change it."""
    host, code = open_session("start", "open")
    ann = student(code, "Ann")
    q_dx = CASE.stages[0].questions[0]
    ok(answer(ann, q_dx.id, q_dx.answer))
    ann_id = ann.session_state[class_student.STUDENT_KEY].id
    typed, linked = student(code, "ann"), ok(page("class_student", "class", join=code, nick="Ann"))
    assert "ask your instructor to release your seat" in page_text(typed)
    for thief in (typed, linked):
        takeover = [b for b in thief.button if b.label.startswith("Yes")]
        if takeover:  # the old page offered "Yes, that's me: continue" to anyone
            ok(takeover[0].click().run())
        assert class_student.STUDENT_KEY not in thief.session_state, "the nickname alone gave a seat"
        assert not thief.radio, "another student's answers were on this phone"
    assert stored_answers(database, ann_id) == {q_dx.id: q_dx.answer}


def test_a_reload_on_the_same_phone_keeps_nickname_and_answers(database):
    """Joining gives the phone a seat secret, in its URL; only its hash is stored."""
    host, code = open_session("start", "open")
    ann = student(code, "Ann")
    q_dx = CASE.stages[0].questions[0]
    ok(answer(ann, q_dx.id, "abscess"))
    params = query(ann)
    seat = params.get(classroom.SEAT_PARAM)
    assert seat and len(seat) >= 20 and "Ann" not in params.values(), "the URL holds a secret, not the nickname"
    hashes = store_module.open_store(database).run(lambda conn: conn.execute(
        sa.select(store_module.class_students.c.seat_hash)).scalars().all(), write=False)
    assert hashes == [hashlib.sha256(seat.encode()).hexdigest()], "only the hash of the seat is stored"

    back = ok(page("class_student", "class", **params))  # a reload, or the browser reopened the tab
    assert class_student.STUDENT_KEY in back.session_state, "the same phone comes back without typing anything"
    assert "Ann" in [t.value for t in back.text]
    assert radio(back, q_dx.id).value == "abscess", "answers are kept"
    ok(answer(back, q_dx.id, q_dx.answer))
    assert stored_answers(database, ann.session_state[class_student.STUDENT_KEY].id) == {q_dx.id: q_dx.answer}

    forged = ok(page("class_student", "class", join=code, seat=seat[:-2] + "xx"))
    assert class_student.STUDENT_KEY not in forged.session_state and not forged.radio


def test_the_instructor_releases_a_seat_for_a_new_phone_and_removes_a_student(database):
    host, code = open_session("start", "open")
    ann, bob = student(code, "Ann"), student(code, "Bob")
    q_dx = CASE.stages[0].questions[0]
    ok(answer(ann, q_dx.id, q_dx.answer))
    ok(answer(bob, q_dx.id, "lipoma"))
    ann_id = ann.session_state[class_student.STUDENT_KEY].id
    bob_id = bob.session_state[class_student.STUDENT_KEY].id

    new_phone = student(code, "Ann")  # Ann's phone died; she borrows one
    assert class_student.STUDENT_KEY not in new_phone.session_state
    assert "ask your instructor" in page_text(new_phone).lower()

    host = ok(host.run())
    names = [t.value for t in host.text]
    assert "Ann" in names and "Bob" in names, "the instructor sees the list of students"
    host = ok(host.button(key=f"class-release-{ann_id}").click().run())
    new_phone = student(code, "Ann")
    assert new_phone.session_state[class_student.STUDENT_KEY].id == ann_id
    assert radio(new_phone, q_dx.id).value == q_dx.answer, "the released seat keeps its answers"
    old_phone = ok(ann.run())
    assert class_student.STUDENT_KEY not in old_phone.session_state and not old_phone.radio
    assert "released" in page_text(old_phone)

    host = ok(host.button(key=f"class-remove-{bob_id}").click().run())
    assert "Bob" not in [t.value for t in host.text]
    assert stored_answers(database, bob_id) == {}
    gone = ok(bob.run())
    assert class_student.STUDENT_KEY not in gone.session_state and "removed" in page_text(gone)
    assert ok(host.run()).metric[0].value == "1"


def test_results_say_when_they_were_computed_and_refresh_on_demand(database):
    """B3: the Results tab said "0 answers" with answers in the database, and nothing marked it stale."""
    host, code = open_session("start", "open")
    ann = student(code, "Ann")
    host = ok(host.run())
    assert re.search(r"As of \d\d:\d\d:\d\d", page_text(host)), "the tables say when they were computed"
    assert "0 answers" in page_text(host)
    q_dx = CASE.stages[0].questions[0]
    ok(answer(ann, q_dx.id, q_dx.answer))
    host = ok(host.button(key="class-refresh-results").click().run())
    assert "1 answers" in page_text(host) or "1 answer" in page_text(host)


def test_a_saved_answer_shows_next_to_its_question_on_every_rerun(database):
    """B6: "Answer saved" was a message at the top, lost when another rerun came first."""
    host, code = open_session("start", "open")
    ann = student(code, "Ann")
    q_dx, q_next = CASE.stages[0].questions
    ok(answer(ann, q_dx.id, "lipoma"))
    for _ in range(2):  # the tap's own rerun, then any other (a poll, an interrupted run)
        elements = in_order(ann)
        below = elements[elements.index(sure(ann, q_dx.id)) + 1]
        assert below.type in ("caption", "markdown", "success") and "Saved" in below.value and "Lipoma" in below.value
        assert "high certainty" in below.value
        below_next = elements[elements.index(sure(ann, q_next.id)) + 1]
        assert "Saved" not in below_next.value
        ok(ann.run())
    host_do(host, "close")
    ok(answer(ann, q_next.id, "mri"))  # drawn before answering closed
    elements = in_order(ann)
    below = elements[elements.index(sure(ann, q_next.id)) + 1]
    assert below.type == "error" and "closed" in below.value, "a tap that was not stored says so by the question"


EVIL = "[Session moved: log in again](https://evil.example/login)"


def plain(body: str) -> bool:
    """No markdown link and no bare URL that a markdown renderer would turn into a link."""
    return "](" not in body and "://" not in body and "www." not in body


def test_url_values_in_class_error_boxes_are_plain_text(database):
    """B7 / F7: a value from the URL became a clickable link in the app's red error box."""
    host, code = open_session()
    boxes = []
    boxes += ok(page("class_student", "class", join=EVIL)).error
    typed = ok(page("class_student", "class"))
    typed.text_input(key="class-code-input").input(EVIL[:10])
    next(b for b in typed.button if b.label == "Next").click()
    boxes += ok(typed.run()).error
    nick = ok(page("class_student", "class", join=code, nick="[Log in](https://e.vil)"))
    for button in [b for b in nick.button if b.label.startswith("Yes")][:1]:
        ok(button.click().run())
    boxes += nick.error
    resume = ok(instructor())
    resume.text_input(key="class-resume-code").input("[x](https://e.vil)")
    next(b for b in resume.button if b.label == "Resume" and not (b.key or "").startswith("class-resume-")).click()
    boxes += ok(resume.run()).error
    assert len(boxes) >= 3
    for box in boxes:
        assert plain(box.value), box.value


def test_passcode_guesses_from_many_sessions_share_one_counter(database, caplog):
    """F12: the 1 s wait was per session, so parallel sessions multiplied guesses, with no lockout or log."""
    caplog.set_level(logging.WARNING, logger="quiz")
    for attempt in range(5):
        at = instructor(f"wrong-guess-{attempt}")
        assert "Wrong passcode" in page_text(at)
    locked = instructor("yet-another-guess")
    assert "Too many wrong passcodes" in page_text(locked) and re.search(r"\d\d:\d\d:\d\d", page_text(locked))
    right = instructor(PASSCODE)
    assert not [b for b in right.button if b.key == "class-create"], "no guess is tried while locked"
    assert "Too many wrong passcodes" in page_text(right)
    failures = [r for r in caplog.records if "wrong instructor passcode" in r.getMessage().lower()]
    assert len(failures) >= 5, "a log line per failure"


def test_a_short_passcode_is_refused_at_start(database, monkeypatch):
    monkeypatch.setenv("QUIZ_INSTRUCTOR_PASSCODE", "123456")
    at = ok(page("class_host", class_host.URL_PATH))
    assert "at least 12 characters" in page_text(at)
    assert not at.text_input, "no passcode form for a passcode that short"


def test_a_case_in_class_is_hidden_from_self_study_until_the_final_reveal(database):
    """S1: with the class at stage 1, a student played the case in self-study and read the key."""
    host, code = open_session("start", "open")  # the instructor keeps the default
    spy = ok(page("library", "", case=CASE.id))
    assert "in use by a live class" in page_text(spy)
    assert not spy.radio and not [b for b in spy.button if b.label == "Commit answers"]
    library = ok(page("library", ""))
    assert "In use by a live class" in page_text(library)
    for index in range(TOTAL):
        if index:
            host = host_do(host, "open")
        host = host_do(host_do(host, "reveal"), "advance")
    assert "REVEALED diagnosis" in page_text(host)
    after = ok(page("library", "", case=CASE.id))
    assert after.radio and "in use by a live class" not in page_text(after)
    assert instructor().toggle(key="class-hide-case").value is True, "hiding is on by default"


# --- the presenter view (issue 13 part 1) ------------------------------------------------

WIDGETS = ("button", "radio", "text_input", "toggle", "selectbox", "checkbox", "number_input", "download_button",
           "multiselect", "slider", "text_area")


def presenter(code: str) -> AppTest:
    return ok(page("class_present", class_host.PRESENT_PATH, session=code))


def assert_read_only(at: AppTest) -> None:
    for kind in WIDGETS:
        assert not at.get(kind), f"a {kind} on the presenter view"
    assert not list(at.sidebar.children.values()), "the presenter view has no sidebar content"


def test_the_presenter_view_is_read_only_and_shows_the_key_only_after_the_reveal(database):
    host = ok(instructor().button(key="class-create").click().run())
    code = host.session_state[class_host.HOST_KEY].code
    link = next(e for e in host.get("link_button"))
    assert link.proto.url == f"http://class.test:8501/present?session={code}", "opened from the instructor's page"
    screen = presenter(code)
    assert_read_only(screen)
    assert code in sent(screen), "the join code"
    assert f"http://class.test:8501/?join={code}" in sent(screen), "the join link is the app's root, not this page"
    assert [i for i in screen.get("image") if "Scan to join" in str(i.proto)], "the QR code"
    assert "Join on your phone" in page_text(screen)
    ann, bob = student(code, "Ann"), student(code, "Bob")

    host = host_do(host, "start")
    screen = presenter(code)
    assert CASE.stages[0].findings[0].text in sent(screen) and code in sent(screen)
    assert CASE.stages[0].questions[0].prompt not in sent(screen), "the question comes with answering, as on phones"
    host.selectbox(key="class-countdown").set_value(30)
    host = host_do(host, "open")
    q_dx = CASE.stages[0].questions[0]
    ok(ann.run()), ok(bob.run())
    assert "Answering closes by itself at" in page_text(ann)
    ok(answer(ann, q_dx.id, q_dx.answer))
    screen = presenter(code)
    assert_read_only(screen)
    text = sent(screen)
    assert q_dx.prompt in text and code in text
    assert re.search(r"0:(30|29|28)", text), "the countdown"
    assert {m.label: m.value for m in screen.metric} == {"Joined": "2", "Answered": "0 of 2"}
    for secret in (*HIDDEN_UNTIL_REVEAL, *HIDDEN_UNTIL_END, *LATER, "Best answer"):
        assert secret not in text, f"{secret!r} on the projector before the reveal"

    # Thirty seconds later: answering closes by itself, and no answer is taken after zero.
    store = store_module.open_store(database)
    store.run(lambda conn: conn.execute(store_module.class_sessions.update().values(
        closes_at=store_module.now() - datetime.timedelta(seconds=1))))
    ok(answer(bob, q_dx.id, "lipoma"))
    assert "Answering is closed" in page_text(bob)
    screen = presenter(code)
    state = classroom.session_state(store, host.session_state[class_host.HOST_KEY].session_id)
    assert state.phase == classroom.CLOSED, "the countdown closed answering"
    ok(screen.run())
    assert "Answering closed" in page_text(screen)
    assert stored_answers(database, bob.session_state[class_student.STUDENT_KEY].id) == {}

    host = host_do(ok(host.run()), "reveal")
    assert classroom.session_state(store, state.id).phase == classroom.REVEALED, page_text(host)
    screen = presenter(code)
    assert_read_only(screen)
    text = sent(screen)
    assert "Best answer: **Soft-tissue sarcoma**" in text and f"EXPLAIN {q_dx.answer} at stage 1." in text
    assert "KEYNOTE for stage 1" in text
    assert "Best answer" in text and len(screen.get("vega_lite_chart")) == len(CASE.stages[0].questions)
    assert "REVEALED" not in text and not any(t in text for t in LATER)


def test_a_follower_window_never_shows_the_key(database):
    """Live-class S4: the key expander was in the sidebar of the follower "display" window too."""
    first = ok(instructor().button(key="class-create").click().run())
    code = first.session_state[class_host.HOST_KEY].code
    first = host_do(host_do(first, "start"), "open")
    best = CASE.stages[0].questions[0]
    key_label = "Key for this stage"
    assert any(key_label in e.label for e in first.sidebar.expander), "the window in control has the key"

    second = instructor()  # another window takes the session over: the first one follows as a display
    second = ok(second.button(key=f"class-resume-{code}").click().run())
    assert any(key_label in e.label for e in second.sidebar.expander)
    first = ok(first.run())
    assert "Another instructor window has taken control" in page_text(first)
    assert not any(key_label in e.label for e in first.sidebar.expander), "a display window may be projected"
    assert best.prompt not in " ".join(m.value for m in first.sidebar.markdown)


# --- certainty (issue 11 part 6) ------------------------------------------------------------

def chart_specs(at: AppTest) -> str:
    """The Vega-Lite specs of the page's charts (the certainty legend and levels are named there)."""
    return "\n".join(c.proto.spec for c in at.get("vega_lite_chart")) if at.get("vega_lite_chart") else ""


def test_certainty_is_asked_stored_shown_after_the_reveal_and_scored(database):
    host, code = open_session("start", "open")
    session_id = host.session_state[class_host.HOST_KEY].session_id
    state = classroom.session_state(store_module.open_store(database), session_id)
    assert state.ask_certainty, "the instructor's page asks certainty by default"
    ann, bob, cy = student(code, "Ann"), student(code, "Bob"), student(code, "Cy")
    q_dx, q_next = CASE.stages[0].questions
    assert "how sure you are" in page_text(ann) and "Speed does not count" in page_text(ann)
    assert [r.label for r in ann.radio].count("How sure are you?") == 2, "one certainty per question"
    assert [o for o in sure(ann, q_dx.id).options] == ["Low", "Moderate", "High"]

    # An answer without its certainty is not saved, and the phone says why, right by the question.
    ok(answer(ann, q_dx.id, q_dx.answer, None))
    elements = in_order(ann)
    below = elements[elements.index(sure(ann, q_dx.id)) + 1]
    assert below.type == "warning" and "Not saved yet" in below.value and "how sure" in below.value
    ann_id = ann.session_state[class_student.STUDENT_KEY].id
    assert stored_answers(database, ann_id) == {}
    ok(sure(ann, q_dx.id).set_value("high").run())  # the second tap saves both
    assert stored_answers(database, ann_id) == {q_dx.id: q_dx.answer}
    assert "Saved: Soft-tissue sarcoma · high certainty" in page_text(ann)
    ok(answer(ann, q_next.id, "observation", "low"))
    ok(answer(bob, q_dx.id, "lipoma", "high"))
    ok(answer(cy, q_dx.id, q_dx.answer, "low"))

    host = ok(host.run())
    screen = presenter(code)
    for at in (host, screen, ann):
        assert "How sure" not in chart_specs(at) and "Moderate" not in chart_specs(at), "no certainty before the reveal"
    host = host_do(host, "close")
    screen = presenter(code)
    assert "How sure" not in chart_specs(host) + chart_specs(screen)

    host = host_do(host, "reveal")
    screen = presenter(code)
    for at in (host, screen):
        specs = chart_specs(at)
        assert specs.count('"How sure"') == 2, "each question's chart is split by certainty"
        assert "Moderate" in specs and "Not given" in specs
    sorts = [json.loads(c.proto.spec)["layer"][0]["encoding"]["y"]["sort"] for c in screen.get("vega_lite_chart")]
    assert "✅ Soft-tissue sarcoma" in sorts[0] and "Lipoma" in sorts[0], "the best option is ticked in the chart"
    ok(ann.run())
    assert "Your certainty: High · +3 in the class score" in page_text(ann)
    assert "Your certainty: Low · +0 in the class score" in page_text(ann)
    assert not ann.get("vega_lite_chart"), "no chart on the phone"

    frames = {tuple(f.value.columns): f.value for f in host.dataframe}
    per_student = next(v for k, v in frames.items() if "class_score" in k).set_index("nickname")
    assert per_student["class_score"].to_dict() == {"Ann": 3.0, "Bob": -6.0, "Cy": 1.0}
    assert per_student.loc["Ann", "class_percent"] == round(100 * 3 / (3 * 6), 1)
    per_option = next(v for k, v in frames.items() if "Moderate" in k and "Option" in k)
    best = per_option[(per_option["Question"] == q_dx.id) & per_option["Best"]].iloc[0]
    assert (best["Answers"], best["High"], best["Low"]) == (2, 1, 1)
    assert next(v for k, v in frames.items() if "Accuracy (%)" in k)["Certainty"].tolist() == ["Low", "High"]
    assert "class score" in page_text(host) and "Speed counts for nothing" in page_text(host)
    text = class_host.answers_csv(store_module.open_store(database), host.session_state[class_host.HOST_KEY], CASE)
    header, *lines = text.splitlines()
    assert "certainty" in header.split(",") and "class_score" in header.split(",")
    assert any(line.startswith("Bob,") and ",high,-6.0,-6.0," in line for line in lines)


def test_the_instructor_may_turn_certainty_off(database):
    host = instructor()
    host.toggle(key="class-ask-certainty").set_value(False)
    host = ok(host.button(key="class-create").click().run())
    code = host.session_state[class_host.HOST_KEY].code
    host = host_do(host_do(host, "start"), "open")
    ann = student(code, "Ann")
    q_dx = CASE.stages[0].questions[0]
    assert "How sure are you?" not in [r.label for r in ann.radio]
    ok(radio(ann, q_dx.id).set_value("lipoma").run())
    assert stored_answers(database, ann.session_state[class_student.STUDENT_KEY].id) == {q_dx.id: "lipoma"}
    host = host_do(host, "reveal")
    assert "How sure" not in chart_specs(host) + chart_specs(presenter(code)), "nothing to split without certainty"
    frames = {tuple(f.value.columns): f.value for f in host.dataframe}
    assert not any("Moderate" in k for k in frames), "no certainty table without certainty"
