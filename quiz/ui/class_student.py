"""The student's page of a live class: join with a code, follow the instructor, answer from a phone.

Everything on this page comes from :func:`quiz.classroom.student_view`, which hands out the
engine's public projection of the questions; keys and explanations appear only after the
instructor's reveal. A tiny fragment polls the session's version every two seconds and reruns
the page when the instructor moves on: no chart, no wide columns, nothing heavy per tick.
Nicknames are shown with ``st.text`` (never as markdown or HTML), and every error box shows
text from the URL or the keyboard as plain text (:mod:`.text`).

Joining gives the phone a seat secret (see :func:`quiz.classroom.join`), kept in this browser
session and in the URL as ``?join=CODE&seat=SECRET``: a reload comes back to the same seat,
while another phone typing the same nickname is refused until the instructor releases it.
"""
from __future__ import annotations

import streamlit as st

from .. import classroom
from ..classroom import ClassError, SessionState, Student
from ..content.loader import Content
from ..play import calibration
from ..store import Store, StoreError, open_store
from . import common, components, text
from .pad import CERTAINTY_LABELS

STUDENT_KEY = "class-student"
RENDERED_KEY = "class-student-version"
ERRORS_KEY = "class-student-errors"  # {question_id: why the last tap was not stored}
NOTICE_KEY = "class-student-notice"  # why this phone lost its seat, shown on the join form
POLL_SECONDS = 2.0
NICKNAME_FIELD = 200  # what the field takes; the nickname itself has at most classroom.NICKNAME_MAX


def stage_title(kind: str, heading: str) -> str:
    """"Imaging — MRI of the thigh", or just "Presentation" when the heading repeats the kind."""
    label = components.kind_label(kind)
    return label if heading.strip().lower() == label.lower() else f"{label} — {heading}"


def render() -> None:
    store = common.store()
    if store is None:
        return
    current = common.content()
    code_param = classroom.normalise_code(st.query_params.get(classroom.JOIN_PARAM))
    student: Student | None = st.session_state.get(STUDENT_KEY)
    if student is not None and code_param is not None and code_param != student.code:
        student = None  # a new code in the URL: a new session
        st.session_state.pop(STUDENT_KEY, None)
    try:
        if student is None and code_param and st.query_params.get(classroom.SEAT_PARAM):
            student = _come_back(store, code_param, st.query_params.get(classroom.SEAT_PARAM))
        if student is None:
            _join(store, current)
        else:
            _play(store, current, student)
    except StoreError as error:
        st.error(str(error), icon="🛑")


# --- joining ---------------------------------------------------------------------

def _code_form(message: str | None = None, value: str | None = None) -> None:
    st.title("Join a class")
    if message:
        text.error(message)
    if value is not None:
        common.quoted_value(value)  # as plain text: a link's ?join= may hold markdown
    with st.form("class-code-form", border=False):
        typed = st.text_input("Join code", max_chars=10, placeholder="e.g. K7M2QX", key="class-code-input",
                              help="The six letters and digits on the instructor's screen.")
        go = st.form_submit_button("Next", type="primary")
    if go:
        code = classroom.normalise_code(typed)
        if code is None:
            st.error(f"This is not a join code: codes have {classroom.CODE_LENGTH} letters and digits.", icon="🚫")
            common.quoted_value(typed.strip())
            return
        st.query_params[classroom.JOIN_PARAM] = code
        st.query_params.pop(classroom.SEAT_PARAM, None)
        st.rerun()


def _come_back(store: Store, code: str, seat: str) -> Student | None:
    """The same phone after a reload or a dropped connection: its seat secret is in the URL."""
    try:
        student = classroom.rejoin(store, code, seat)
    except classroom.NoSuchStudent as error:
        st.query_params.pop(classroom.SEAT_PARAM, None)
        st.session_state[NOTICE_KEY] = str(error)
        return None
    except ClassError:
        return None  # no such session: the join page says so
    _hold(student)
    return student


def _join(store: Store, current: Content) -> None:
    raw = st.query_params.get(classroom.JOIN_PARAM)
    if not raw:
        _code_form(st.session_state.pop(NOTICE_KEY, None))
        return
    if classroom.normalise_code(raw) is None:
        _code_form(f"The link's code is not a join code: codes have {classroom.CODE_LENGTH} letters and digits, "
                   "like K7M2QX.", value=raw)
        return
    try:
        state = classroom.open_for_joining(store, raw)
    except ClassError as error:
        _code_form(str(error))
        return
    case = current.cases.get(state.case_id)
    st.title("Join a class")
    st.caption(f"Session {state.code}")
    if case is not None:
        st.markdown(f"**Case:** {case.title}")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        text.warning(notice, icon="🪑")

    with st.form("class-join-form", border=False):
        # A generous field: a pasted nickname over the limit stays in it, and Join says what is wrong (B8).
        nickname = st.text_input("Your nickname", max_chars=NICKNAME_FIELD, key="class-nickname-input",
                                 help=f"Shown in the class results instead of your name; at most "
                                      f"{classroom.NICKNAME_MAX} characters, unique in this session.")
        go = st.form_submit_button("Join", type="primary")
    if go:
        try:
            student = classroom.join(store, state.code, nickname)
        except ClassError as error:
            text.error(str(error))
        else:
            _hold(student)
            st.rerun()
    if st.button("Use another code", type="tertiary", key="class-other-code"):
        st.query_params.pop(classroom.JOIN_PARAM, None)
        st.query_params.pop(classroom.SEAT_PARAM, None)
        st.rerun()


def _hold(student: Student) -> None:
    """Keep the seat in this browser session and in the URL, so a reload on this phone comes back to it."""
    st.session_state[STUDENT_KEY] = student
    st.query_params[classroom.JOIN_PARAM] = student.code
    st.query_params[classroom.SEAT_PARAM] = student.seat
    st.query_params.pop(classroom.NICK_PARAM, None)


def _lose_seat(store: Store, current: Content, message: str) -> None:
    """The instructor released or removed this phone's seat: say so and offer to join again."""
    st.session_state.pop(STUDENT_KEY, None)
    st.query_params.pop(classroom.SEAT_PARAM, None)
    st.session_state[NOTICE_KEY] = message
    _join(store, current)


# --- following the instructor ----------------------------------------------------

@st.fragment(run_every=POLL_SECONDS)
def _follow(url: str, session_id: int) -> None:
    """Every two seconds: one cached version read; rerun the page only when the instructor moved on."""
    try:
        version = classroom.poll_version(open_store(url), session_id)
    except StoreError:
        return  # the database is busy or away for a moment: try again on the next tick
    if version > st.session_state.get(RENDERED_KEY, 0):
        st.rerun()


def certainty_key(key: str) -> str:
    """The key of the certainty radio under the answer radio ``key``."""
    return f"{key}-certainty"


def _save(store: Store, student: Student, case, stage_index: int, question_id: str, key: str,
          sure_key: str | None = None) -> None:
    """Radio callback (the answer's, or its certainty's): save (or change) the answer at once; a tap that was
    not stored is noted by its question. With ``sure_key`` (the session asks certainty) nothing is sent
    until both are chosen: the page says what is missing."""
    option_id = st.session_state.get(key)
    certainty = st.session_state.get(sure_key) if sure_key else None
    if option_id is None or (sure_key and certainty is None):
        return
    errors = st.session_state.setdefault(ERRORS_KEY, {})
    try:
        classroom.submit(store, student, case, stage_index, question_id, option_id, certainty)
    except (ClassError, StoreError) as error:
        errors[question_id] = {"message": str(error)}  # shown until the session moves on or a tap succeeds
        try:
            stored = classroom.my_choices(store, student).get(question_id, (None, None))  # show what is stored
            st.session_state[key] = stored[0]
            if sure_key:
                st.session_state[sure_key] = stored[1]
        except (ClassError, StoreError):
            pass  # the page says why on this rerun
    else:
        errors.pop(question_id, None)


def _play(store: Store, current: Content, student: Student) -> None:
    try:
        reading = classroom.read_seat(store, student)
    except ClassError as error:
        st.session_state.pop(STUDENT_KEY, None)
        # A tap just refused by the database (e.g. the file was deleted, so the session is gone) says why too.
        refused = [e["message"] for e in st.session_state.pop(ERRORS_KEY, {}).values()]
        _code_form(" ".join([str(error), *dict.fromkeys(refused)]))
        return
    state = reading.state
    st.session_state[RENDERED_KEY] = state.version
    if not state.ended:  # nothing changes after the end: stop polling
        _follow(store.url, state.id)
    case = current.cases.get(state.case_id)
    if case is None:
        st.error("The case of this session cannot be loaded right now (its file was renamed or has errors). "
                 "Tell your instructor.", icon="🛑")
        return
    if reading.lost:  # the instructor released or removed this seat
        _lose_seat(store, current, reading.lost)
        return
    choices = reading.choices
    total = len(case.stages)
    shares = None
    revealed = classroom.revealed_stages(state, total)
    if revealed:  # how the class answered, for revealed stages only
        shares = classroom.revealed_tallies(store, state, [q.id for s in case.stages[:revealed] for q in s.questions])
    answers = {question_id: option_id for question_id, (option_id, _) in choices.items()}
    view = classroom.student_view(case, state, answers, shares,
                                  {question_id: sure for question_id, (_, sure) in choices.items()})

    st.markdown(f"### {case.title}")
    st.caption(f"Session {state.code} · you are")
    st.text(student.nickname)
    _status(state, view)

    for stage in view.past:
        with st.expander(f"Stage {stage.number}: {stage_title(stage.kind, stage.heading)}"):
            _stage_body(stage)
            _revealed_questions(stage)

    if view.current is not None:
        stage = view.current
        st.markdown(f"#### Stage {stage.number} of {total}: {components.kind_label(stage.kind)}")
        _stage_body(stage)
        if stage.revealed:
            _revealed_questions(stage)
        elif state.phase in (classroom.OPEN, classroom.CLOSED):
            _questions(store, student, case, state, stage)
    if view.reveal is not None:
        st.divider()
        components.reveal(view.reveal, view.source)
    if view.score is not None and state.phase in (classroom.FINAL, classroom.ENDED, classroom.REVEALED):
        st.metric("Your score so far", f"{view.score.percent:g}%",
                  help=f"{view.score.earned:g} of {view.score.possible} points over the revealed stages")


STATUS = {  # what a student is told in each phase: (alert kind, words, icon)
    classroom.LOBBY: ("info", "You're in. The case starts when your instructor starts it: this page follows by itself.", "⏳"),
    classroom.WAITING: ("info", "Read the findings. Answering opens soon.", "📖"),
    classroom.OPEN: ("success", "Answering is open: choose an answer. You can change it until answering closes.", "✍️"),
    classroom.CLOSED: ("warning", "Answering is closed. The key comes next.", "🔒"),
    classroom.REVEALED: ("info", "The key is revealed. Wait for the next stage.", "💡"),
    classroom.FINAL: ("success", "That was the last stage: here is what the authors of the report found and did.", "🏁"),
    classroom.ENDED: ("info", "This class session has ended. Thank you for taking part!", "👋"),
}


#: While answering is open in a session that asks certainty.
OPEN_WITH_CERTAINTY = ("Answering is open: choose an answer and how sure you are. You can change both until "
                       "answering closes. Being sure of a right answer earns more; being sure of a wrong one costs "
                       "more. Speed does not count.")


def _status(state: SessionState, view: classroom.StudentView) -> None:
    kind, words, icon = STATUS[state.phase]
    if state.phase == classroom.OPEN and view.ask_certainty:
        words = OPEN_WITH_CERTAINTY
    getattr(st, kind)(words, icon=icon)
    if state.phase == classroom.OPEN and state.closes_at is not None:
        st.caption(f"⏱️ Answering closes by itself at {text.local_time(state.closes_at)}: see the countdown on the "
                   "screen.")
    if view.total_stages:
        done = classroom.revealed_stages(state, view.total_stages)
        st.progress(done / view.total_stages, text=f"{done} of {view.total_stages} stages revealed")


def _stage_body(stage: classroom.StudentStage) -> None:
    st.markdown(f"**{stage.heading}**")
    components.findings(stage.findings, quotes=False)
    for image in stage.images:
        st.image(image.path, caption=f"{image.caption} ({image.credit})")


def _questions(store: Store, student: Student, case, state: SessionState, stage: classroom.StudentStage) -> None:
    open_ = state.phase == classroom.OPEN
    errors = st.session_state.setdefault(ERRORS_KEY, {})
    for question_id, entry in list(errors.items()):
        if entry.setdefault("version", state.version) != state.version:
            del errors[question_id]  # the instructor moved on since: the message no longer applies
    for item in stage.questions:
        question = item.asked
        labels = {o.id: o.label for o in question.options}
        key = f"class-{state.id}-{question.id}"
        ids = list(labels)
        index = None if key in st.session_state else (ids.index(item.chosen) if item.chosen in labels else None)
        sure_key = certainty_key(key) if state.ask_certainty else None
        st.radio(
            f"**{components.QUESTION_LABELS.get(question.kind, question.kind.capitalize())}:** {question.prompt}",
            options=ids, format_func=labels.__getitem__, index=index, key=key, disabled=not open_,
            on_change=_save, args=(store, student, case, stage.index, question.id, key, sure_key),
        )
        pending = False
        if sure_key:
            levels = list(calibration.LEVEL_ORDER)
            sure_index = None if sure_key in st.session_state else (
                levels.index(item.certainty) if item.certainty in levels else None)
            st.radio("How sure are you?", levels, format_func=CERTAINTY_LABELS.__getitem__, index=sure_index,
                     key=sure_key, horizontal=True, disabled=not open_,
                     on_change=_save, args=(store, student, case, stage.index, question.id, key, sure_key))
            pending = open_ and st.session_state.get(key) is not None and st.session_state.get(sure_key) is None
        _answer_status(item, labels, errors.get(question.id, {}).get("message"), open_, pending)


def _answer_status(item: classroom.StudentQuestion, labels: dict[str, str], error: str | None, open_: bool,
                   pending: bool = False) -> None:
    """Right under the question, what the database holds (read on this rerun), why the last tap was not
    stored, or (``pending``) that the answer waits for its certainty."""
    sure = f" · {CERTAINTY_LABELS[item.certainty].lower()} certainty" if item.certainty in CERTAINTY_LABELS else ""
    if error:
        text.error(error)
    elif pending:
        st.warning(f"Not saved yet. {classroom.CERTAINTY_NEEDED}", icon="👆")
    elif item.chosen is not None:
        st.caption(f"✅ Saved: {labels[item.chosen]}{sure}" + (" · you can change it until answering closes"
                                                                if open_ else ""))
    else:
        st.caption("No answer saved yet." if open_ else "You did not answer this question.")


def _revealed_questions(stage: classroom.StudentStage) -> None:
    for item in stage.questions:
        if item.result is not None:
            components.feedback((item.result,))
            if item.certainty in CERTAINTY_LABELS:
                st.caption(f"Your certainty: {CERTAINTY_LABELS[item.certainty]} · "
                           f"{calibration.certainty_mark(item.result.credit, item.certainty):+g} in the class score")
        elif item.key is not None:
            with st.container(border=True):
                st.markdown(f"**{components.QUESTION_LABELS.get(item.asked.kind, item.asked.kind)}:** {item.asked.prompt}")
                st.markdown(f"You did not answer. The best answer is **{item.key.best.label}**.")
                if item.key.best.explanation:
                    st.markdown(f"*Best answer:* {item.key.best.explanation}")
                if item.key.teaching_note:
                    st.info(item.key.teaching_note, icon="🎓")
        if item.shares is not None:
            total = sum(item.shares.values())
            if total:
                st.caption(f"How the class answered ({total} answers)")
                for option in item.asked.options:
                    count = item.shares.get(option.id, 0)
                    best = item.key is not None and option.id == item.key.best.id
                    st.progress(count / total, text=f"{'✅ ' if best else ''}{option.label}: {count} ({count / total:.0%})")
