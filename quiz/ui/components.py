"""Pieces the player, the author preview and the class views share.

Everything here renders a value the engine handed out; nothing reads a case's
answer key directly, so what is on screen is exactly what the engine allows.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import altair as alt
import pandas as pd
import streamlit as st

from ..play import engine, peers
from ..play.engine import QuestionResult, StageView, TraceRow, View
from ..content.model import Finding, Reveal, Source

KIND_LABELS = {"presentation": "Presentation", "labs": "Labs", "imaging": "Imaging", "histology": "Histology",
               "ihc": "Immunohistochemistry", "staging": "Staging", "intraoperative": "Intraoperative findings",
               "frozen-section": "Frozen section", "molecular": "Molecular"}
QUESTION_LABELS = {"diagnosis": "Diagnosis", "next_step": "Next step", "review": "Review question"}


def question_label(kind: str) -> str:
    """"Diagnosis", "Next step", or a readable form of another kind (never a raw id)."""
    return QUESTION_LABELS.get(kind, kind.replace("-", " ").replace("_", " ").capitalize())


def choice(question: engine.AskedQuestion, key: str, *, heading: bool = True, **radio_args) -> str | None:
    """One question as a radio group, its options in the engine's display order.

    The visible heading is markdown; the group's own label (what a screen reader announces)
    is the same words as plain text, so no asterisks are read out.
    """
    labels = {o.id: o.label for o in question.options}
    name = f"{question_label(question.kind)}: {question.prompt}" if heading else question.prompt
    if heading:
        st.markdown(f"**{question_label(question.kind)}:** {question.prompt}")
    return st.radio(name, options=list(labels), format_func=labels.__getitem__, key=key,
                    label_visibility="collapsed" if heading else "visible", **radio_args)


def scroll_to(anchor: str) -> None:
    """Bring the container keyed ``anchor`` to the top of the screen, once.

    A tiny script in the page (``st.html`` runs it when its element mounts, not on later reruns with
    the same body); call this in the one rerun that follows the click, at the end of the page, so that
    its element appearing or going shifts nothing above. The retries wait for Streamlit to lay out the
    target, and keep it in place while the elements above settle.
    """
    selector = json.dumps(f".st-key-{anchor}")
    st.html(
        "<script>(() => { let tries = 0; const go = () => {"
        f" const el = document.querySelector({selector});"
        " if (el) { el.style.scrollMarginTop = '4rem'; el.scrollIntoView({block: 'start'}); }"
        " if (++tries < 4) setTimeout(go, tries * 120); }; go(); })();</script>",
        unsafe_allow_javascript=True, width="content",
    )


def select_line(label: str, line: int, nonce: int) -> None:
    """Put the caret of the text area labelled ``label`` on ``line``, select that line and scroll to it.

    The author page's "go to line" for a problem. ``nonce`` makes each request a new element, since
    ``st.html`` runs its script when the element mounts, not again for the same body.
    """
    target = json.dumps(f'textarea[aria-label="{label}"]')
    script = (
        "(() => { let tries = 0, done = false; const stop = () => { done = true; };"
        # the author's own key or tap ends the request: from then on the caret is theirs
        " document.addEventListener('keydown', stop, {capture: true, once: true});"
        " document.addEventListener('pointerdown', stop, {capture: true, once: true});"
        " const place = (box) => {"
        f" const lines = box.value.split('\\n'); const n = Math.min({int(line)}, lines.length);"
        " let start = 0; for (let i = 0; i < n - 1; i++) start += lines[i].length + 1;"
        " if (document.activeElement === box && box.selectionStart === start) return;"
        " box.focus(); box.setSelectionRange(start, start + lines[n - 1].length);"
        # wrapped lines make line numbers no guide to height: measure the text above in a hidden twin
        " const twin = box.cloneNode(); twin.style.cssText += ';position:absolute;visibility:hidden;height:0;';"
        " twin.style.width = box.offsetWidth + 'px'; box.parentNode.appendChild(twin);"
        " twin.value = box.value.slice(0, start); const above = twin.scrollHeight; twin.remove();"
        " box.scrollTop = Math.max(0, above - box.clientHeight / 3);"
        " box.scrollIntoView({block: 'center'}); };"
        # a rerun still under way (seconds on a busy server) may redraw the box and drop the
        # selection: keep putting it back for 6 s, unless the author has pressed a key or tapped
        f" const go = () => {{ if (done) return; const box = document.querySelector({target});"
        " if (box) place(box); if (++tries < 20) setTimeout(go, 300); }; go(); })();"
    )
    st.html(f"<script data-request='{int(nonce)}'>{script}</script>", unsafe_allow_javascript=True, width="content")


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("-", " ").replace("_", " ").capitalize())


def stage_label(stage: StageView, total: int) -> str:
    return f"Stage {stage.number} of {total}: {kind_label(stage.kind)}"


def _list_item(text: str) -> str:
    """``text`` as one item of a markdown list: every line after the first indented under the marker,
    so that a table or a nested list in a finding stays a table or a list inside its item."""
    first, *rest = text.split("\n")
    return "\n".join([f"- {first}", *(f"  {line}" if line.strip() else "" for line in rest)])


def findings(items: tuple[Finding, ...] | list[Finding], *, key: str | None = None, quotes: bool = True) -> None:
    """Findings as one markdown list; with ``key``, a toggle shows each one's verbatim source quotes."""
    show_quotes = quotes and key is not None and any(f.evidence for f in items) and st.toggle(
        "Show source quotes", key=f"quotes-{key}", help="What the case report says, word for word")
    st.markdown(findings_text(items, quotes=show_quotes))


def findings_text(items: tuple[Finding, ...] | list[Finding], *, quotes: bool = False) -> str:
    parts = []
    for finding in items:
        item = [_list_item(finding.text)]
        blocks = "\n" in finding.text  # a table or list ends its paragraph: the note needs its own
        if finding.note:
            item.append(("\n\n  " if blocks else "  \n  ") + f"*Note: {' '.join(finding.note.split())}*")
        if quotes:
            item.extend(f"\n\n  > “{' '.join(quote.split())}”" for quote in finding.evidence)
        parts.append("".join(item))
    return "\n".join(parts)


def stage_body(stage: StageView, key: str, *, heading: bool = True) -> None:
    """A stage's findings and images; ``heading=False`` when the caller has drawn its heading."""
    if heading:
        st.markdown(f"#### {stage.heading}")
    findings(stage.findings, key=f"{key}-{stage.number}")
    for image in stage.images:
        st.image(image.path, caption=f"{image.caption} ({image.credit})")


@dataclass(frozen=True)
class Around:
    """What a page adds around the engine's stages (the self-study player's reasoning); each may be None.

    ``before_form`` and ``after_question`` (given each question) and ``form_end`` draw the open stage's
    extra inputs; ``after_feedback`` draws under a committed stage's feedback; ``after_trace`` under the trace.
    """

    before_form: Callable[[StageView], None] | None = None
    after_question: Callable[[StageView, engine.AskedQuestion], None] | None = None
    form_end: Callable[[StageView], None] | None = None
    after_feedback: Callable[[StageView], None] | None = None
    after_trace: Callable[[], None] | None = None


def question_form(stage: StageView, key: str, on_commit: Callable[[int, dict[str, str]], str | None],
                  around: Around | None = None) -> None:
    """The open stage's questions, nothing selected, and one commit for all of them.

    The commit runs as the button's callback, before the script reruns, so the page that
    follows already shows the feedback (one rerun, not two).
    """
    radio_keys = {q.id: f"{key}-{stage.number}-{q.id}" for q in stage.questions}
    message_key = f"{key}-message-{stage.number}"

    def commit() -> None:
        choices = {qid: st.session_state.get(radio_key) for qid, radio_key in radio_keys.items()}
        missing = [q.prompt for q in stage.questions if choices[q.id] is None]
        if missing:
            st.session_state[message_key] = ("warning", "Choose an answer for every question before you commit: " + "; ".join(missing))
            return
        problem = on_commit(stage.number - 1, choices)  # type: ignore[arg-type]
        if problem:
            st.session_state[message_key] = ("error", problem)

    around = around or Around()
    if around.before_form:
        around.before_form(stage)
    with st.form(key=f"{key}-form-{stage.number}"):
        for question in stage.questions:
            choice(question, radio_keys[question.id], index=None)
            if around.after_question:
                around.after_question(stage, question)
        if around.form_end:
            around.form_end(stage)
        st.form_submit_button("Commit answers", type="primary", on_click=commit)
    message = st.session_state.pop(message_key, None)
    if message:
        (st.warning if message[0] == "warning" else st.error)(message[1])


def verdict(result: QuestionResult) -> tuple[str, str]:
    if result.correct:
        return "✅", "Correct: this is the best answer."
    if result.credit > 0:
        return "🟡", f"Partly right ({result.credit:.0%} credit). The best answer is **{result.best.label}**."
    return "❌", f"Not the best answer. The best answer is **{result.best.label}**."


def _quoted(text: str) -> str:
    """``text`` as a Markdown block quote, every line of it."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.split("\n"))


def feedback(results: tuple[QuestionResult, ...], *, expanded_others: bool = False, prompt: bool = True,
             heading: str | None = None) -> None:
    """Right or wrong in icon and words, the chosen and best explanations, the rest one click away.

    All the questions given share one box: their verdicts are one Markdown element and the other
    options' explanations one more, behind one fold, because Streamlit charges for every element a
    commit draws (docs/performance.md). ``prompt=False`` leaves out each question's heading, for a
    question still on screen just above; ``heading`` opens the box.
    """
    verdicts, others = [], []
    for result in results:
        icon, words = verdict(result)
        lines = [f"**{question_label(result.kind)}:** {result.prompt}"] if prompt else []
        lines.append(f"{icon} You chose **{result.chosen.label}**. {words}")
        if result.chosen.explanation:
            lines.append(f"*Your choice:* {result.chosen.explanation}")
        if not result.correct and result.best.explanation:
            lines.append(f"*Why {result.best.label} is best:* {result.best.explanation}")
        if result.teaching_note:
            lines.append(_quoted(f"🎓 {result.teaching_note}"))
        verdicts.append("\n\n".join(lines))
        rest = [o for o in result.options if not o.chosen and not o.best]
        if rest:
            others.append("\n\n".join(
                ([f"**{question_label(result.kind)}:** {result.prompt}"] if len(results) > 1 else [])
                + [f"**{o.label}**{f' ({o.credit:.0%} credit)' if o.credit else ''}: "
                   f"{o.explanation or '(no explanation given)'}" for o in rest]))
    with st.container(border=True):
        st.markdown("\n\n---\n\n".join(verdicts) if heading is None
                    else f"##### {heading}\n\n" + "\n\n---\n\n".join(verdicts))
        if others:
            with st.expander("Why not the other options?", expanded=expanded_others):
                st.markdown("\n\n---\n\n".join(others))


def peer_shares(results: tuple[QuestionResult, ...], stats: Mapping[str, object | None]) -> None:
    """How first attempts on this server answered each question (``peers.PeerStats``), in this showing's order.

    The core gives no figures below its minimum n, so none can be read off one learner's answer.
    """
    parts = []
    for result in results:
        if result.question_id not in stats:
            continue
        figures = stats[result.question_id]
        heading = f"**{question_label(result.kind)}**"
        if figures is None:
            parts.append(f"{heading}: shown once {peers.MIN_N} learners on this server have answered this question.")
            continue
        parts.append(f"{heading}: first attempts on this server, n = {figures.n} · difficulty: {figures.band}\n"
                     + "\n".join(f"- {o.label}{' (best)' if o.best else ''}: {figures.options[o.id].share:.0%}"
                                 for o in result.options if o.id in figures.options))
    if parts:
        st.markdown("\n\n".join(parts))


def summary_text(results: tuple[QuestionResult, ...]) -> str:
    """One line per question of a stage already moved past: what was chosen and the best answer."""
    return "\n".join(f"- {verdict(r)[0]} {question_label(r.kind)}: **{r.chosen.label}**"
                     + ("" if r.correct else f" (best: {r.best.label})") for r in results)


def citation(source: Source) -> str:
    parts = [", ".join(source.authors) if source.authors else None, source.title,
             source.journal, str(source.year) if source.year else None]
    text = ". ".join(p.rstrip(".") for p in parts if p) + "."
    link = source.url or (f"https://doi.org/{source.doi}" if source.doi else None)
    if source.doi:
        text += f" DOI: [{source.doi}]({link})" if link else f" DOI: {source.doi}"
    elif link:
        text += f" [{link}]({link})"
    if source.licence:
        text += f" Licence: {source.licence}."
    return text


def reveal(content: Reveal, source: Source | None, *, anchor: str | None = None, key: str = "reveal") -> None:
    """What the report's authors concluded, did and saw, with the source; ``anchor`` keys its top for
    scroll_to, ``key`` tells reveals on one page apart."""
    with st.container(key=anchor) if anchor else st.container():
        st.subheader("What the authors found and did")
        st.success(f"**Final diagnosis:** {content.diagnosis}", icon="🔬")
    if content.diagnosis_evidence:
        st.caption("The report: " + " … ".join(f"“{quote}”" for quote in content.diagnosis_evidence))
    st.markdown("##### Management as reported")
    findings(content.management, key=f"{key}-management")
    st.markdown("##### Outcome and follow-up")
    findings(content.outcome, key=f"{key}-outcome")
    st.markdown("##### Teaching points")
    for point in content.teaching_points:
        st.markdown(f"- {point}")
    if content.discrepancies:
        st.markdown("##### Where the report contradicts itself")
        for item in content.discrepancies:
            st.markdown(f"- {item.text}  \n  *In this vignette:* {item.resolution}")
    if source is not None:
        st.markdown("##### Source")
        st.markdown(citation(source))
        if source.note:
            st.caption(source.note)
    if content.references:
        with st.expander("Further references"):
            for ref in content.references:
                st.markdown(f"- {ref}")


def trace_frame(rows: tuple[TraceRow, ...]) -> pd.DataFrame:
    return pd.DataFrame([{
        "Stage": f"{r.stage_number}. {kind_label(r.stage_kind)}",
        "Question": QUESTION_LABELS.get(r.question_kind, r.question_kind),
        "Your answer": r.chosen_label,
        "Best answer": r.best_label,
        "Credit": r.credit,
        "Result": "✅ best" if r.credit == 1 else ("🟡 partial" if r.credit > 0 else "❌ missed"),
    } for r in rows])


def trace(rows: tuple[TraceRow, ...], score: engine.Score) -> None:
    """The reasoning trace as a table and a chart, and the score."""
    st.subheader("Your reasoning trace")
    st.metric("Score", f"{score.percent:g}%", help=f"{score.earned:g} of {score.possible} points")
    frame = trace_frame(rows)
    st.dataframe(frame, hide_index=True, width="stretch", placeholder="—")
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("Stage:N", sort=None, title=None),
        xOffset="Question:N",
        y=alt.Y("Credit:Q", scale=alt.Scale(domain=[0, 1]), title="Credit"),
        color=alt.Color("Question:N"),
        tooltip=["Stage", "Question", "Your answer", "Best answer", "Credit"],
    ).properties(height=220)
    st.altair_chart(chart, width="stretch")


def progress(view: View, number: int | None, place=None) -> None:
    """Where the learner is in the case, as a bar: the stage in play (``number``; None once the reveal is
    due). ``place`` (an ``st.empty`` above) lets a fragment redraw it."""
    total = view.total_stages
    shown = total if number is None else number
    (place or st).progress(shown / total, text="Every stage committed" if number is None
                           else f"Stage {number} of {total}")


def open_stage_number(view: View, acknowledged: int) -> int | None:
    """The stage in play: the first not yet committed, or committed with its feedback still on screen.
    None once every stage's feedback has been moved past (the reveal's turn)."""
    return next((s.number for s in view.stages if s.results is None or s.number > acknowledged), None)


def past_stage(stage: StageView, total: int) -> None:
    """A stage moved past: folded, with its findings and what was chosen."""
    with st.expander(f"✔ {stage_label(stage, total)} — {stage.heading}", expanded=False):
        st.markdown(findings_text(stage.findings) + "\n\n---\n\n" + summary_text(stage.results))


def _scroll_key(key: str) -> str:
    """Where Continue leaves what :func:`play` scrolls to on the run that follows."""
    return f"{key}-scroll-to"


def play(view: View, key: str, on_commit: Callable[[int, dict[str, str]], str | None],
         acknowledged: int, on_continue: Callable[[int], None], *, notices: dict[int, str] | None = None,
         around: Around | None = None, peer_stats: Callable[[], Mapping[str, object | None]] | None = None,
         start: int = 1, place=None, answers_in: Callable[[int], None] | None = None) -> None:
    """Lay out a case as the engine's view allows: past stages, feedback, the open stage, the reveal.

    ``acknowledged`` is how many committed stages' feedback the learner has moved past; the newly
    committed stage's feedback is shown before the next stage opens. ``notices`` maps a stage
    number to a warning shown above its feedback. ``peer_stats``, when given, is asked for
    the peer figures (``peers.stats_for_case``) only when a stage's feedback is on screen.
    ``start`` leaves out the stages before it (the player draws those outside its fragment), and
    ``place`` is where the progress bar goes. ``answers_in``, given the open stage's number, draws its
    questions or feedback in place of :func:`stage_answers` (the player's fragment of its own).
    """
    target = st.session_state.pop(_scroll_key(key), None)  # set by the Continue button just clicked
    number = open_stage_number(view, acknowledged)
    progress(view, number, place)
    for stage in view.stages[start - 1:]:
        if stage.results is not None and stage.number <= acknowledged:
            past_stage(stage, view.total_stages)
            continue
        with st.container(key=f"{key}-stage-{stage.number}"):
            st.markdown(f"### {stage_label(stage, view.total_stages)}\n\n#### {stage.heading}")
        stage_body(stage, key, heading=False)
        if answers_in is not None:
            answers_in(stage.number)
        else:
            stage_answers(view, stage, key, on_commit, on_continue, notices=notices, around=around,
                          peer_stats=peer_stats)
        break
    else:
        if view.finished and view.reveal is not None:
            reveal(view.reveal, view.source, anchor=f"{key}-reveal")
            trace(view.trace, view.score)
            if around and around.after_trace:
                around.after_trace()
    if target:
        scroll_to(target)


def stage_answers(view: View, stage: StageView, key: str, on_commit: Callable[[int, dict[str, str]], str | None],
                  on_continue: Callable[[int], None], *, notices: dict[int, str] | None = None,
                  around: Around | None = None,
                  peer_stats: Callable[[], Mapping[str, object | None]] | None = None) -> None:
    """The open stage under its findings: its questions until the commit, then their feedback and Continue
    (which calls ``on_continue`` with the stage's number and asks :func:`play` to scroll to what follows)."""
    around = around or Around()
    if stage.results is None:
        question_form(stage, key, on_commit, around)
        return

    def advance(stage_number: int) -> None:
        last = stage_number == view.total_stages
        st.session_state[_scroll_key(key)] = f"{key}-reveal" if last else f"{key}-stage-{stage_number + 1}"
        on_continue(stage_number)

    if notices and stage.number in notices:
        st.warning(notices[stage.number], icon="⚠️")
    feedback(stage.results, heading="Feedback")
    # asked for, not drawn with every commit: the figures are a query over every learner's answers
    if peer_stats is not None and st.toggle("How others answered", key=f"{key}-peers-{stage.number}",
                                            help="The first attempts of the learners on this server"):
        peer_shares(stage.results, peer_stats())
    if around.after_feedback:
        around.after_feedback(stage)
    label = "See what the authors did" if stage.number == view.total_stages else f"Continue to stage {stage.number + 1}"
    st.button(label, type="primary", key=f"{key}-continue-{stage.number}", on_click=advance, args=(stage.number,))
