"""What every page needs: settings, the content folder, the store and who the learner is."""
from __future__ import annotations

import json
import time

import streamlit as st

from .. import classroom, identity, settings
from ..content import loader
from ..content.loader import Content
from ..store import Store, StoreError, open_store
from . import signin, text

LEGACY_PARAM = "learner"  # the old ``?learner=NAME``: ignored, it opens no one's progress
COOKIE = "quiz_learner"  # this browser's learner key
COOKIE_MAX_AGE = 2 * 365 * 24 * 3600  # two years: a residency's worth of study in one browser
KEY_STATE = "learner-key"  # the key, held for this browser session
COOKIE_WRITTEN = "learner-cookie-written"  # the key this session has written to (or read from) the cookie
NAME_WIDGET = "learner-name"
NAME_TYPED = "learner-name-typed"  # what the learner just typed, stored on the next run
ADOPT_NOTICE = "learner-notice"  # what a resume link did, shown on the page it opened
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


# --- who is learning: a random key in this browser, never the typed name ---------------

def browser_key() -> str:
    """This browser's learner key: adopted from a resume link, read from the cookie, or made now.

    Kept in the session for every rerun; written to the cookie :data:`COOKIE` (two years, SameSite=Lax)
    once a record exists, so a reload, a restart or a new tab of this browser finds it again. The
    cookie is read from the request that opened the session (``st.context.cookies``).
    """
    _adopt_resume_link()
    held = st.session_state.get(KEY_STATE)
    if held:
        return held
    try:
        cookie = st.context.cookies.get(COOKIE)
    except Exception:  # no browser behind this session (a script run on its own)
        cookie = None
    if isinstance(cookie, str) and identity.is_browser_key(cookie):
        st.session_state[KEY_STATE] = cookie
        st.session_state[COOKIE_WRITTEN] = cookie
        return cookie
    key = st.session_state[KEY_STATE] = identity.new_key()
    return key


def _remember_in_browser(key: str) -> None:
    """Write the key to this browser's cookie, once per session (a tiny script; the app reads it next visit)."""
    if st.session_state.get(COOKIE_WRITTEN) == key:
        return
    st.session_state[COOKIE_WRITTEN] = key
    value = json.dumps(f"{COOKIE}={key}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax")
    with st.sidebar:
        st.html(f"<script>document.cookie = {value} + (location.protocol === 'https:' ? '; Secure' : '');</script>",
                unsafe_allow_javascript=True, width="content")


def _adopt_resume_link() -> None:
    """``/?resume=KEY`` (from "Continue on another device"): this browser takes that key, and the URL drops it."""
    if identity.RESUME_PARAM not in st.query_params:
        return
    pasted = st.query_params.get(identity.RESUME_PARAM, "")
    st.query_params.pop(identity.RESUME_PARAM, None)  # never left in the address bar or the history
    adopt(pasted)


def adopt(pasted: str) -> bool:
    """Make the key in ``pasted`` (a code or a whole resume link) this browser's, if it opens a record."""
    try:
        key = identity.parse_key(pasted)
    except identity.IdentityError as error:
        st.session_state[ADOPT_NOTICE] = ("error", str(error))
        return False
    database = store()
    if database is None:
        return False
    if database.learner_for_key(key) is None:
        st.session_state[ADOPT_NOTICE] = ("error", "This resume link or code opens no progress on this server. "
                                                   "Check that it was copied whole, from this server's My progress page.")
        return False
    st.session_state[KEY_STATE] = key
    st.session_state[ADOPT_NOTICE] = ("success", "This browser now continues your progress from the link.")
    return True


def current_learner(store: Store, create: bool = False) -> int | None:
    """The learner on this page: the signed-in identity (quiz.ui.signin) if any, else this browser's key.

    None while this browser has no record yet; ``create`` makes one (the first answer does). The
    display name never finds a record, and ``?learner=`` in the URL is ignored.
    """
    signed = signin.signed_in_key()
    if signed:
        return store.learner_for_key(signed, create=create, kind="oidc")
    return store.learner_for_key(browser_key(), create=create, kind="browser")


def study_learner(store: Store | None) -> int | None:
    """What a study page does first: say what a resume link did, drop ``?learner=``, show the display-name
    box in the sidebar, and answer the learner's id (None without a record yet, or without a store)."""
    if LEGACY_PARAM in st.query_params:
        st.query_params.pop(LEGACY_PARAM, None)
        st.session_state[ADOPT_NOTICE] = ("info", "Links with ?learner= no longer open anyone's progress: your "
                                                  "progress is kept by this browser. To move it to another device, "
                                                  "use “Continue on another device” on My progress.")
    if store is None:
        return None
    try:
        learner = current_learner(store)
    except StoreError as error:
        st.error(f"Your progress cannot be read right now. {error}", icon="🛑")
        return None
    if learner is not None and not signin.signed_in_key():
        # Before the notice: a learner who opens a resume link and moves on at once keeps the key.
        _remember_in_browser(browser_key())
    notice = st.session_state.pop(ADOPT_NOTICE, None)
    if notice:
        getattr(st, notice[0])(notice[1], icon={"error": "🚫", "success": "🔑", "info": "ℹ️"}[notice[0]])
    learner = _name_box(store, learner)
    if learner is not None and not signin.signed_in_key():
        _remember_in_browser(browser_key())  # only once a record exists: a visit that stored nothing leaves no cookie
    return learner


def _name_box(store: Store, learner: int | None) -> int | None:
    """The optional display name, in the sidebar: a label on this learner's pages, kept with the record
    (so a page change, a reload or another device keeps it). Typing one creates the record.

    The box always shows the stored label; only an edit by the learner (its ``on_change``) stores one.
    A page change gives the box a new widget identity, with an empty value: that is never taken for
    "the learner cleared their name".
    """
    try:
        stored = store.display_name(learner) if learner is not None else None
        typed = st.session_state.pop(NAME_TYPED, None)
        if typed is not None and identity.display_label(typed) != (stored or ""):
            label = identity.display_label(typed)
            if label:
                learner = current_learner(store, create=True)
            if learner is not None:
                stored = store.set_display_name(learner, label)
    except StoreError as error:
        st.error(f"Your display name was not saved. {error}", icon="🛑")
        stored = None
    st.session_state[NAME_WIDGET] = stored or ""
    with st.sidebar:
        st.text_input("Your display name (optional)", key=NAME_WIDGET, max_chars=identity.MAX_NAME,
                      on_change=_name_typed,
                      help="A label for your own pages. Your progress is kept by this browser, not by the "
                           "name: someone typing the same name sees nothing of yours.")
    return learner


def _name_typed() -> None:
    st.session_state[NAME_TYPED] = st.session_state.get(NAME_WIDGET, "")


def learner_label(store: Store, learner: int | None) -> str | None:
    """The learner's display name, for their own pages; None without a record or a name."""
    return store.display_name(learner) if learner is not None else None


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
