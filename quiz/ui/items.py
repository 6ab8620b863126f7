"""Item analysis for instructors: how each question of a case behaved, and which distractor drew whom.

Behind the instructor passcode. The page reads answers through :mod:`quiz.item_store` and
computes everything with :mod:`quiz.play.item_analysis`; it shows counts and rates only, never
a learner's or a student's name. The formulas are in ``docs/item-analysis.md``.
"""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from .. import item_store
from ..content.loader import Content
from ..content.model import Case
from ..item_store import Choice, Cohort, CohortError, SessionInfo
from ..play import item_analysis as ia
from ..store import Store, StoreError
from . import common

URL_PATH = "items"
EVERYONE, SELF_ONLY, CLASS_ONLY = ("Everyone: class sessions and self-study first attempts", "Self-study first attempts",
                                   "All class sessions")
FORMULAS = f"""
- **n**: respondents who answered the question (a learner's first self-study attempt, or a class student).
- **Difficulty p**: share of them who chose the key (partial credit does not count as correct; *mean credit* does).
- **D (upper − lower)**: p in the top {ia.GROUP_SHARE:.0%} of respondents by total score over this case, minus p
  in the bottom {ia.GROUP_SHARE:.0%}. Respondents tied at a group's edge share its last places.
- **r (point-biserial)**: correlation of choosing the key (1/0) with the *rest* score (total without this question).
- **Flags**, from {ia.MIN_N} respondents on: D below 0; a distractor the upper group chose more often than the key.
  Below {ia.MIN_N}, the only flag is "too few".

Rough guide for D (Ebel's, often applied to r too): 0.40 and above very good, 0.30–0.39 reasonably good,
0.20–0.29 marginal, below 0.20 poor. The full formulas are in `docs/item-analysis.md`.
"""


def render() -> None:
    st.title("Item analysis")
    if not common.instructor_gate("Item analysis", "How each question behaved across class sessions and self-study: "
                                  "difficulty, discrimination and which distractors drew whom.", key="items-passcode"):
        return
    store = common.store()
    if store is None:
        return
    try:
        _page(store, common.content())
    except StoreError as error:
        st.error(str(error), icon="🛑")


def _page(store: Store, current: Content) -> None:
    cases = sorted(current.cases.values(), key=lambda c: c.title.lower())
    if not cases:
        st.warning("No playable case in the content folder yet.")
        return
    titles = {c.id: c.title for c in cases}
    case = current.cases[st.selectbox("Case", list(titles), format_func=titles.get, key="items-case")]
    infos = item_store.sessions(store)
    cohorts = item_store.list_cohorts(store)
    scopes = _scopes(store, case, [s for s in infos if s.case_id == case.id], cohorts)
    scope = st.selectbox("Answers from", list(scopes), key="items-scope",
                         help="Each class session or cohort is analysed on its own: its upper and lower groups are "
                              "drawn from its own respondents.")
    items = ia.items_of(case)
    report = ia.analyse(ia.grade(case, (c.row() for c in scopes[scope])), items)
    if report.respondents == 0:
        st.info("No answers to this case yet from these respondents.", icon="📭")
    else:
        _summary(report)
        _table(case, report)
        _chart(case, report)
        _distractors(case, report)
        _comparison(case, scopes, items)
        st.download_button("Download the item analysis (CSV)", ia.report_csv(report, scope=f"{case.id}: {scope}"),
                           file_name=f"item-analysis-{case.id}.csv", mime="text/csv", key="items-csv",
                           icon=":material/download:")
    with st.expander("How these figures are computed"):
        st.markdown(FORMULAS)
    _cohorts(store, cases, infos, cohorts)


def _session_label(info: SessionInfo) -> str:
    return f"Session {info.code} · {info.created_at:%Y-%m-%d} · {info.students} student{'s' if info.students != 1 else ''}"


def _scopes(store: Store, case: Case, infos: list[SessionInfo], cohorts: list[Cohort]) -> dict[str, list[Choice]]:
    """Every group of answers the instructor may analyse, by label: pooled, by source, by cohort, by session."""
    self_study = item_store.self_study_choices(store, case.id)
    in_class = item_store.class_choices(store, case.id)
    scopes = {EVERYONE: self_study + in_class, SELF_ONLY: self_study, CLASS_ONLY: in_class}
    here = {s.id for s in infos}
    for cohort in cohorts:
        members = set(cohort.session_ids) & here
        if members:
            scopes[f"Cohort: {cohort.name}"] = [c for c in in_class if c.session_id in members]
    for info in infos:
        scopes[_session_label(info)] = [c for c in in_class if c.session_id == info.id]
    return scopes


def _short(item: ia.ItemStats) -> str:
    return f"S{item.stage} {item.question}"


def _summary(report: ia.Report) -> None:
    flagged = [s for s in report.items if s.flagged]
    too_few = sum(1 for s in report.items if any(f.code == ia.TOO_FEW for f in s.flags))
    columns = st.columns(4)
    columns[0].metric("Respondents", report.respondents)
    columns[1].metric("Answered every question", report.complete)
    columns[2].metric("Questions flagged", len(flagged))
    columns[3].metric("Too few to judge", too_few, help=f"Questions with fewer than {report.min_n} respondents")
    for item in flagged:
        reasons = " ".join(f.message for f in item.flags)
        st.warning(f"**Stage {item.stage} · {item.prompt}** ({item.question}): {reasons}", icon="🚩")


def _table(case: Case, report: ia.Report) -> None:
    keys = {i.question: i for i in ia.items_of(case)}
    rows = []
    show_certainty = any(s.certainty_n for s in report.items)
    for s in report.items:
        row = {"Stage": s.stage, "Id": s.question, "n": s.n, "Difficulty p": s.difficulty,
               "D (upper − lower)": s.discrimination, "r (point-biserial)": s.point_biserial,
               "Mean credit": s.mean_credit}
        if show_certainty:
            row |= {"Certainty (mean)": s.certainty_mean, "… when right": s.certainty_correct,
                    "… when wrong": s.certainty_wrong, "Certainty n": s.certainty_n}
        row["Flags"] = " ".join(("🚩 " if f.code != ia.TOO_FEW else "· ") + f.message for f in s.flags)
        row |= {"Key": keys[s.question].label(s.key) if s.key else "", "Question": s.prompt}
        rows.append(row)
    number, text = st.column_config.NumberColumn, st.column_config.TextColumn
    config = {
        "Id": text(pinned=True),
        "Difficulty p": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent",
                                                         help="Share who chose the key"),
        "D (upper − lower)": number(format="%+.2f", help="Share correct in the upper group minus the lower group"),
        "r (point-biserial)": number(format="%+.2f", help="Correlation of choosing the key with the rest score"),
        "Mean credit": number(format="%.2f"),
        "Certainty (mean)": number(format="percent", help="How sure, as a probability: low 33%, moderate 67%, "
                                   "high 100%"),
        "… when right": number(format="percent"), "… when wrong": number(format="percent"),
        "Flags": text(width="large"), "Question": text(width="large"),
    }
    st.subheader("Questions")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", placeholder="—", key="items-table", height=_fit(len(rows)),
                 column_config=config)


def _fit(rows: int) -> int:
    """A table height that shows every row without an inner scroll bar."""
    return 38 + 35 * rows


def _chart(case: Case, report: ia.Report) -> None:
    rows = []
    for s in report.items:
        for measure, value in (("Difficulty p", s.difficulty), ("D (upper − lower)", s.discrimination),
                               ("r (point-biserial)", s.point_biserial)):
            if value is not None:
                rows.append({"Question": _short(s), "Measure": measure, "Value": value})
    if not rows:
        return
    frame = pd.DataFrame(rows)
    order = [_short(s) for s in report.items]
    measures = ["Difficulty p", "D (upper − lower)", "r (point-biserial)"]
    chart = alt.Chart(frame).mark_bar().encode(
        y=alt.Y("Question:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
        yOffset=alt.YOffset("Measure:N", sort=measures),
        x=alt.X("Value:Q", scale=alt.Scale(domain=[-1, 1]), title=None),
        color=alt.Color("Measure:N", sort=measures, legend=alt.Legend(orient="top", direction="vertical", title=None)),
        tooltip=["Question", "Measure", alt.Tooltip("Value:Q", format=".2f")],
    ).properties(height=alt.Step(9))
    st.altair_chart(chart, width="stretch")


def _distractors(case: Case, report: ia.Report) -> None:
    st.subheader("Options of one question")
    by_label = {f"Stage {s.stage} · {s.prompt} ({s.question})": s for s in report.items}
    item = by_label[st.selectbox("Question", list(by_label), key="items-question")]
    rows, chart_rows = [], []
    for o in item.options:
        label = ("✓ " if o.is_key else "") + o.label
        rows.append({"Option": label, "Key": o.is_key, "Chosen": o.chosen, "Share": o.rate,
                     "Upper group": o.upper_rate, "Lower group": o.lower_rate})
        for group, value in (("All", o.rate), ("Upper group", o.upper_rate), ("Lower group", o.lower_rate)):
            if value is not None:
                chart_rows.append({"Option": label, "Group": group, "Share": value, "Key": "Key" if o.is_key else "Distractor"})
    share = st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", placeholder="—", key="items-options", height=_fit(len(rows)),
                 column_config={"Share": share, "Upper group": share, "Lower group": share})
    if item.group_size:
        st.caption(f"{item.n} respondents; the upper and lower groups have {item.group_size} each.")
    if chart_rows:
        groups = ["All", "Upper group", "Lower group"]
        chart = alt.Chart(pd.DataFrame(chart_rows)).mark_bar().encode(
            y=alt.Y("Option:N", sort=[r["Option"] for r in rows], title=None, axis=alt.Axis(labelLimit=360)),
            yOffset=alt.YOffset("Group:N", sort=groups),
            x=alt.X("Share:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title=None),
            color=alt.Color("Group:N", sort=groups, legend=alt.Legend(orient="top", direction="vertical", title=None)),
            tooltip=["Option", "Group", alt.Tooltip("Share:Q", format=".0%")],
        ).properties(height=alt.Step(14))
        st.altair_chart(chart, width="stretch")


def _comparison(case: Case, scopes: dict[str, list[Choice]], items: list[ia.ItemKey]) -> None:
    """Difficulty of each question in each session, cohort and self-study, side by side."""
    groups = {label: ia.grade(case, (c.row() for c in rows)) for label, rows in scopes.items()
              if label not in (EVERYONE, CLASS_ONLY) and rows}
    if len(groups) < 2:
        return
    frame = ia.compare(groups, items)
    frame["Question"] = [f"S{s} {q}" for s, q in zip(frame["stage"], frame["question"])]
    wide = frame.pivot(index="Question", columns="group", values="difficulty").reindex(
        [f"S{i.stage} {i.question}" for i in items])[list(groups)]
    counts = frame.groupby("group")["n"].max()
    # "Session K7M2QX · 2025-03-04 · 18 students" loses its head count: n says it.
    wide.columns = [f"{label.rsplit(' · ', 1)[0] if label.startswith('Session ') else label} (n={counts[label]})"
                    for label in wide.columns]
    st.subheader("Difficulty by session and cohort")
    st.caption("Share who chose the key, each group on its own.")
    share = st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent")
    st.dataframe(wide.reset_index(), hide_index=True, width="stretch", placeholder="—", key="items-compare", height=_fit(len(wide)),
                 column_config={c: share for c in wide.columns})


def _cohorts(store: Store, cases: list[Case], infos: list[SessionInfo], cohorts: list[Cohort]) -> None:
    """Name a cohort and choose its class sessions."""
    titles = {c.id: c.title for c in cases}
    with st.expander(f"Cohorts ({len(cohorts)})", expanded=not cohorts and bool(infos)):
        st.caption("A cohort is a named group of class sessions (a year, a rotation); each appears above as a choice "
                   "under “Answers from” for the cases its sessions ran.")
        with st.form("items-new-cohort", clear_on_submit=True):
            name = st.text_input("New cohort", max_chars=item_store.COHORT_NAME_MAX, key="items-cohort-name",
                                 placeholder="e.g. PGY-2 2025")
            if st.form_submit_button("Create cohort"):
                try:
                    item_store.create_cohort(store, name)
                except CohortError as error:
                    st.error(str(error), icon="🚫")
                else:
                    st.rerun()
        labels = {s.id: f"{s.code} · {titles.get(s.case_id, s.case_id)} · {s.created_at:%Y-%m-%d}" for s in infos}
        for cohort in cohorts:
            st.markdown(f"**{cohort.name}**")
            chosen = st.multiselect("Class sessions", list(labels), default=[s for s in cohort.session_ids if s in labels],
                                    format_func=labels.get, key=f"items-cohort-{cohort.id}",
                                    placeholder="Choose sessions")
            left, right = st.columns(2)
            if left.button("Save sessions", key=f"items-cohort-save-{cohort.id}"):
                try:
                    item_store.set_cohort_sessions(store, cohort.id, chosen)
                except CohortError as error:
                    st.error(str(error), icon="🚫")
                else:
                    st.rerun()
            if right.button("Delete cohort", key=f"items-cohort-delete-{cohort.id}",
                            help="The sessions and their answers stay"):
                item_store.delete_cohort(store, cohort.id)
                st.rerun()
