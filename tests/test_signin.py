"""Single sign-on without a provider: what the app does with and without ``[auth]``, for whom.

AppTest seeds ``st.user`` (``at.user``) and ``st.secrets`` (``at.secrets``), so the identity and
the allow-list are checked here on every page that uses them; tests/test_browser_sso.py signs in
for real against glewlwyd.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import page_text
from conftest import REPO
from quiz import store
from quiz.ui import signin

ISSUER = "https://login.hospital.example"
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "c" * 64,
        "client_id": "quiz", "client_secret": "s" * 32,
        "server_metadata_url": f"{ISSUER}/.well-known/openid-configuration"}
PASSCODE = "a-long-passphrase-for-instructors"


def claims(sub: str = "248289761001", **more) -> dict:
    return {"is_logged_in": True, "iss": ISSUER, "sub": sub, "name": "Dr Lee", **more}


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZ_DATABASE_URL", f"sqlite:///{tmp_path / 'signin.sqlite3'}")
    monkeypatch.delenv("QUIZ_INSTRUCTOR_PASSCODE", raising=False)
    store.forget_stores()
    yield
    store.forget_stores()


def run(script: str, *, secrets: dict | None = None, user: dict | None = None) -> AppTest:
    at = AppTest.from_string(script, default_timeout=60)
    if secrets is not None:
        at.secrets.update(secrets)
    if user is not None:
        at.user = user
    return at.run()


WHO = ("import streamlit as st\nfrom quiz.ui import signin\n"
       "st.text(repr((signin.signed_in_key(), signin.signed_in_instructor())))\n")


def who(**kwargs) -> tuple:
    at = run(WHO, **kwargs)
    assert not at.exception, [e.value for e in at.exception]
    return eval(at.text[0].value)  # noqa: S307 - our own repr of (str | None, bool)


def test_without_auth_nobody_is_signed_in_whatever_st_user_says():
    assert who(user=claims()) == (None, False)
    assert who(secrets={"sso": {"instructors": ["248289761001"]}}, user=claims()) == (None, False)


def test_with_auth_the_key_is_issuer_and_subject_never_the_email():
    key, instructor = who(secrets={"auth": AUTH}, user=claims(email="lee@hospital.example", email_verified=True))
    assert key == f"oidc:{ISSUER}|248289761001" and instructor is False
    assert who(secrets={"auth": AUTH}, user={"is_logged_in": False}) == (None, False)
    assert who(secrets={"auth": AUTH}, user={"is_logged_in": True, "iss": ISSUER}) == (None, False)  # no subject


def test_allow_list_by_subject_or_vouched_email():
    allowed = ["248289761001"]
    assert signin.on_allow_list(claims(), allowed)
    assert signin.on_allow_list(claims(), [f"{ISSUER}|248289761001"])
    assert not signin.on_allow_list(claims(sub="someone-else"), allowed)
    assert not signin.on_allow_list(claims(), [])
    by_mail = ["Lee@Hospital.example"]
    assert signin.on_allow_list(claims(email="lee@hospital.example", email_verified=True), by_mail)
    # An address the provider does not vouch for is whatever the user typed into their profile.
    assert not signin.on_allow_list(claims(email="lee@hospital.example"), by_mail)
    assert not signin.on_allow_list(claims(email="lee@hospital.example", email_verified=False), by_mail)
    assert signin.on_allow_list(claims(email="lee@hospital.example"), by_mail, trust_email=True)


def test_signed_in_instructor_reads_the_sso_section():
    secrets = {"auth": AUTH, "sso": {"instructors": ["248289761001"]}}
    assert who(secrets=secrets, user=claims())[1] is True
    assert who(secrets=secrets, user=claims(sub="student-7"))[1] is False
    assert who(secrets={"auth": AUTH, "sso": {"instructors": "248289761001"}}, user=claims())[1] is True


SIDEBAR = "from quiz.ui import signin\nsignin.sidebar_control()\n"


def test_sidebar_control_only_with_auth():
    at = run(SIDEBAR)
    assert not at.sidebar.button and not page_text(at).strip()
    at = run(SIDEBAR, secrets={"auth": AUTH, "sso": {"label": "Sign in with the hospital account"}})
    assert [b.label for b in at.sidebar.button] == ["Sign in with the hospital account"]
    at = run(SIDEBAR, secrets={"auth": AUTH}, user=claims(name="[Dr Lee](https://evil.example)"))
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    caption = at.sidebar.caption[0].value
    assert "Signed in as" in caption and "](https" not in caption  # a provider's name is shown as text


def test_app_without_auth_shows_no_sign_in():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert not [b for b in at.sidebar.button if b.label in ("Sign in", "Sign out")]


CLASS_PAGE = "from quiz.ui import class_host\nclass_host.render()\n"


def passcode_box(at: AppTest) -> bool:
    return any(t.label == "Instructor passcode" for t in at.text_input)


def test_allow_listed_instructor_opens_the_class_page_without_a_passcode():
    secrets = {"auth": AUTH, "sso": {"instructors": ["248289761001"]}}
    at = run(CLASS_PAGE, secrets=secrets, user=claims())
    text = page_text(at)
    assert "Start a new session" in text and not passcode_box(at)
    next(b for b in at.button if b.label == "Create session").click()
    at.run()  # the class machinery checks a passcode: the server's own stands in for it
    assert not at.exception and "End the session now" in page_text(at)
    at = run(CLASS_PAGE, secrets=secrets, user=claims(sub="student-7"))
    text = page_text(at)
    assert "not on the instructors' list" in text and "Start a new session" not in text and not passcode_box(at)
    at = run(CLASS_PAGE, secrets=secrets)  # not signed in
    assert "sign in" in page_text(at).lower() and "Start a new session" not in page_text(at)


def test_with_a_passcode_too_others_still_type_it(monkeypatch):
    monkeypatch.setenv("QUIZ_INSTRUCTOR_PASSCODE", PASSCODE)
    secrets = {"auth": AUTH, "sso": {"instructors": ["248289761001"]}}
    at = run(CLASS_PAGE, secrets=secrets, user=claims(sub="student-7"))
    assert [t.label for t in at.text_input] == ["Instructor passcode"]
    at = run(CLASS_PAGE, secrets=secrets, user=claims())
    assert "Start a new session" in page_text(at) and not passcode_box(at)


def test_without_auth_an_allow_list_opens_nothing():
    at = run(CLASS_PAGE, secrets={"sso": {"instructors": ["248289761001"]}}, user=claims())
    text = page_text(at)
    assert "no instructor passcode is set" in text and "Start a new session" not in text


def test_allow_listed_instructor_sees_draft_images_without_a_passcode(tmp_path, monkeypatch):
    """The Author page's image preview is for instructors (F5): an allow-listed sign-in is one."""
    import shutil

    import yaml
    from PIL import Image as PILImage

    from quiz.ui import author

    root = tmp_path / "bank"
    shutil.copytree(REPO / "content", root)
    (root / "images").mkdir()
    PILImage.new("RGB", (4, 4), "white").save(root / "images" / "figure-1.png")
    monkeypatch.setenv("QUIZ_CONTENT_DIR", str(root))
    case_id = sorted(p.stem for p in (root / "cases").glob("*.yaml"))[0]
    data = yaml.safe_load((root / "cases" / f"{case_id}.yaml").read_text(encoding="utf-8"))
    data["stages"][0]["images"] = [{"path": "images/figure-1.png", "caption": "Figure 1", "alt": "a", "credit": "x"}]
    draft = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    secrets = {"auth": AUTH, "sso": {"instructors": ["248289761001"]}}
    shown = {}
    for sub in ("248289761001", "student-7"):
        at = AppTest.from_string("from quiz.ui import author\nauthor.render()\n", default_timeout=60)
        at.secrets.update(secrets)
        at.user = claims(sub=sub)
        at.run()
        at.text_area(key=author.TEXT_KEY).set_value(draft)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        shown[sub] = len(at.get("image"))
    assert shown == {"248289761001": 1, "student-7": 0}


def test_which_provider_sign_in_uses():
    script = "import streamlit as st\nfrom quiz.ui import signin\nst.text(repr(signin.provider()))\n"
    named = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": AUTH["cookie_secret"],
             "hospital": {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}}
    assert run(script, secrets={"auth": AUTH}).text[0].value == "None"  # Streamlit's "default"
    assert run(script, secrets={"auth": named}).text[0].value == "'hospital'"  # the only one listed
    two = {**named, "university": named["hospital"]}
    assert run(script, secrets={"auth": two, "sso": {"provider": "university"}}).text[0].value == "'university'"


def test_a_sign_in_set_up_wrong_says_so_without_a_traceback():
    at = run(SIDEBAR, secrets={"auth": {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": AUTH["cookie_secret"]}})
    at.sidebar.button[0].click()
    at.run()
    assert not at.exception
    assert any("Sign-in is not set up correctly" in e.value and "provider" in e.value for e in at.error)
