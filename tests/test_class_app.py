"""The live-class pages through AppTest: one instructor and several students on one database.

Each ``AppTest`` is one browser session; they share the database named by QUIZ_DATABASE_URL
(a SQLite file, or PostgreSQL with QUIZ_TEST_POSTGRES_URL set) exactly as browser sessions of
one or several Streamlit processes do.
"""
from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

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
    ok(radio(ann, q_dx.id).set_value(q_dx.answer).run())
    assert "Answer saved" in page_text(ann)
    ok(radio(ann, q_next.id).set_value(q_next.answer).run())
    bob.run()
    ok(radio(bob, q_dx.id).set_value("lipoma").run())
    ok(radio(bob, q_dx.id).set_value("schwannoma").run())  # a change of mind
    cy.run()
    ok(radio(cy, q_dx.id).set_value("lipoma").run())
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
    ok(radio(cy, q_dx.id).set_value(q_dx.answer).run())  # Cy's page was drawn before answering closed
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
            ok(radio(ann, question.id).set_value(question.answer).run())
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


def test_a_nickname_in_use_needs_an_explicit_rejoin(database):
    host = ok(instructor().button(key="class-create").click().run())
    code = host.session_state[class_host.HOST_KEY].code
    student(code, "Ann")
    other = student(code, "ann")
    text = page_text(other)
    assert "already uses this nickname" in text
    assert class_student.STUDENT_KEY not in other.session_state
    next(b for b in other.button if b.label == "Choose another nickname").click()
    ok(other.run())
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
    ok(radio(ann, q_dx.id).set_value("abscess").run())
    assert ann.query_params["nick"] == "Ann"

    store_module.forget_stores()  # the server restarts: every browser session is new
    classroom.forget_polls()
    st.cache_data.clear()
    st.cache_resource.clear()

    host = instructor()
    assert code in page_text(host), "the running session is offered for resuming"
    host = ok(host.button(key=f"class-resume-{code}").click().run())
    assert {m.label for m in host.metric} >= {"Joined", "Answered"}
    assert "Answering open" in page_text(host)

    back = ok(page("class_student", "class", join=code, nick="Ann"))
    assert "Welcome back" in page_text(back) and "Ann" in [t.value for t in back.text]
    assert class_student.STUDENT_KEY not in back.session_state, "rejoining is an explicit choice"
    next(b for b in back.button if b.label.startswith("Yes, that's me")).click()
    ok(back.run())
    assert radio(back, q_dx.id).value == "abscess", "answers are kept"
    ok(radio(back, q_dx.id).set_value(q_dx.answer).run())
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
