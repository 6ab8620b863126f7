"""Pieces the player, the author preview and the class views share.

Everything here renders a value the engine handed out; nothing reads a case's
answer key directly, so what is on screen is exactly what the engine allows.
"""
from __future__ import annotations

from collections.abc import Callable

import altair as alt
import pandas as pd
import streamlit as st

from .. import engine
from ..engine import QuestionResult, StageView, TraceRow, View
from ..model import Finding, Reveal, Source

KIND_LABELS = {"presentation": "Presentation", "labs": "Labs", "imaging": "Imaging", "histology": "Histology",
               "ihc": "Immunohistochemistry", "staging": "Staging", "intraoperative": "Intraoperative findings",
               "frozen-section": "Frozen section", "molecular": "Molecular"}
QUESTION_LABELS = {"diagnosis": "Leading diagnosis", "next_step": "Next step"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("-", " ").replace("_", " ").capitalize())


def stage_label(stage: StageView, total: int) -> str:
    return f"Stage {stage.number} of {total}: {kind_label(stage.kind)}"


def findings(items: tuple[Finding, ...] | list[Finding], *, quotes: bool = True) -> None:
    """Findings as markdown; each one's verbatim source quotes one click away."""
    for finding in items:
        if quotes and finding.evidence:
            text_col, quote_col = st.columns([12, 2], vertical_alignment="top")
            with text_col:
                st.markdown(f"- {finding.text}")
            with quote_col:
                with st.popover("Source", help="What the case report says, word for word"):
                    for quote in finding.evidence:
                        st.markdown(f"> {quote}")
        else:
            st.markdown(f"- {finding.text}")
        if finding.note:
            st.caption(f"Note: {finding.note}")


def stage_body(stage: StageView) -> None:
    st.markdown(f"#### {stage.heading}")
    findings(stage.findings)
    for image in stage.images:
        st.image(image.path, caption=f"{image.caption} ({image.credit})")


def question_form(stage: StageView, key: str, on_commit: Callable[[int, dict[str, str]], str | None]) -> None:
    """The open stage's questions, nothing selected, and one commit for all of them."""
    with st.form(key=f"{key}-form-{stage.number}"):
        choices: dict[str, str | None] = {}
        for question in stage.questions:
            labels = {o.id: o.label for o in question.options}
            choices[question.id] = st.radio(
                f"**{QUESTION_LABELS.get(question.kind, question.kind.capitalize())}:** {question.prompt}",
                options=list(labels), format_func=labels.__getitem__, index=None,
                key=f"{key}-{stage.number}-{question.id}",
            )
        submitted = st.form_submit_button("Commit answers", type="primary")
    if submitted:
        missing = [q.prompt for q in stage.questions if choices.get(q.id) is None]
        if missing:
            st.warning("Choose an answer for every question before you commit: " + "; ".join(missing), icon="✋")
            return
        problem = on_commit(stage.number - 1, {k: v for k, v in choices.items() if v is not None})
        if problem:
            st.error(problem)
        else:
            st.rerun()


def verdict(result: QuestionResult) -> tuple[str, str]:
    if result.correct:
        return "✅", "Correct: this is the best answer."
    if result.credit > 0:
        return "🟡", f"Partly right ({result.credit:.0%} credit). The best answer is **{result.best.label}**."
    return "❌", f"Not the best answer. The best answer is **{result.best.label}**."


def feedback(results: tuple[QuestionResult, ...], *, expanded_others: bool = False) -> None:
    """Right or wrong in icon and words, the chosen and best explanations, the rest one click away."""
    for result in results:
        icon, words = verdict(result)
        with st.container(border=True):
            st.markdown(f"**{QUESTION_LABELS.get(result.kind, result.kind)}:** {result.prompt}")
            st.markdown(f"{icon} You chose **{result.chosen.label}**. {words}")
            if result.chosen.explanation:
                st.markdown(f"*Your choice:* {result.chosen.explanation}")
            if not result.correct and result.best.explanation:
                st.markdown(f"*Best answer:* {result.best.explanation}")
            others = [o for o in result.options if not o.chosen and not o.best]
            if others:
                with st.expander("Why not the other options?", expanded=expanded_others):
                    for option in others:
                        credit = f" ({option.credit:.0%} credit)" if option.credit else ""
                        st.markdown(f"**{option.label}**{credit}: {option.explanation or '(no explanation given)'}")
            if result.teaching_note:
                st.info(result.teaching_note, icon="🎓")


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


def reveal(content: Reveal, source: Source | None) -> None:
    """What the report's authors concluded, did and saw, with the source."""
    st.subheader("What the authors found and did")
    st.success(f"**Final diagnosis:** {content.diagnosis}", icon="🔬")
    if content.diagnosis_evidence:
        with st.popover("Source"):
            for quote in content.diagnosis_evidence:
                st.markdown(f"> {quote}")
    st.markdown("##### Management as reported")
    findings(content.management)
    st.markdown("##### Outcome and follow-up")
    findings(content.outcome)
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
    st.dataframe(frame, hide_index=True, width="stretch")
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("Stage:N", sort=None, title=None),
        xOffset="Question:N",
        y=alt.Y("Credit:Q", scale=alt.Scale(domain=[0, 1]), title="Credit"),
        color=alt.Color("Question:N"),
        tooltip=["Stage", "Question", "Your answer", "Best answer", "Credit"],
    ).properties(height=220)
    st.altair_chart(chart, width="stretch")


def play(view: View, key: str, on_commit: Callable[[int, dict[str, str]], str | None],
         acknowledged: int, on_continue: Callable[[int], None]) -> None:
    """Lay out a case as the engine's view allows: past stages, feedback, the open stage, the reveal.

    ``acknowledged`` is how many committed stages' feedback the learner has moved past; the newly
    committed stage's feedback is shown before the next stage opens.
    """
    committed = sum(1 for s in view.stages if s.results is not None)
    st.progress(committed / view.total_stages, text=f"{committed} of {view.total_stages} stages committed")
    for stage in view.stages:
        if stage.results is not None and stage.number <= acknowledged:
            with st.expander(f"✔ {stage_label(stage, view.total_stages)} — {stage.heading}", expanded=False):
                stage_body(stage)
                feedback(stage.results)
            continue
        st.markdown(f"### {stage_label(stage, view.total_stages)}")
        stage_body(stage)
        if stage.results is None:
            question_form(stage, key, on_commit)
            return
        st.markdown("##### Feedback")
        feedback(stage.results)
        label = "See what the authors did" if stage.number == view.total_stages else f"Continue to stage {stage.number + 1}"
        if st.button(label, type="primary", key=f"{key}-continue-{stage.number}"):
            on_continue(stage.number)
            st.rerun()
        return
    if view.finished and view.reveal is not None:
        reveal(view.reveal, view.source)
        trace(view.trace, view.score)
