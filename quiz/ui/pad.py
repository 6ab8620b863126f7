"""The learner's reasoning around a stage: the differential pad before the commit, certainty and the
problem representation with the answers, and after the commit the pad beside the expert's.

The measures are in the core (:mod:`quiz.play.differential`, :mod:`quiz.play.calibration`); this
module only lays out widgets and reads them back. Nothing of a stage's expected differential or
model one-liner is drawn until :func:`comparison` is called for a committed stage.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd
import streamlit as st

from ..content.model import Case, CatalogueEntry, Finding
from ..play import calibration, differential
from ..play.differential import Pad
from ..play.reasoning_trace import StageTrace
from .text import plain, unformatted

CERTAINTY_LABELS = {"low": "Low", "moderate": "Moderate", "high": "High"}


# --- widget keys ---------------------------------------------------------------------------------

def pad_key(key: str, number: int) -> str:
    return f"{key}-pad-{number}"


def _lead_key(key: str, number: int) -> str:
    return f"{key}-pad-lead-{number}"


def _flag_key(key: str, number: int) -> str:
    return f"{key}-pad-mnm-{number}"


def _tie_target_key(key: str, number: int) -> str:
    return f"{key}-pad-tie-target-{number}"


def _side_key(key: str, number: int, diagnosis: str, side: str) -> str:
    return f"{key}-pad-{side}-{number}-{diagnosis}"


def _details_key(key: str, number: int) -> str:
    return f"{key}-pad-details-{number}"


def _flags_kept_key(key: str, number: int) -> str:
    """Not a widget: the flagged entries, kept while the flags' picker is not drawn."""
    return f"{key}-pad-flags-{number}"


def _ties_key(key: str, number: int) -> str:
    """Not a widget: {diagnosis: {side: [finding ids]}} for every entry, while only one entry's widgets are drawn."""
    return f"{key}-pad-ties-{number}"


def certainty_key(key: str, number: int, question_id: str) -> str:
    return f"{key}-{number}-{question_id}-certainty"


def representation_key(key: str, number: int) -> str:
    return f"{key}-oneliner-{number}"


def asks_representation(number: int, total: int) -> bool:
    """The one-liner is asked at the presentation stage and at the last stage before the reveal."""
    return number in (1, total)


# --- before the commit ---------------------------------------------------------------------------

def diagnosis_options(catalogue: Mapping[str, CatalogueEntry]) -> list[str]:
    """Every catalogue diagnosis, by label: the pad is chosen from all of them, not from the question's options."""
    return list(_picker(catalogue))


def _picker(catalogue: Mapping[str, CatalogueEntry]) -> dict[str, str]:
    """{diagnosis id: the text the type-ahead matches} in label order, worked out once per loaded catalogue."""
    held = _PICKERS.get(id(catalogue))
    if held is None or held[0] is not catalogue:
        ids = sorted((e.id for e in catalogue.values() if e.kind == "diagnosis"),
                     key=lambda i: differential.fold(catalogue[i].label))
        held = (catalogue, {i: option_text(catalogue[i]) for i in ids})
        if len(_PICKERS) > 8:  # content reloaded many times in one process: drop the old ones
            _PICKERS.clear()
        _PICKERS[id(catalogue)] = held
    return held[1]


_PICKERS: dict[int, tuple[Mapping[str, CatalogueEntry], dict[str, str]]] = {}


def option_text(entry: CatalogueEntry) -> str:
    """The label with its synonyms, so typing a synonym finds the entry."""
    return f"{entry.label} ({'; '.join(entry.synonyms)})" if entry.synonyms else entry.label


def _prefill(key: str, number: int, pad: Pad, shown: Mapping[str, Finding]) -> None:
    """Start this stage's widgets from the pad committed with the previous stage (once per stage)."""
    if pad_key(key, number) in st.session_state:
        return
    st.session_state[pad_key(key, number)] = list(pad.ids)
    if pad.leading:
        st.session_state[_lead_key(key, number)] = pad.leading
    st.session_state[_flags_kept_key(key, number)] = [e.diagnosis for e in pad.entries if e.must_not_miss]
    st.session_state[_ties_key(key, number)] = {
        e.diagnosis: {side: [f for f in getattr(e, side) if f in shown] for side in differential.SIDES}
        for e in pad.entries}


def _ties(key: str, number: int, chosen: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """Every entry's findings for and against. The widgets of the entry drawn last run hold the newest
    choice: it is copied here before they may go (Streamlit forgets a widget's value once it is not drawn)."""
    ties = st.session_state.setdefault(_ties_key(key, number), {})
    for diagnosis in chosen:
        for side in differential.SIDES:
            widget = _side_key(key, number, diagnosis, side)
            if widget in st.session_state:
                ties.setdefault(diagnosis, {})[side] = list(st.session_state[widget])
    return ties


def _flags(key: str, number: int, chosen: Sequence[str]) -> list[str]:
    """The entries flagged must-not-miss; as with :func:`_ties`, the picker drawn last run holds the newest choice."""
    if _flag_key(key, number) in st.session_state:
        st.session_state[_flags_kept_key(key, number)] = list(st.session_state[_flag_key(key, number)])
    return [d for d in st.session_state.get(_flags_kept_key(key, number)) or () if d in chosen]


def forget(key: str, number: int) -> None:
    """Drop stage ``number``'s pad from the session once the learner moves past it: the store holds what was
    committed, and Streamlit walks the whole session for every radio and selectbox it draws, so what the
    session keeps per stage would slow every later stage."""
    sides = tuple(f"{key}-pad-{side}-{number}-" for side in differential.SIDES)
    mine = {pad_key(key, number), _lead_key(key, number), _flag_key(key, number), _tie_target_key(key, number),
            _details_key(key, number), _flags_kept_key(key, number), _ties_key(key, number)}
    for name in [k for k in st.session_state if k in mine or k.startswith(sides)]:
        del st.session_state[name]


def finding_text(finding: Finding, limit: int = 90) -> str:
    """A finding as a picker's option: its words without Markdown, cut at ``limit`` characters."""
    text = unformatted(finding.text)
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


@st.fragment
def editor(key: str, number: int, catalogue: Mapping[str, CatalogueEntry], shown: Mapping[str, Finding],
           previous: Pad) -> None:
    """The pad for the open stage: up to five diagnoses in rank order, the leading one, flags and findings.

    A fragment: an edit reruns the pad alone, not the stage or the page (nothing else on them depends
    on it before the commit, which reads it from the session). The flags and findings are drawn only
    when the learner asks for them, and findings are tied to one entry at a time (the learner picks
    which): a widget per entry and side would cost every rerun a dozen elements.
    """
    _prefill(key, number, previous, shown)
    with st.container(border=True):
        labels = _picker(catalogue)
        chosen = st.multiselect(
            "My differential (up to 5, most likely first)", list(labels), format_func=labels.__getitem__,
            key=pad_key(key, number), max_selections=differential.MAX_ENTRIES,
            placeholder="Type a diagnosis or a synonym…",
            help="Chosen from the whole catalogue. The order you pick them in is their rank; "
                 "remove and re-add one to move it down.")
        if not chosen:
            st.caption("Optional: keep a differential and revise it stage by stage; it is compared with an "
                       "expert's after you commit.")
            return
        short = {i: catalogue[i].label for i in chosen}
        ties, flagged = _ties(key, number, chosen), _flags(key, number, chosen)
        for widget in (_lead_key(key, number), _tie_target_key(key, number)):
            if st.session_state.get(widget) not in chosen:
                st.session_state[widget] = chosen[0]
        st.selectbox("Leading diagnosis (the one you would act on)", chosen, format_func=short.__getitem__,
                     key=_lead_key(key, number))
        marked = len(flagged) + sum(bool(ties.get(d, {}).get(side)) for d in chosen for side in differential.SIDES)
        if not st.toggle("Must-not-miss flags and the findings for or against each"
                         + (f" ({marked} set)" if marked else ""), key=_details_key(key, number)):
            return
        flags = _flag_key(key, number)
        if st.session_state.get(flags) != flagged:
            st.session_state[flags] = flagged
        st.multiselect("Must not miss", chosen, format_func=short.__getitem__, key=flags, placeholder="None flagged")
        if not shown:
            return
        target = st.selectbox("Findings for or against", chosen, format_func=short.__getitem__,
                              key=_tie_target_key(key, number))
        finding_ids = list(shown)
        texts = {f: finding_text(shown[f]) for f in finding_ids}
        for side, words in (("supports", "Supported by"), ("against", "Argued against by")):
            widget = _side_key(key, number, target, side)
            if widget not in st.session_state:
                st.session_state[widget] = [f for f in ties.get(target, {}).get(side, ()) if f in shown]
            st.multiselect(f"{words} (for {short[target]})", finding_ids, format_func=texts.__getitem__,
                           key=widget, placeholder="Findings")


def read(key: str, number: int, catalogue: Mapping[str, CatalogueEntry]) -> Pad:
    """The pad as the widgets hold it now (empty when the learner kept none)."""
    pad = differential.EMPTY
    chosen = st.session_state.get(pad_key(key, number)) or ()
    flagged = set(_flags(key, number, chosen))
    ties = _ties(key, number, chosen)
    for diagnosis in chosen:
        pad = differential.add(pad, diagnosis, catalogue)
        if diagnosis in flagged:
            pad = differential.flag_must_not_miss(pad, diagnosis)
        for side in differential.SIDES:
            for finding in ties.get(diagnosis, {}).get(side, ()):
                pad = differential.cite(pad, diagnosis, finding, side)
    lead = st.session_state.get(_lead_key(key, number))
    if pad.entries and lead in pad.ids and lead != pad.ids[0]:
        pad = differential.set_leading(pad, lead)
    return pad


def certainty(key: str, number: int, question_id: str) -> None:
    """How sure the learner is of the diagnosis just above, committed with it."""
    st.radio("How sure are you of this diagnosis?", list(CERTAINTY_LABELS), format_func=CERTAINTY_LABELS.__getitem__,
             key=certainty_key(key, number, question_id), index=None, horizontal=True)


def representation(key: str, number: int) -> None:
    st.text_input("Problem representation (optional): the case in one line", key=representation_key(key, number),
                  max_chars=300, placeholder="e.g. age, sex, course, site, key findings and key negatives")


# --- after the commit ----------------------------------------------------------------------------

def _label(catalogue: Mapping[str, CatalogueEntry], diagnosis: str) -> str:
    entry = catalogue.get(diagnosis)
    return entry.label if entry else diagnosis


def _cell(text: str) -> str:
    """``text`` fit for one cell of a Markdown table: no line breaks, no column separators."""
    return " ".join(text.split()).replace("|", "\\|")


def comparison(case: Case, stage_index: int, pad: Pad | None, catalogue: Mapping[str, CatalogueEntry]) -> None:
    """The learner's pad beside the expert's for a committed stage: what was missed, what the findings argue
    against, must-not-miss coverage and the differential score.

    One table, rank by rank, and one Markdown element in all: it reads side by side on a phone too,
    and a commit pays for every element it draws (docs/performance.md).
    """
    stage = case.stages[stage_index]
    if not differential.has_differential(stage):
        return
    shown = differential.shown_findings(case, stage_index)
    mine = list(pad.entries) if pad else []
    expert = list(differential.expert(stage))
    rows = ["| | Yours | An expert's, at this stage |", "| --- | --- | --- |"]
    for rank in range(1, max(len(mine), len(expert)) + 1):
        yours = ""
        if rank <= len(mine):
            entry = mine[rank - 1]
            yours = (_cell(_label(catalogue, entry.diagnosis)) + (" — **leading**" if entry.diagnosis == pad.leading_id else "")
                     + (" ⚠️ must not miss" if entry.must_not_miss else ""))
        theirs = ""
        if rank <= len(expert):
            entry = expert[rank - 1]
            theirs = (f"**{_cell(_label(catalogue, entry.diagnosis))}**{' ⚠️ must not miss' if entry.must_not_miss else ''}"
                      f" — {_cell(entry.reason)}")
        rows.append(f"| {rank} | {yours} | {theirs} |")
    parts = ["##### Your differential beside an expert's", "\n".join(rows)]
    if not mine:
        parts.append("*You kept no differential at this stage.*")
    else:
        result = differential.compare(case, stage_index, pad)
        covered = "none to cover" if result.must_not_miss is None else f"{100 * result.must_not_miss:.0f}%"
        notes = [f"**Differential score {result.percent:g}%** · expert entries included: "
                 f"**{len(result.included)} of {len(result.expert)}** · must-not-miss covered: **{covered}**  \n"
                 "*The score weighs the expert's entries you included by their rank, your must-not-miss coverage "
                 "and the place of the eventual diagnosis (docs/reasoning.md).*\n"]
        for entry in result.missed:
            notes.append(f"- Not on your list: **{_label(catalogue, entry.diagnosis)}**"
                         + (" (a must-not-miss at this point)" if entry.must_not_miss else ""))
        for kept in result.kept_against:
            name = _label(catalogue, kept.diagnosis)
            if kept.why == "expert-against":
                why = "; ".join(shown[f].text for f in kept.findings if f in shown)
                notes.append(f"- Worth weighing: you kept **{name}**, and the findings so far argue against it"
                             + (f" ({why})." if why else "."))
            else:
                notes.append(f"- Worth weighing: you kept **{name}** with no finding cited for it, and the expert "
                             "left it off at this stage.")
        parts.append("\n".join(notes))
    with st.container(border=True):
        st.markdown("\n\n".join(parts))


def representation_feedback(case: Case, stage_index: int, mine: str | None) -> None:
    """The learner's one-liner beside the author's, the author's qualifiers ticked where the learner used them."""
    model = case.stages[stage_index].problem_representation
    if model is None:
        return
    matched = calibration.match_qualifiers(mine or "", model.qualifiers)
    with st.container(border=True):
        st.markdown("\n\n".join([
            "##### Problem representation",
            f"**Yours:** {mine}" if mine else "*You wrote no one-liner at this stage.*",
            f"**The author's:** {model.summary}",
            "  \n".join(f"{'☑' if m.used else '☐'} {m.qualifier}" for m in matched.matches),
            *([f"You used {matched.used} of {len(matched.matches)} qualifiers."] if mine else [])]))


# --- at the reveal -------------------------------------------------------------------------------

def trace_lines(trace: StageTrace, with_pad: bool = True) -> str:
    """One stage of the reasoning trace as Markdown: the pad (leading, must-not-miss), certainty, the one-liner.

    ``with_pad=False`` where no pad is offered (an exam): "none kept" would blame the learner for it.
    """
    parts = []
    if with_pad:
        pad = ", ".join(f"{line.rank}. {line.label}" + (" (**leading**)" if line.leading else "")
                        + (" ⚠️ must not miss" if line.must_not_miss else "") for line in trace.pad)
        parts.append(f"Differential: {pad or '*none kept*'}")
    if trace.certainty:
        parts.append(f"Certainty: {trace.certainty_text}")
    if trace.problem_representation:
        parts.append(f"Problem representation: “{plain(trace.problem_representation)}”")
    if trace.differential_score is not None:
        parts.append(f"Differential score: {100 * trace.differential_score:.0f}%")
    return f"**{trace.stage_number}. {trace.stage_heading}**  \n" + "  \n".join(parts)


def reasoning_by_stage(traces: Sequence[StageTrace], with_pad: bool = True) -> None:
    """The learner's own reasoning of each committed stage (:func:`quiz.play.reasoning_trace.stage_traces`)."""
    if not traces:
        return
    st.markdown("##### Your reasoning, stage by stage")
    if not any(t.pad or t.certainty or t.problem_representation for t in traces):
        st.caption("You kept no differential, certainty or one-liner in this attempt." if with_pad
                   else "You gave no certainty in this case.")
        return
    for trace in traces:
        if with_pad or trace.certainty or trace.problem_representation:  # without a pad, a stage may hold nothing
            st.markdown(trace_lines(trace, with_pad))


def course(case: Case, pads: Sequence[Pad | None], trace: Sequence[tuple[int, float, float]],
           catalogue: Mapping[str, CatalogueEntry]) -> None:
    """Where the eventual diagnosis entered the pad and became leading, premature closure, the certainty trace."""
    st.subheader("How your differential moved")
    if not any(p and p.entries for p in pads):
        st.caption("You kept no differential in this attempt.")
    else:
        reasoning = differential.attempt_reasoning(case, pads)
        eventual = case.reveal.diagnosis_id
        name = _label(catalogue, eventual) if eventual else "the final diagnosis"
        where = reasoning.entered
        lines = [f"- **{name}** first entered your differential at "
                 + (f"stage {where.in_pad + 1}" if where.in_pad is not None else "no stage") + ", and led it from "
                 + (f"stage {where.leading + 1}." if where.leading is not None else "no stage.")]
        if reasoning.settles < len(case.stages):
            lines.append(f"- The findings settle it at stage {reasoning.settles + 1}.")
        if reasoning.mean_score is not None:
            lines.append(f"- Mean differential score: {100 * reasoning.mean_score:.0f}%.")
        st.markdown("\n".join(lines))
        for closure in reasoning.closures:
            if closure.kind == "narrowed":
                st.warning(f"Premature closure at stage {closure.stage_index + 1}: your differential held only "
                           f"{_label(catalogue, closure.diagnosis)} before the findings settled the diagnosis.", icon="🔒")
            else:
                st.warning(f"Premature closure at stage {closure.stage_index + 1}: {name} left your differential "
                           "before the findings settled the diagnosis.", icon="🔒")
    if trace:
        st.markdown("##### Certainty trace")
        frame = pd.DataFrame([{"Stage": s + 1, "Certainty (%)": round(100 * p), "Credit (%)": round(100 * c)}
                              for s, p, c in trace])
        long = frame.melt("Stage", var_name="Measure", value_name="Percent")
        st.altair_chart(alt.Chart(long).mark_line(point=True).encode(
            x=alt.X("Stage:O"), y=alt.Y("Percent:Q", scale=alt.Scale(domain=[0, 100])), color="Measure:N",
            tooltip=["Stage", "Measure", "Percent"]).properties(height=200), width="stretch")
        st.dataframe(frame, hide_index=True, width="stretch", placeholder="—")
