"""Single sign-on (OIDC through Streamlit's ``st.login``) when ``[auth]`` is configured.

The one place the rest of the UI asks "who signed in?". Without ``[auth]`` in
``.streamlit/secrets.toml`` every function answers None and the app works as before: learners are
known by the random key kept in their browser, instructors by the passcode.
"""
from __future__ import annotations


def signed_in_key() -> str | None:
    """A stable learner key from the identity provider (``oidc:<issuer>|<subject>``), or None.

    Takes precedence over the browser's own key, so a signed-in learner's record follows them
    across devices. Not built yet: always None.
    """
    return None


def signed_in_instructor() -> bool:
    """True when the signed-in identity is on the instructors' allow-list. Not built yet: False."""
    return False
