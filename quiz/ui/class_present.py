"""The presenter view of a live class: the page for the projector, read-only.

Opened from the instructor's page as ``/present?session=CODE`` (a second window or tab, dragged to
the projector), it has no control, no key before the reveal and no sidebar: the join code and QR
code stay large at all times; the stage's findings; the question while answering is open or
closed; a countdown when the instructor set one (answering closes by itself at zero); the live
count; and after the reveal, each question's chart with the best answer marked and its
explanation (split by the class's certainty when the session asks it: never before the reveal). It shows nothing a student's phone does not show by the same moment, apart from
the counts, so it needs no passcode: the join code names the session.

It follows the session like a phone: a fragment polls every two seconds (every second while a
countdown runs) and reruns the page when the instructor moves on.
"""
from __future__ import annotations

import streamlit as st

from .. import classroom
from ..classroom import SessionState
from ..content.model import Case
from ..play import engine
from ..store import StoreError, now, open_store
from . import class_host, common, components, text
from .class_student import stage_title

RENDERED_KEY = "class-present-version"
LIVE_SECONDS = 2.0
TICK_SECONDS = 1.0

STYLE = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stAppHeader"], [data-testid="stToolbar"], [data-testid="stAppToolbar"],
[data-testid="stMainMenu"], [data-testid="stMainMenuButton"], [data-testid="stDecoration"],
[data-testid="stElementToolbar"] { display: none !important; }
.block-container, [data-testid="stMainBlockContainer"] { padding-top: 1.5rem !important; max-width: 100% !important; }
.st-key-present-stage [data-testid="stMarkdownContainer"] p,
.st-key-present-stage [data-testid="stMarkdownContainer"] li { font-size: 2rem; line-height: 1.35; }
.st-key-present-stage h3 { font-size: 2.6rem; }
.present-code { font-size: clamp(2.5rem, 5vw, 8rem); font-weight: 800; letter-spacing: 0.3rem; font-family: monospace;
                line-height: 1; white-space: nowrap; }
.present-url { font-size: 1.4rem; word-break: break-all; }
.present-countdown { font-size: 7rem; font-weight: 800; font-family: monospace; line-height: 1; }
.present-countdown.done { color: #b71c1c; }
.st-key-present-live [data-testid="stMetricValue"] { font-size: 3.5rem; }
</style>
"""


def render() -> None:
    st.html(STYLE)
    store = common.store()
    if store is None:
        return
    code = classroom.normalise_code(st.query_params.get(class_host.PRESENT_PARAM))
    if code is None:
        st.title("Presenter view")
        st.info("Open this page from *Teach a class*: the button *Open the presenter view* opens it for the "
                "session you are running.", icon="📽️")
        return
    try:
        state = classroom.find_session(store, code)
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return
    if state is None:
        st.title("Presenter view")
        text.error(f"No class session has the code {code}.")
        return
    case = common.content().cases.get(state.case_id)
    if case is None:
        st.error("The case of this session cannot be loaded right now (renamed, or its file has errors).", icon="🛑")
        return
    st.session_state[RENDERED_KEY] = state.version
    _page(state, case, store.url)


def _page(state: SessionState, case: Case, url: str) -> None:
    total = len(case.stages)
    join = classroom.join_url(class_host.app_base_url(), state.code)
    main, side = st.columns([5, 2], gap="large")
    with side:  # the way in, large at every moment
        st.html(f'<div class="present-code">{state.code}</div>')
        st.image(class_host.qr_png(join), width="stretch", caption="Scan to join")
        st.html(f'<div class="present-url">{join}</div>')
    with main:
        st.subheader(case.title)
        st.caption(class_host.stage_text(state, total))
        if state.phase != classroom.ENDED:
            (_live_ticking if state.closes_at is not None else _live)(url, state.id, case, state.seed)
        if state.phase == classroom.LOBBY:
            st.markdown("## Join on your phone")
            st.markdown("Scan the QR code, or open the link and type a nickname.")
        shown = classroom.shown_stage(state, total)
        if shown is not None:
            stage = case.stages[shown]
            with st.container(key="present-stage"):
                st.markdown(f"### Stage {shown + 1} of {total}: {stage_title(stage.kind, stage.heading)}")
                components.findings(stage.findings, quotes=False)
                for image in stage.images:
                    st.image(image.path, caption=f"{image.caption} ({image.credit})")
            if classroom.questions_shown(state.phase):
                for question in stage.questions:
                    asked = components.QUESTION_LABELS.get(question.kind, question.kind)
                    st.markdown(f"#### {asked}: {question.prompt}")
                    st.markdown("\n".join(f"- {o.label}" for o in engine.ask(question, state.seed).options))
        if classroom.final_shown(state, total):
            components.reveal(case.reveal, case.source)
        if state.phase == classroom.ENDED:
            st.info("This session has ended. Thank you!", icon="🏁")


def _live_body(url: str, session_id: int, case: Case, seed: str) -> None:
    """Counts, the countdown and (after the reveal) the charts; a full rerun when the session moves on."""
    try:
        store = open_store(url)
        data = classroom.live(store, session_id, case)
        if data.closes_at is not None and data.closes_at <= now() and classroom.close_if_due(store, session_id):
            st.rerun()
    except StoreError as error:
        st.caption(f"Live counts paused: {error}")
        return
    if data.version > st.session_state.get(RENDERED_KEY, 0):
        st.rerun()
    with st.container(key="present-live"):
        numbers = st.container(horizontal=True, vertical_alignment="center", gap="large")
        numbers.metric("Joined", data.joined, width="content")
        on_screen = data.phase in (classroom.OPEN, classroom.CLOSED, classroom.REVEALED)
        if on_screen:
            numbers.metric("Answered", f"{data.answered} of {data.joined}", width="content")
        if data.closes_at is not None:
            left = class_host.clock(data.closes_at)
            numbers.html(f'<div class="present-countdown{" done" if left == "0:00" else ""}">{left}</div>',
                         width="content")
        elif data.phase == classroom.CLOSED:
            numbers.markdown("### Answering closed")
        if data.phase != classroom.REVEALED or data.stage_index >= len(case.stages):
            return
        questions = case.stages[data.stage_index].questions
        for column, question in zip(st.columns(len(questions)), questions):
            with column:
                st.altair_chart(class_host.tally_chart(question, data.tallies.get(question.id, {}), True, seed,
                                                       data.certainty.get(question.id)), width="stretch")
                class_host.key_panel(question, seed, others=False)


@st.fragment(run_every=LIVE_SECONDS)
def _live(url: str, session_id: int, case: Case, seed: str) -> None:
    _live_body(url, session_id, case, seed)


@st.fragment(run_every=TICK_SECONDS)
def _live_ticking(url: str, session_id: int, case: Case, seed: str) -> None:
    """The same, every second while a countdown runs."""
    _live_body(url, session_id, case, seed)
