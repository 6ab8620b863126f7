"""Single sign-on (OIDC through Streamlit's ``st.login``) when ``[auth]`` is configured.

The one place the rest of the UI asks "who signed in?". Without ``[auth]`` in
``.streamlit/secrets.toml`` every function answers None or False, no control is shown, and the app
works as before: learners are known by the random key kept in their browser, instructors by the
passcode. With it, a learner is the provider's subject (``iss`` + ``sub``, never the e-mail, which
can change hands), and instructors can be an allow-list in ``[sso]``::

    [sso]
    instructors = ["248289761001", "dr.lee@hospital.example"]  # subjects, or vouched-for e-mails
    trust_email = false    # true: an e-mail in the list matches even without email_verified = true
    provider = ""          # the [auth.NAME] to sign in with, when [auth] lists several providers
    label = "Sign in with the hospital account"
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAuthError

from . import text

SECTION = "sso"  # this app's own settings, beside Streamlit's [auth]
KEY_PREFIX = "oidc:"


def _secrets_section(name: str) -> Mapping[str, Any]:
    try:
        section = st.secrets.get(name)
    except Exception:  # no secrets file at all, or one that does not parse
        return {}
    return section if isinstance(section, Mapping) else {}


def configured() -> bool:
    """True when ``[auth]`` has what every sign-in needs: ``redirect_uri`` and ``cookie_secret``."""
    auth = _secrets_section("auth")
    return bool(auth.get("redirect_uri") and auth.get("cookie_secret"))


def _claims() -> Mapping[str, Any] | None:
    """The signed-in identity's claims, or None (not configured, not signed in)."""
    if not configured():
        return None
    try:
        user = st.user.to_dict()
    except Exception:  # no script run context (a function called outside a page)
        return None
    return user if user.get("is_logged_in") else None


def learner_key(claims: Mapping[str, Any]) -> str | None:
    """``oidc:<issuer>|<subject>``: the pair OIDC promises is stable and never reassigned."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or not isinstance(subject, str) or not issuer or not subject:
        return None
    return f"{KEY_PREFIX}{issuer}|{subject}"


def signed_in_key() -> str | None:
    """A stable learner key from the identity provider (``oidc:<issuer>|<subject>``), or None.

    Takes precedence over the browser's own key, so a signed-in learner's record follows them
    across devices.
    """
    claims = _claims()
    return learner_key(claims) if claims else None


def instructors() -> list[str]:
    """The ``[sso] instructors`` allow-list, as written (a string alone counts as a list of one)."""
    listed = _secrets_section(SECTION).get("instructors", [])
    if isinstance(listed, str):
        listed = [listed]
    return [str(entry).strip() for entry in listed if str(entry).strip()] if isinstance(listed, (list, tuple)) else []


def on_allow_list(claims: Mapping[str, Any], allowed: list[str], *, trust_email: bool = False) -> bool:
    """True when the identity is on ``allowed``: by subject (alone or ``issuer|subject``) or by e-mail.

    An e-mail counts only when the provider vouches for it (``email_verified``), or when the
    institution says its provider's e-mails can be trusted (``trust_email``): elsewhere a user may
    type any address into their own profile.
    """
    if not allowed:
        return False
    subject, issuer = claims.get("sub"), claims.get("iss")
    names = set()
    if isinstance(subject, str) and subject:
        names.add(subject)
        if isinstance(issuer, str) and issuer:
            names.add(f"{issuer}|{subject}")
    email = claims.get("email")
    if isinstance(email, str) and email and (claims.get("email_verified") is True or trust_email):
        names.add(email.casefold())
    return any(entry in names or entry.casefold() in names for entry in allowed)


def signed_in_instructor() -> bool:
    """True when the signed-in identity is on the ``[sso] instructors`` allow-list."""
    claims = _claims()
    if not claims:
        return False
    return on_allow_list(claims, instructors(), trust_email=_secrets_section(SECTION).get("trust_email") is True)


def provider() -> str | None:
    """The ``[auth.NAME]`` to sign in with: ``[sso] provider``, else the only one listed; None for the
    settings written directly under ``[auth]`` (Streamlit's "default")."""
    name = _secrets_section(SECTION).get("provider")
    if name:
        return str(name)
    auth = _secrets_section("auth")
    if auth.get("client_id"):
        return None
    named = [key for key, value in auth.items() if isinstance(value, Mapping) and key != "client_kwargs"]
    return named[0] if len(named) == 1 else None


def sidebar_control() -> None:
    """Sign in / sign out in the sidebar; nothing at all without ``[auth]``."""
    if not configured():
        return
    claims = _claims()
    with st.sidebar:
        if claims:
            who = claims.get("name") or claims.get("email") or claims.get("preferred_username") or "your account"
            st.caption(f"Signed in as {text.plain(str(who)[:80])}. Your progress is kept under this account, "
                       "on any device.")
            if st.button("Sign out", key="sso-sign-out", icon=":material/logout:"):
                st.logout()
        else:
            label = str(_secrets_section(SECTION).get("label") or "Sign in")
            if st.button(label, key="sso-sign-in", icon=":material/login:", type="primary"):
                try:
                    chosen = provider()
                    if chosen:
                        st.login(chosen)
                    else:
                        st.login()
                except StreamlitAuthError as error:  # a setting missing or wrong: say which, no traceback
                    st.error("Sign-in is not set up correctly in `.streamlit/secrets.toml` ([auth]): "
                             f"{text.plain(' '.join(str(error).split()))}", icon="🛑")
            st.caption("Or go on without signing in: your progress is then kept by this browser only.")


def server_passcode() -> str | None:
    """With single sign-on and an instructors' list but no passcode: a secret only the server knows.

    Derived from ``[auth] cookie_secret`` (HMAC), so every app process agrees on it and no person
    can type it; the class machinery, which checks a passcode for every instructor action, is handed
    it only after an allow-listed sign-in. None otherwise.
    """
    if not configured() or not instructors():
        return None
    secret = str(_secrets_section("auth").get("cookie_secret", ""))
    return hmac.new(secret.encode(), b"quiz instructor passcode (single sign-on only)", hashlib.sha256).hexdigest()


def explain_instructor_sign_in(intro: str) -> None:
    """What an instructor page says when single sign-on is the only way in and this identity is not listed."""
    st.caption(intro)
    claims = _claims()
    if claims:
        st.warning("This account is not on the instructors' list. Ask whoever runs this server to add your "
                   "account's subject (below) to `instructors` under `[sso]` in `.streamlit/secrets.toml`.",
                   icon="🔐")
        st.code(str(claims.get("sub", "")), language=None)
    else:
        st.info("Instructors sign in with their institution's account (the sign-in button in the sidebar).",
                icon="🔐")
