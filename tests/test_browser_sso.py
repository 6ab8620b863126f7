"""Single sign-on end to end: a real OIDC provider (Debian's glewlwyd), the real app, a real browser.

The app is started with a generated ``secrets.toml`` whose ``[auth]`` points at the provider.
Learners sign in at the provider's own login page and come back signed in; their progress is kept
under the provider's subject (another browser that signs in as the same person sees it, another
person does not); an instructor on the ``[sso] instructors`` list opens the instructor page with no
passcode, and anyone else cannot. ``QUIZ_TEST_GLEWLWYD`` names the provider's binary:
``scripts/test.sh`` installs the package and sets it. Without it the test skips, except under CI
(``CI`` set), where it fails: a missing provider must not pass for a working sign-in.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from conftest import REPO
from oidc_provider import running_glewlwyd
from quiz.content import loader
from quiz.store import open_store
from streamlit_server import free_port, running_app

pytestmark = pytest.mark.browser

USERS = {  # username: (password, e-mail)
    "alice": ("alice-password-1", "alice@hospital.example"),
    "bob": ("bob-password-2", "bob@hospital.example"),
    "carol": ("carol-password-3", "carol@hospital.example"),  # the instructor
}
INSTRUCTOR = "carol"
TIMEOUT = 30_000


def _glewlwyd() -> str:
    binary = os.environ.get("QUIZ_TEST_GLEWLWYD")
    if not binary:
        if os.environ.get("CI"):
            pytest.fail("QUIZ_TEST_GLEWLWYD is not set under CI: scripts/test.sh installs glewlwyd and sets it")
        pytest.skip("QUIZ_TEST_GLEWLWYD is not set (scripts/test.sh installs Debian's glewlwyd and sets it)")
    return binary


@pytest.fixture(scope="module")
def sso(tmp_path_factory):
    """(app URL, provider, database URL): glewlwyd and the app, wired to each other."""
    binary = _glewlwyd()
    folder = tmp_path_factory.mktemp("sso")
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/oauth2callback"
    with running_glewlwyd(binary, redirect_uri=redirect, users=USERS) as provider:
        secrets_file = folder / "secrets.toml"
        secrets_file.write_text(f"""
[auth]
redirect_uri = "{redirect}"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "{provider.client_id}"
client_secret = "{provider.client_secret}"
server_metadata_url = "{provider.metadata_url}"
client_kwargs = {{ scope = "openid", prompt = "login" }}

[sso]
instructors = ["{USERS[INSTRUCTOR][1]}"]
trust_email = true
label = "Sign in with the hospital account"
""")
        database = f"sqlite:///{folder / 'sso.sqlite3'}"
        env = {"QUIZ_DATABASE_URL": database, "QUIZ_INSTRUCTOR_PASSCODE": ""}
        with running_app(env, port=port, args=(f"--secrets.files={secrets_file}",)) as url:
            yield url, provider, database


def _sign_in(browser, url: str, username: str):
    """A new browser (its own cookies) signed in as ``username`` at the provider's login page."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    page.get_by_role("button", name="Sign in with the hospital account").click()
    page.get_by_placeholder("Your username").fill(username)  # glewlwyd's own login page
    page.get_by_placeholder("Your password").fill(USERS[username][0])
    page.get_by_role("button", name="OK").click()
    page.get_by_role("button", name="Continue").click()  # the provider asks to let the app know who this is
    page.wait_for_url(f"{url}/**")
    page.get_by_text(f"Signed in as {username.title()}").wait_for()
    return context, page


def _questions_answered(page, url: str) -> str:
    page.goto(f"{url}/progress")
    page.get_by_role("heading", name="My progress").wait_for()
    none = page.get_by_text("No answers yet", exact=False).first
    metric = page.get_by_test_id("stMetricValue").nth(2)
    page.wait_for_function("() => document.body.innerText.includes('No answers yet') || "
                           "document.querySelectorAll('[data-testid=stMetricValue]').length >= 3")
    return "none" if none.is_visible() else metric.inner_text()


def test_sign_in_keeps_progress_under_the_providers_subject(browser, sso):
    url, provider, database = sso
    case = min(loader.load_content(REPO / "content").cases.values(), key=lambda c: len(c.stages))
    stage = case.stages[0]

    alice, page = _sign_in(browser, url, "alice")
    page.goto(f"{url}/?case={case.id}")
    page.get_by_role("heading", name=case.title).wait_for()
    form = page.get_by_test_id("stForm")
    for question in stage.questions:
        form.get_by_text(next(o.label for o in question.options if o.id == question.answer), exact=True).click()
    form.get_by_role("button", name="Commit answers").click()
    page.get_by_text("Feedback").wait_for()
    assert _questions_answered(page, url) == str(len(stage.questions))

    # Stored under the provider's subject: the pair glewlwyd gave out, read from glewlwyd's own database.
    subject = provider.subject("alice")
    assert subject, "glewlwyd gave alice no subject"
    store = open_store(database)
    learner = store.learner_for_key(f"oidc:{provider.issuer}|{subject}")
    assert learner is not None and store.attempts(learner)

    # Another browser, no cookie in common: signing in as alice finds alice's progress.
    elsewhere, page2 = _sign_in(browser, url, "alice")
    assert _questions_answered(page2, url) == str(len(stage.questions))
    elsewhere.close()

    # Someone else, in a third browser, sees none of it.
    bob, page3 = _sign_in(browser, url, "bob")
    assert _questions_answered(page3, url) == "none"
    bob.close()

    # Signing out leaves a browser that is nobody in particular: alice's progress is not on screen.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in with the hospital account").wait_for()
    assert _questions_answered(page, url) == "none"
    alice.close()


def test_allow_listed_instructor_needs_no_passcode(browser, sso):
    url, _provider, _database = sso
    carol, page = _sign_in(browser, url, INSTRUCTOR)
    page.goto(f"{url}/teach")
    page.get_by_text("Start a new session").wait_for()
    assert page.get_by_label("Instructor passcode").count() == 0
    carol.close()

    alice, page = _sign_in(browser, url, "alice")
    page.goto(f"{url}/teach")
    page.get_by_text("This account is not on the instructors' list", exact=False).wait_for()
    assert page.get_by_text("Start a new session").count() == 0
    alice.close()
