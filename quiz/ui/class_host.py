"""The instructor's page of a live class: passcode, new or resumed session, presenter view, results.

Authority over a session is the host token from :mod:`quiz.classroom`, kept only in this
browser session's server-side ``st.session_state``: never in the URL, never sent to a page. The
presenter view is made to be projected: large findings, the join code and a QR code, and a live
bar chart of answers per option that refreshes every two seconds in a fragment. Nothing of the
key, and nothing of the class's certainty, is on it before the instructor reveals the stage (the
instructor's own copy of the key sits in a closed sidebar expander); after the reveal each bar is
split by certainty. Results give the class score (certainty-based marks, docs/reasoning.md).
"""
from __future__ import annotations

import functools
import io
import os
from urllib.parse import urlsplit, urlunsplit

import altair as alt
import pandas as pd
import segno
import streamlit as st

from .. import classroom
from ..play import calibration, engine
from ..classroom import ClassError, Host, SessionState
from ..content.loader import Content
from ..content.model import Case, Question
from ..store import Store, StoreError, now, open_store
from . import common, components, text
from .class_student import stage_title

URL_PATH = "teach"  # this page's url_path in app.py
PRESENT_PATH, PRESENT_PARAM = "present", "session"  # the presenter view: /present?session=CODE
HOST_KEY = "class-host"
PASSCODE_KEY = common.PASSCODE_KEY
RENDERED_KEY = "class-host-version"
MESSAGE_KEY = "class-host-message"
HIDE_KEY = "class-hide-live"
CONTROL_KEY = "class-host-in-control"  # whether this window steered when the page was drawn
LIVE_SECONDS = 2.0
ROSTER_SECONDS = 5.0

STYLE = """
<style>
.st-key-class-stage [data-testid="stMarkdownContainer"] p,
.st-key-class-stage [data-testid="stMarkdownContainer"] li { font-size: 1.9rem; line-height: 1.35; }
.st-key-class-stage h3 { font-size: 2.4rem; }
.class-code { font-size: 5.5rem; font-weight: 800; letter-spacing: 0.6rem; font-family: monospace; line-height: 1.1; }
.class-code-small { font-size: 2rem; font-weight: 700; letter-spacing: 0.25rem; font-family: monospace; }
.st-key-class-live [data-testid="stMetricValue"] { font-size: 3rem; }
</style>
"""


# --- the page ------------------------------------------------------------------------

def render() -> None:
    st.title("Teach a class")
    if not common.instructor_gate("The instructor page", "Run a case live: students join from their phones with a "
                                  "code, you pace the stages and see their answers as they come in."):
        return
    configured = common.instructor_passcode()
    store = common.store()
    if store is None:
        return
    current = common.content()
    host: Host | None = st.session_state.get(HOST_KEY)
    try:
        if host is None:
            _start(store, current, configured)
        else:
            _present(store, current, host, configured)
    except StoreError as error:
        st.error(str(error), icon="🛑")


def _start(store: Store, current: Content, configured: str) -> None:
    passcode = st.session_state.get(PASSCODE_KEY)
    _message()
    st.subheader("Start a new session")
    cases = sorted(current.cases.values(), key=lambda c: c.title.lower())
    if not cases:
        st.warning("No playable case in the content folder yet.")
    else:
        case_id = st.selectbox("Case", [c.id for c in cases], format_func=lambda i: current.cases[i].title,
                               key="class-case")
        case = current.cases[case_id]
        st.caption(f"{case.summary} · {len(case.stages)} stages · about {case.minutes} min · {case.difficulty}")
        hide = st.toggle("Keep this case out of self-study until the final reveal", value=True, key="class-hide-case",
                         help="While the class plays it, the case library shows the case as in use by a live class "
                              "and will not open it, so no one reads the key ahead of the room.")
        ask = st.toggle("Students say how sure they are with each answer", value=True, key="class-ask-certainty",
                        help="One more tap per question: low, moderate or high. An answer is saved only with its "
                             "certainty. After each reveal the chart shows how sure the class was of each option, "
                             "and the class score rewards right answers given with the certainty they deserve "
                             "(never speed).")
        if st.button("Create session", type="primary", key="class-create"):
            host = classroom.create_session(store, case, passcode=passcode, configured=configured, hide_case=hide,
                                            ask_certainty=ask)
            _hold(host)
            st.rerun()

    st.subheader("Resume a session")
    st.caption("After a server restart, or to move to another device. Taking over a session makes any other "
               "instructor window of it a display that follows along.")
    running = classroom.running_sessions(store)
    for state in running:
        case = current.cases.get(state.case_id)
        line = st.container(horizontal=True, vertical_alignment="center")
        line.markdown(f"`{state.code}` · {case.title if case else state.case_id} · "
                      f"{stage_text(state, len(case.stages)) if case else state.phase}")
        line.button("Resume", key=f"class-resume-{state.code}", on_click=_resume, args=(store, state.code, configured))
    with st.form("class-resume-form", border=False):
        typed = st.text_input("Join code of the session to resume", max_chars=10, key="class-resume-code")
        go = st.form_submit_button("Resume")
    if go:
        _resume(store, typed, configured)
        st.rerun()


def _resume(store: Store, code: str, configured: str) -> None:
    if not (code or "").strip():
        st.session_state[MESSAGE_KEY] = "Type the join code of the session to resume."
        return
    try:
        host = classroom.take_control(store, classroom.normalise_code(code) or code,
                                      passcode=st.session_state.get(PASSCODE_KEY), configured=configured)
    except (ClassError, StoreError) as error:  # callbacks run outside render()'s try
        st.session_state[MESSAGE_KEY] = str(error)
        return
    _hold(host)


def _hold(host: Host) -> None:
    st.session_state[HOST_KEY] = host
    st.session_state.pop(RENDERED_KEY, None)


def _leave() -> None:
    st.session_state.pop(HOST_KEY, None)


def _message() -> None:
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        text.error(message)


def stage_text(state: SessionState, total: int) -> str:
    if state.phase in (classroom.WAITING, classroom.OPEN, classroom.CLOSED, classroom.REVEALED):
        return f"Stage {state.stage_index + 1} of {total} · {classroom.PHASE_LABELS[state.phase]}"
    return classroom.PHASE_LABELS[state.phase]


# --- join URL and QR code ----------------------------------------------------------------

def app_base_url() -> str:
    """The app's root URL as the students' phones must see it.

    QUIZ_PUBLIC_URL wins (behind a proxy that rewrites hosts); otherwise the URL in the
    instructor's browser (``st.context.url``) without this page's path; otherwise the Host header.
    """
    public = os.environ.get("QUIZ_PUBLIC_URL")
    if public:
        return public.rstrip("/")
    try:
        url = st.context.url
    except Exception:
        url = None
    if url:
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        for page in (URL_PATH, PRESENT_PATH):  # the pages that show a join link
            if path.endswith("/" + page):
                path = path[: -len(page) - 1]
        return urlunsplit((parts.scheme, parts.netloc, path, "", "")).rstrip("/")
    try:
        headers = st.context.headers
        host = headers.get("X-Forwarded-Host") or headers.get("Host")
        proto = headers.get("X-Forwarded-Proto") or "http"
    except Exception:
        host = None
    return f"{proto}://{host}" if host else "http://localhost:8501"


def presenter_url(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/{PRESENT_PATH}?{PRESENT_PARAM}={code}"


def clock(until) -> str:
    """Minutes and seconds left until ``until``, as a countdown shows them (0:00 once past)."""
    left = max(int(-(-(until - now()).total_seconds() // 1)), 0)
    return f"{left // 60}:{left % 60:02d}"


@functools.lru_cache(maxsize=64)
def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=10, border=2)
    return buffer.getvalue()


def _join_panel(state: SessionState, big: bool) -> None:
    base = app_base_url()
    url = classroom.join_url(base, state.code)
    if big and (urlsplit(base).hostname or "") in ("localhost", "127.0.0.1", "::1", "0.0.0.0"):
        st.warning("This link names this computer itself (localhost): students' phones cannot open it. Open this "
                   "page through the machine's network address, or set QUIZ_PUBLIC_URL.", icon="📡")
    if big:
        left, right = st.columns([3, 2], vertical_alignment="center")
        with left:
            st.markdown("#### Join on your phone")
            st.markdown(f"Open **{url}**  \nor scan the QR code, or go to the app and type the code:")
            st.html(f'<div class="class-code">{state.code}</div>')
        with right:
            st.image(qr_png(url), width=320, caption="Scan to join")
    else:
        line = st.container(horizontal=True, vertical_alignment="center")
        line.html(f'<span class="class-code-small">{state.code}</span>', width="content")
        line.caption(f"Join: {url}")
        with line.popover("QR code"):
            st.image(qr_png(url), width=320)
    st.link_button("Open the presenter view ↗", presenter_url(base, state.code), key="class-presenter-link",
                   help="A read-only page for the projector: join code and QR code, the stage, the countdown and "
                        "the live count; the key only after you reveal it. Keep this page on your laptop.")


# --- the presenter view ----------------------------------------------------------------

def _present(store: Store, current: Content, host: Host, configured: str) -> None:
    try:
        state = classroom.session_state(store, host.session_id)
    except ClassError as error:
        _leave()
        # e.g. the database file was deleted: the action just refused says why the session is gone
        refused = st.session_state.pop(MESSAGE_KEY, None)
        text.error(f"{error} {refused}" if refused else str(error), icon="🛑")
        return
    case = current.cases.get(state.case_id)
    st.html(STYLE)
    in_control = classroom.is_host(store, host)
    st.session_state[RENDERED_KEY] = state.version
    st.session_state[CONTROL_KEY] = in_control
    total = len(case.stages) if case else 0

    with st.sidebar:
        st.markdown(f"**Session `{state.code}`**")
        st.button("Leave this session", key="class-leave", on_click=_leave,
                  help="The session keeps running: resume it later with its code.")
        st.toggle("Hide the chart while answering is open", key=HIDE_KEY,
                  help="Students see the room's answers only once answering closes.")
        shown = classroom.shown_stage(state, total) if case else None
        # Only the window in control: a follower window is the one likely to be on the projector (S4).
        if in_control and shown is not None and state.phase != classroom.REVEALED:
            with st.expander("🔒 Key for this stage (not for the projector)"):
                for question in case.stages[shown].questions:
                    best = engine.grade(question, question.answer, state.seed).best
                    st.markdown(f"- {question.prompt} → **{best.label}**")

    if case is None:
        st.error(f"The case {state.case_id!r} of this session cannot be loaded (renamed, or its file has errors).",
                 icon="🛑")
        return
    _message()
    if not in_control:  # above the tabs: seen whichever tab is open
        st.warning("Another instructor window has taken control of this session; this one follows as a display.",
                   icon="🖥️")
        st.button("Take control here", key="class-take-control", on_click=_resume,
                  args=(store, state.code, configured))
    # A switch of tab reruns the page, so the Students and Results tabs are fresh when they open.
    present, people, results = st.tabs(["Present", "Students", "Results"], key="class-host-tab", on_change="rerun")
    with present:
        st.subheader(case.title)
        st.caption(stage_text(state, total))
        if state.phase != classroom.ENDED:
            _join_panel(state, big=state.phase == classroom.LOBBY)
        if in_control:
            _controls(store, state, total)
        if state.phase != classroom.ENDED:
            _live(store.url, state.id, case, host, state.seed)
        shown = classroom.shown_stage(state, total)
        if shown is not None:
            with st.container(key="class-stage"):
                stage = case.stages[shown]
                st.markdown(f"### Stage {shown + 1} of {total}: {stage_title(stage.kind, stage.heading)}")
                components.findings(stage.findings, quotes=False)
                for image in stage.images:
                    st.image(image.path, caption=f"{image.caption} ({image.credit})")
                if state.phase in (classroom.OPEN, classroom.CLOSED, classroom.WAITING):
                    for question in stage.questions:
                        st.markdown(f"**{components.QUESTION_LABELS.get(question.kind, question.kind)}:** {question.prompt}")
            if state.phase == classroom.REVEALED:
                for question in stage.questions:
                    key_panel(question, state.seed)
        if classroom.final_shown(state, total):
            components.reveal(case.reveal, case.source)
        if state.phase == classroom.ENDED:
            st.info("This session has ended. The results stay available on the Results tab.", icon="🏁")
    with people:
        _students(store, host, in_control)
    with results:
        _results(store, host, case, in_control)


def _controls(store: Store, state: SessionState, total: int) -> None:
    suggested = classroom.next_action(state, total)
    row = st.container(horizontal=True, key="class-controls")
    for action in ("start", "open", "close", "reveal", "advance"):
        if action == "start" and state.phase != classroom.LOBBY:
            continue
        if action == "advance" and state.phase == classroom.LOBBY:
            continue
        label = classroom.ACTION_LABELS[action]
        if action == "advance" and state.phase == classroom.REVEALED and state.stage_index + 1 >= total:
            label = "Final reveal: what the authors did"
        try:
            classroom.transition(state.stage_index, state.phase, action, total)
            allowed = True
        except classroom.NotAllowed:
            allowed = False
        if action == "open" and allowed:
            row.selectbox("Countdown", [0, *classroom.COUNTDOWNS], key="class-countdown", width=150,
                          format_func=lambda s: "No countdown" if not s else f"{s // 60}:{s % 60:02d} min" if s >= 60
                          else f"{s} s", label_visibility="collapsed",
                          help="Answering closes by itself when the countdown reaches zero (shown on the "
                               "presenter view and here).")
        row.button(label, key=f"class-do-{action}", type="primary" if action == suggested else "secondary",
                   disabled=not allowed, on_click=_do, args=(store, action, (state.stage_index, state.phase), total))
    if state.phase != classroom.ENDED:
        with row.popover("End session…", type="primary" if suggested == "end" else "secondary"):
            st.markdown("Students can no longer join or answer; results stay available.")
            st.button("End the session now", key="class-do-end", on_click=_do,
                      args=(store, "end", (state.stage_index, state.phase), total))


def _do(store: Store, action: str, expect: tuple[int, str], total: int) -> None:
    host = st.session_state.get(HOST_KEY)
    if host is None:
        return
    seconds = st.session_state.get("class-countdown") if action == "open" else None
    try:
        classroom.act(store, host, action, expect=expect, total=total, seconds=seconds or None)
    except classroom.Stale:
        pass  # a double click, or another window moved first: the page shows where the session is now
    except (ClassError, StoreError) as error:  # a callback: outside render()'s try
        st.session_state[MESSAGE_KEY] = str(error)


@st.fragment(run_every=LIVE_SECONDS)
def _live(url: str, session_id: int, case: Case, host: Host, seed: str) -> None:
    """Joined, answered and the chart, redrawn every two seconds; a full rerun if the session moved on
    or another window took control (so this one says so within one tick)."""
    try:
        data = classroom.live(open_store(url), session_id, case, host)
    except StoreError as error:
        st.caption(f"Live counts paused: {error}")
        return
    if data.closes_at is not None and data.closes_at <= now() and classroom.close_if_due(open_store(url), session_id):
        st.rerun()  # the countdown reached zero: answering is closed
    if data.version > st.session_state.get(RENDERED_KEY, 0) or data.in_control != st.session_state.get(CONTROL_KEY):
        st.rerun()
    with st.container(key="class-live"):
        numbers = st.container(horizontal=True)
        numbers.metric("Joined", data.joined, width="content")
        shown = data.phase in (classroom.OPEN, classroom.CLOSED, classroom.REVEALED)
        if shown:
            numbers.metric("Answered", f"{data.answered} of {data.joined}", width="content")
        if data.closes_at is not None:
            numbers.metric("Closes in", clock(data.closes_at), width="content")
        if not shown or data.stage_index >= len(case.stages):
            return
        if data.phase == classroom.OPEN and st.session_state.get(HIDE_KEY):
            st.caption("The chart is hidden while answering is open.")
            return
        revealed = data.phase == classroom.REVEALED
        questions = case.stages[data.stage_index].questions
        for column, question in zip(st.columns(len(questions)), questions):
            with column:
                st.markdown(f"**{components.QUESTION_LABELS.get(question.kind, question.kind)}**")
                st.altair_chart(tally_chart(question, data.tallies.get(question.id, {}), revealed, seed,
                                            data.certainty.get(question.id)), width="stretch")


#: Certainty levels as the charts and tables name them, and their colours (light to dark: surer is darker).
CERTAINTY_NAMES = {"low": "Low", "moderate": "Moderate", "high": "High", None: "Not given"}
CERTAINTY_COLOURS = {"low": "#9ecae1", "moderate": "#4292c6", "high": "#08306b", None: "#bdbdbd"}


def tally_chart(question: Question, counts: dict[str, int], revealed: bool, seed: str,
                certainty: dict[str, dict[str | None, int]] | None = None) -> alt.Chart:
    """Answers per option, in the session's option order (as on the phones); the best option is marked
    only once ``revealed`` (nothing of the key before). With ``certainty`` ({option id: {level: count}},
    which :func:`classroom.live` gives only after the reveal) and any level in it, each bar is split by
    how sure the class was, and the best option is marked by a tick in its label."""
    asked = engine.ask(question, seed)
    if revealed and certainty and any(level is not None for split in certainty.values() for level in split):
        return certainty_chart(question, asked, certainty)
    rows = [{"Option": o.label, "Answers": counts.get(o.id, 0)} for o in asked.options]
    if revealed:
        for row, option in zip(rows, asked.options):
            row["Best"] = "Best answer" if option.id == question.answer else "Other"
    frame = pd.DataFrame(rows)
    color = (alt.Color("Best:N", scale=alt.Scale(domain=["Best answer", "Other"], range=["#2e7d32", "#9e9e9e"]),
                       legend=None) if revealed else alt.value("#4c78a8"))
    base = alt.Chart(frame).encode(y=alt.Y("Option:N", sort=None, title=None, axis=alt.Axis(labelLimit=400)),
                                   x=alt.X("Answers:Q", title=None, axis=alt.Axis(tickMinStep=1, format="d")))
    bars = base.mark_bar().encode(color=color)
    labels = base.mark_text(align="left", dx=6, fontSize=22, fontWeight="bold").encode(text="Answers:Q")
    return (bars + labels).properties(height=max(60 * len(rows), 160)).configure_axis(labelFontSize=20)


def certainty_chart(question: Question, asked: engine.AskedQuestion,
                    certainty: dict[str, dict[str | None, int]]) -> alt.Chart:
    """Stacked bars: per option (best ticked), its answers by certainty level, with the option's total."""
    names = [("✅ " if o.id == question.answer else "") + o.label for o in asked.options]
    levels = [*calibration.LEVEL_ORDER, None]
    rows = [{"Option": name, "Certainty": CERTAINTY_NAMES[level], "Order": i,
             "Answers": certainty.get(o.id, {}).get(level, 0)}
            for name, o in zip(names, asked.options) for i, level in enumerate(levels)]
    frame = pd.DataFrame(rows)
    y = alt.Y("Option:N", sort=names, title=None, axis=alt.Axis(labelLimit=400))
    bars = alt.Chart(frame).mark_bar().encode(
        y=y, x=alt.X("sum(Answers):Q", title=None, axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("Certainty:N", scale=alt.Scale(domain=[CERTAINTY_NAMES[v] for v in levels],
                                                       range=[CERTAINTY_COLOURS[v] for v in levels]),
                        legend=alt.Legend(orient="bottom", title="How sure", labelFontSize=18, titleFontSize=18)),
        order=alt.Order("Order:Q"), tooltip=["Option:N", "Certainty:N", "Answers:Q"])
    totals = alt.Chart(frame).transform_aggregate(Total="sum(Answers)", groupby=["Option"]).mark_text(
        align="left", dx=6, fontSize=22, fontWeight="bold").encode(y=y, x="Total:Q", text="Total:Q")
    return (bars + totals).properties(height=max(60 * len(names), 160)).configure_axis(labelFontSize=20)


def key_panel(question: Question, seed: str, *, others: bool = True) -> None:
    """A revealed question: the best answer with its explanation, partial credit, the teaching note
    (and, with ``others``, an expander with why not the other options)."""
    result = engine.grade(question, question.answer, seed)
    with st.container(border=True):
        st.markdown(f"**{components.QUESTION_LABELS.get(question.kind, question.kind)}:** {question.prompt}")
        st.success(f"Best answer: **{result.best.label}**", icon="✅")
        if result.best.explanation:
            st.markdown(result.best.explanation)
        partial = [o for o in result.options if 0 < o.credit < 1]
        if partial:
            st.markdown("Partly right: " + "; ".join(f"**{o.label}** ({o.credit:.0%})" for o in partial))
        if others:
            with st.expander("Why not the other options?"):
                for option in (o for o in result.options if not o.best):
                    st.markdown(f"**{option.label}**: {option.explanation or '(no explanation given)'}")
        if result.teaching_note:
            st.info(result.teaching_note, icon="🎓")


# --- students ------------------------------------------------------------------------

def _students(store: Store, host: Host, in_control: bool) -> None:
    if not in_control:
        st.info("Take control of the session in this window to manage its students.", icon="🔒")
        return
    _roster(store.url, host)


@st.fragment(run_every=ROSTER_SECONDS)
def _roster(url: str, host: Host) -> None:
    """Who joined, redrawn every few seconds, with a way to free a seat for a student's new phone or remove someone."""
    store = open_store(url)
    try:
        seats = classroom.roster(store, host)
    except (ClassError, StoreError) as error:
        text.error(str(error))
        return
    st.caption(f"{_count(len(seats), 'student')} · as of {text.local_time(now())}. A student on a new phone is "
               "refused their nickname until you release their seat; the next phone to join under it keeps their "
               "answers.")
    for seat in seats:
        line = st.container(horizontal=True, vertical_alignment="center", key=f"class-seat-{seat.id}")
        line.text(seat.nickname, width="content")
        line.caption(f"{_count(seat.answers, 'answer')} · " + ("on a phone" if seat.seated else
                                                               "seat released: waiting for a new phone"),
                     width="content")
        line.button("Release seat", key=f"class-release-{seat.id}", disabled=not seat.seated,
                    on_click=_change_student, args=(store, classroom.release_seat, seat.id),
                    help="For a student whose phone died or who changed device: they join again with the same "
                         "nickname and keep their answers. This phone stops answering for them.")
        with line.popover("Remove…"):
            st.markdown("Take this student and their answers out of the session:")
            st.text(seat.nickname)
            st.button("Remove", key=f"class-remove-{seat.id}", type="primary",
                      on_click=_change_student, args=(store, classroom.remove_student, seat.id))


def _change_student(store: Store, change, student_id: int) -> None:
    host = st.session_state.get(HOST_KEY)
    if host is None:
        return
    try:
        change(store, host, student_id)
    except (ClassError, StoreError) as error:
        st.session_state[MESSAGE_KEY] = str(error)


# --- results -------------------------------------------------------------------------

def _results(store: Store, host: Host, case: Case, in_control: bool) -> None:
    """Tables computed when this tab is drawn, and saying when; the CSV is computed when it is downloaded."""
    if not in_control:
        st.info("Take control of the session in this window to see the results.", icon="🔒")
        return
    top = st.container(horizontal=True, vertical_alignment="center")
    top.button("Refresh results", key="class-refresh-results")
    try:
        rows = classroom.result_rows(store, host, case)
        names = classroom.students(store, host)
    except ClassError as error:
        text.error(str(error))
        return
    top.caption(f"As of {text.local_time(now())} · {_count(len(names), 'student')} joined · "
                f"{_count(len(rows), 'answer')}. Answers given since are not in these tables until you press "
                "Refresh; the CSV is computed when you download it. Students are shown by nickname only.")
    stages = pd.DataFrame(classroom.stage_summary(case, rows, len(names)))
    st.markdown("##### Percent correct per stage")
    st.dataframe(stages.rename(columns={"stage": "Stage", "kind": "Kind", "questions": "Questions",
                                        "answers": "Answers", "correct": "Correct",
                                        "percent_correct": "% correct (of answers)",
                                        "percent_of_class": "% correct (of class)", "mean_credit": "Mean credit"}),
                 hide_index=True, width="stretch", placeholder="—")
    st.markdown("##### Per student")
    st.dataframe(pd.DataFrame(classroom.student_summary(case, rows, names)), hide_index=True, width="stretch", placeholder="—")
    st.caption(f"*class score*: the certainty-based marks of the student's answers, out of "
               f"{classroom.max_class_score(case):g} (every question right with high certainty). Right: high 3, "
               "moderate 2, low 1; wrong: low 0, moderate −2, high −6; no certainty counts as low. Speed counts "
               "for nothing.")
    st.markdown("##### Per question")
    st.dataframe(pd.DataFrame(classroom.question_summary(case, rows)), hide_index=True, width="stretch", placeholder="—")
    _certainty_tables(case, rows)
    st.download_button("Download all answers (CSV)", functools.partial(answers_csv, store, host, case),
                       mime="text/csv", file_name=f"class-{host.code}-{case.id}.csv", key="class-csv",
                       on_click="ignore", help="Every answer stored at the moment you click.")


def _certainty_tables(case: Case, rows: list[dict]) -> None:
    """How sure the class was of each option, and its accuracy by certainty level (when it gave any)."""
    if not any(r["certainty"] for r in rows):
        return
    st.markdown("##### How sure the class was, per option")
    table = pd.DataFrame(classroom.certainty_summary(case, rows)).rename(columns={
        "stage": "Stage", "question_id": "Question", "option": "Option", "best": "Best", "answers": "Answers",
        "low": "Low", "moderate": "Moderate", "high": "High", classroom.NO_CERTAINTY: "Not given"})
    st.dataframe(table, hide_index=True, width="stretch", placeholder="—")
    found = classroom.class_calibration(rows)
    st.markdown("##### Accuracy by certainty")
    st.dataframe(pd.DataFrame([{"Certainty": CERTAINTY_NAMES[r.level], "Answers": r.answers,
                                "Accuracy (%)": round(100 * r.accuracy, 1)} for r in found.by_level]),
                 hide_index=True, width="stretch", placeholder="—")
    st.caption(f"Over {found.answers} answers with a certainty: mean certainty {found.mean_certainty:.0%}, "
               f"accuracy {found.accuracy:.0%}: {found.verdict}.")


def answers_csv(store: Store, host: Host, case: Case) -> str:
    """The CSV as the database holds it now (Streamlit calls this when the button is clicked)."""
    return classroom.results_csv(classroom.result_rows(store, host, case))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
