"""What every page needs: settings, the content folder, the store and the learner's name."""
from __future__ import annotations

import time

import streamlit as st

from .. import classroom, settings
from ..content import loader
from ..content.loader import Content
from ..store import Store, StoreError, open_store
from . import signin, text

LEARNER_PARAM = "learner"
PASSCODE_KEY = "class-passcode"  # the instructor's passcode, held in this browser session only


def content() -> Content:
    """The content folder as it is now: files are re-read only when they change."""
    config = settings.current()
    return loader.load_content(config.content_dir, sources=config.sources_dirs)


def store() -> Store | None:
    """The progress store, or None after telling the user why it cannot be used."""
    try:
        return open_store(settings.current().database_url)
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return None


def learner_name() -> str | None:
    """The display name progress is kept under; kept in the URL so a refresh keeps it."""
    name = st.query_params.get(LEARNER_PARAM, "").strip()
    with st.sidebar:
        typed = st.text_input("Your display name", value=name, max_chars=40, key="learner-name",
                              help="Progress is saved under this name on this server. No account needed.")
    typed = typed.strip()
    if typed != name:
        if typed:
            st.query_params[LEARNER_PARAM] = typed
        else:
            st.query_params.pop(LEARNER_PARAM, None)
    return typed or None


def learner_id(store: Store, name: str | None) -> int | None:
    """The stored id of the learner on this page, or None without one: the study pages' one way to it."""
    return store.learner_id(name) if name else None


def quoted_value(value: str, limit: int = 80) -> None:
    """A value from the URL shown as plain text, cut to ``limit`` characters.

    Never inside markdown: ``?case=[Log in again](http://...)`` would be a live link, and an image
    would make every visitor's browser fetch a stranger's URL.
    """
    shown = value if len(value) <= limit else value[:limit] + "…"
    st.code(shown, language=None, wrap_lines=True)


def content_notice(current: Content, *, for_authors: bool = False) -> None:
    """Tell authors which files failed validation, without hiding the valid cases.

    Learners see where (file, line, field) but not what: a message may quote the text it is about,
    such as a diagnosis ("did you mean 'metastatic-leiomyosarcoma'?"). The Author page and
    ``python -m quiz validate`` give the messages.
    """
    if not current.errors:
        return
    files = sorted({p.file for p in current.errors})
    stale = [f for f in files if f in current.stale]
    title = f"⚠️ {len(files)} content file(s) have errors (for authors)"
    with st.expander(title):
        if stale:
            st.caption("The last valid version of " + ", ".join(f"`{f}`" for f in stale) + " is still in service, "
                       "read at " + ", ".join(time.strftime("%H:%M", time.localtime(current.stale[f])) for f in stale)
                       + ". Until the file is fixed, edits to it do not reach learners.")
        hidden = len(files) - len(stale)
        if hidden:
            st.caption(f"{hidden} file(s) with errors are not shown. Fix them and they appear without a restart.")
        if for_authors:
            st.caption("`python -m quiz validate` prints the same list.")
            st.code("\n".join(str(p) for p in current.errors), language=None)
        else:
            st.caption("What is wrong is on the Author page and in `python -m quiz validate`.")
            st.code("\n".join(f"{p.file}:{p.line}: {p.field or '(whole file)'}" for p in current.errors), language=None)


# --- the instructor's passcode: the class page and the answer-key exports ---------------

def instructor_passcode() -> str | None:
    """QUIZ_INSTRUCTOR_PASSCODE, else ``instructor_passcode`` in ``.streamlit/secrets.toml``; no default.

    With single sign-on and an ``[sso] instructors`` list but no passcode, a secret only the server
    knows stands in for it (:func:`signin.server_passcode`): the class machinery still checks one,
    and only an allow-listed sign-in is handed it.
    """
    from_env = settings.current().instructor_passcode
    if from_env:
        return from_env
    try:
        value = st.secrets.get("instructor_passcode")
    except Exception:  # no secrets file at all
        value = None
    return (str(value).strip() if value else None) or signin.server_passcode()


def explain_missing_passcode(what: str) -> None:
    st.warning(f"{what} is locked: no instructor passcode is set, and there is no default.", icon="🔐")
    st.markdown("Set one in either place, then reload this page:")
    st.markdown("**An environment variable** on the machine that runs the app:")
    st.code('export QUIZ_INSTRUCTOR_PASSCODE="a-long-passphrase-for-instructors"\nstreamlit run app.py', language="bash")
    st.markdown("**Or Streamlit secrets**, in `.streamlit/secrets.toml` beside `app.py` (keep it out of version control):")
    st.code('instructor_passcode = "a-long-passphrase-for-instructors"', language="toml")


def instructor_gate(what: str, intro: str, *, key: str = "class-passcode") -> bool:
    """True when a usable passcode is set and this browser session has given it, or when the signed-in
    identity is on the ``[sso] instructors`` list; otherwise say what to do."""
    configured = instructor_passcode()
    if not configured:
        explain_missing_passcode(what)
        return False
    problem = classroom.passcode_problem(configured)
    if problem:  # too short to resist guessing: refused until it is changed
        st.error(f"{what} is locked. {problem}", icon="🔐")
        return False
    return instructor_unlocked(configured, intro, key=key)


def _client() -> str | None:
    """The browser's address, for the log line of a failed passcode."""
    try:
        address = st.context.ip_address
    except Exception:
        return None
    return address if isinstance(address, str) else None


def instructor_unlocked(configured: str, intro: str, *, key: str = "class-passcode") -> bool:
    """True once this browser session has given the passcode, or the signed-in identity is on the
    ``[sso] instructors`` list; otherwise show the passcode form.

    Every typed passcode goes through one failure counter in the database, shared by all
    browser sessions and app processes (:func:`quiz.classroom.try_passcode`).
    """
    if classroom.check_passcode(st.session_state.get(PASSCODE_KEY), configured):
        return True
    if signin.signed_in_instructor():
        st.session_state[PASSCODE_KEY] = configured  # what the class pages check; gone with st.logout()
        return True
    if configured == signin.server_passcode():  # single sign-on only: there is no passcode to type
        signin.explain_instructor_sign_in(intro)
        return False
    st.caption(intro)
    with st.form(f"{key}-form"):
        typed = st.text_input("Instructor passcode", type="password", key=f"{key}-input")
        go = st.form_submit_button("Enter", type="primary")
    if not go:
        return False
    database = store()
    if database is None:
        return False
    try:
        right = classroom.try_passcode(database, typed, configured, source=_client())
    except classroom.PasscodeLocked as locked:
        st.error(f"Too many wrong passcodes (from any browser): instructor sign-in is locked until "
                 f"{text.local_time(locked.until)}. Try again then.", icon="⏳")
        return False
    except (StoreError, classroom.ClassError) as error:
        text.error(str(error), icon="🛑")
        return False
    if right:
        st.session_state[PASSCODE_KEY] = typed.strip()
        st.rerun()
    st.error("Wrong passcode.", icon="🚫")
    return False
