"""The case library: non-spoiler cards, filters, search and a random pick; opens the player."""
from __future__ import annotations

import random

import streamlit as st

from .. import classroom
from ..play import peers, progress
from ..content.model import Case
from ..store import StoreError
from . import common, components, player

DIFFICULTIES = ["introductory", "intermediate", "advanced"]


def matches(case: Case, text: str) -> bool:
    """Search over what a card shows before play, so a search can never find a case by its diagnosis.

    Not the objectives, which no card shows: "desmin" found the one case whose objectives name it.
    """
    haystack = " ".join([case.title, case.summary, *case.tags.region, *case.tags.specialty,
                         case.difficulty]).lower()
    return all(word in haystack for word in text.lower().split())


def filter_cases(cases: list[Case], *, regions=(), origins=(), specialties=(), difficulties=(), text="",
                 bands: dict[str, str | None] | None = None, band_filter=()) -> list[Case]:
    """The cases matching every filter; ``band_filter`` keeps those whose peer band (``bands``) is chosen."""
    out = []
    for case in cases:
        if regions and not set(regions) & set(case.tags.region):
            continue
        if origins and case.tags.origin not in origins:
            continue
        if specialties and not set(specialties) & set(case.tags.specialty):
            continue
        if difficulties and case.difficulty not in difficulties:
            continue
        if band_filter and (bands or {}).get(case.id) not in band_filter:
            continue
        if text and not matches(case, text):
            continue
        out.append(case)
    return out


def render() -> None:
    current = common.content()
    store = common.store()
    learner = common.study_learner(store)
    case_id = st.query_params.get(player.CASE_PARAM)
    if case_id:
        case = current.cases.get(case_id)
        if case is None:
            st.error("There is no playable case with the id below. It may have been renamed, or its file has errors.")
            common.quoted_value(case_id)
            if st.button("Show all cases"):
                st.query_params.pop(player.CASE_PARAM, None)
                st.rerun()
            common.content_notice(current)
            return
        if store is not None:
            player.render(case, store, learner)
        return

    with st.container(key="library-top"):
        st.title("Case library")
    st.caption("Reason through published case reports stage by stage: commit a leading diagnosis and a next step, "
               "then see the explanations and the next stage.")
    common.content_notice(current)
    cases = list(current.cases.values())
    if not cases:
        st.warning("No playable case in the content folder yet.")
        return
    with st.container(border=True):
        text = st.text_input("Search", placeholder="e.g. neck, spine, woman", key="library-search")
        cols = st.columns(4)
        regions = cols[0].multiselect("Region", sorted({r for c in cases for r in c.tags.region}), key="f-region")
        specialties = cols[1].multiselect("Specialty", sorted({s for c in cases for s in c.tags.specialty}), key="f-specialty")
        difficulties = cols[2].multiselect("Difficulty", [d for d in DIFFICULTIES if any(c.difficulty == d for c in cases)], key="f-difficulty")
        band_filter = cols[3].multiselect(
            "Peer difficulty", [name for name, _floor in peers.BANDS], key="f-band",
            help=f"From first attempts on this server: easier, moderate or harder for the learners here "
                 f"(a case has a band once {peers.MIN_N} learners answered its questions)")
    bands = _bands(current.cases) if band_filter else None
    shown = filter_cases(cases, regions=regions, specialties=specialties, difficulties=difficulties, text=text,
                         bands=bands, band_filter=band_filter)
    try:
        in_class, unknown = (classroom.cases_in_class(store) if store is not None else set()), False
    except StoreError as error:  # which cases a live class holds is unknown: none opens until it is known
        in_class, unknown = set(), True
        st.error("Cases cannot be opened right now: the app cannot check which cases a live class is using. "
                 f"{error}", icon="🛑")
    top = st.columns([3, 1])
    top[0].caption(f"{len(shown)} of {len(cases)} cases")
    if top[1].button("🎲 Random case", disabled=not shown or unknown, key="random-case"):
        player.open_case(random.choice(shown).id)

    statuses = _statuses(store, cases, learner)
    columns = st.columns(2)
    for index, case in enumerate(shown):
        with columns[index % 2].container(border=True):
            st.markdown(f"**{case.title}**")
            st.caption(case.summary)
            status = statuses.get(case.id)
            # Primary or metastatic is part of the answer: shown only once the case is completed.
            origin = f" :violet-badge[{case.tags.origin}]" if status and status.attempts_finished else ""
            st.markdown(" ".join(f":blue-badge[{t}]" for t in case.tags.region) + origin
                        + " " + " ".join(f":gray-badge[{s}]" for s in case.tags.specialty))
            line = f"{case.difficulty.capitalize()} · about {case.minutes} min · {len(case.stages)} stages"
            if status is not None:
                line += f" · {status.label}"
                if status.best_percent is not None:
                    line += f" · best {status.best_percent:g}%"
            st.caption(line)
            if case.id in in_class:
                st.caption("🎓 In use by a live class: opens for self-study after the class's final reveal.")
            if st.button("Open case", key=f"open-{case.id}", disabled=unknown or case.id in in_class):
                player.open_case(case.id)
    if st.session_state.pop(player.TOP_KEY, False):
        components.scroll_to("library-top")


def _bands(cases) -> dict[str, str | None]:
    store = common.store()
    return peers.library_bands(store, cases) if store is not None else {}


def _statuses(store, cases: list[Case], learner_id: int | None) -> dict[str, progress.CaseStatus]:
    if learner_id is None or store is None:
        return {}
    try:
        records = store.attempts(learner_id)
        history = store.answer_history(learner_id)
    except StoreError as error:
        st.warning(f"Your progress cannot be shown on the cards right now. {error}", icon="🛑")
        return {}
    committed: dict[int, set[int]] = {}
    for row in history:
        committed.setdefault(row["attempt_id"], set()).add(row["stage_index"])
    counts = {attempt_id: len(stages) for attempt_id, stages in committed.items()}
    return {case.id: progress.case_status(case, records, counts) for case in cases}
