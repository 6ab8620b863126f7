"""In a real browser: the server refuses an upload past the 1 MB limit (F3), and a phone playing a case
sees each new stage's heading, then the final diagnosis, at the top of the screen, a finding's table
and nested list rendered as such (B4), and the library from its top after "Back to all cases".
"""
from __future__ import annotations

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from conftest import REPO
from quiz.content import loader
from streamlit_server import running_app

pytestmark = pytest.mark.browser

LIVER = loader.load_content(REPO / "content").cases["abnormal-liver-tests-abdominal-discomfort"]


def test_f3_the_server_refuses_an_upload_over_one_megabyte(browser, tmp_path):
    env = {"QUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'upload.sqlite3'}"}
    with running_app(env) as url:
        context = browser.new_context()
        page = context.new_page()
        sessions: list[str] = []

        def frames(socket):
            def received(payload):
                if isinstance(payload, bytes):
                    message = ForwardMsg()
                    message.ParseFromString(payload)
                    if message.HasField("new_session") and message.new_session.initialize.session_id:
                        sessions.append(message.new_session.initialize.session_id)
            socket.on("framereceived", received)

        page.on("websocket", frames)
        page.goto(f"{url}/author")
        page.get_by_text("Author a vignette").wait_for(timeout=30_000)
        assert sessions, "no session id in the websocket frames"
        xsrf = next(c["value"] for c in context.cookies() if c["name"] == "_streamlit_xsrf")

        def put(size: int, name: str) -> int:
            # what the probe did: a direct request, without the widget, with the page's own XSRF token
            response = page.request.put(
                f"{url}/_stcore/upload_file/{sessions[0]}/{name}", headers={"X-Xsrftoken": xsrf},
                multipart={"file": {"name": f"{name}.yaml", "mimeType": "application/x-yaml", "buffer": b"#" * size}})
            return response.status

        assert put(900 * 1024, "small") == 204  # within the limit: stored
        assert put(int(1.5 * 2**20), "big") == 413  # past it: refused before it is kept
        assert put(19 * 2**20, "huge") == 413
        context.close()


def settled_top(page, locator, *, seconds: float = 5.0) -> float:
    """Where ``locator`` is on screen once the page has stopped moving it (the scroll runs after layout)."""
    tops = []
    for _ in range(int(seconds / 0.2)):
        box = locator.bounding_box()
        tops.append(box["y"] if box else float("nan"))
        if len(tops) >= 3 and tops[-1] == tops[-2] == tops[-3] and 0 <= tops[-1] < 844 / 3:
            break
        page.wait_for_timeout(200)
    return tops[-1]


def test_a_phone_sees_each_new_stage_and_the_reveal_from_the_top(browser, tmp_path):
    env = {"QUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'scroll.sqlite3'}"}
    with running_app(env) as url:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.set_default_timeout(30_000)
        page.goto(f"{url}/?case={LIVER.id}")
        page.get_by_role("heading", name=LIVER.title).wait_for()
        # B4: the liver tests are a table inside their list item, the PET sites a nested list
        page.locator("li table").filter(has_text="Alkaline phosphatase").wait_for()
        assert page.locator("li table tr").count() == 6
        total = len(LIVER.stages)
        for index, stage in enumerate(LIVER.stages):
            form = page.get_by_test_id("stForm")
            for question in stage.questions:
                label = next(o.label for o in question.options if o.id == question.answer)
                form.get_by_text(label, exact=True).click()
            form.get_by_role("button", name="Commit answers").click()
            page.get_by_text("Feedback").first.wait_for()
            last = index + 1 == total
            page.get_by_role("button", name="See what the authors did" if last else f"Continue to stage {index + 2}").click()
            if last:
                target = page.get_by_text("Final diagnosis:").first
            else:
                target = page.get_by_role("heading", name=f"Stage {index + 2} of {total}")
            target.wait_for()
            top = settled_top(page, target)
            assert 0 <= top < 844 / 3, f"after stage {index + 1} the target is at y={top}"
            if index + 2 == total:
                page.locator("li li").filter(has_text="occipital condyle").wait_for()
        page.get_by_role("button", name="Back to all cases").click()
        heading = page.get_by_role("heading", name="Case library")
        heading.wait_for()
        top = settled_top(page, heading)
        assert 0 <= top < 200, f"the library opens with its title at y={top}"
        page.close()
