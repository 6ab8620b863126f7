"""Driving the real app with AppTest: reading the page and playing a case."""
from __future__ import annotations

from collections.abc import Callable, Iterable

import streamlit as st
from streamlit.testing.v1 import AppTest

from quiz import store
from quiz.content.model import Case

from conftest import REPO
from learner_support import learner_key, learner_of  # noqa: F401  (re-exported for the app tests)

TEXT_ELEMENTS = ("markdown", "caption", "info", "success", "warning", "error", "title", "header", "subheader",
                 "text", "code", "metric", "expander", "toast")


def as_learner(at: AppTest, name: str) -> AppTest:
    """Make ``at`` the browser of the learner ``name``, as if its cookie held their key (AppTest cannot
    send cookies). The name is only the test's handle: the app never sees it."""
    from quiz.ui import common

    key = learner_key(name)
    at.session_state[common.KEY_STATE] = key
    at.session_state[common.COOKIE_WRITTEN] = key  # the cookie "exists": no script to write it
    return at


def fresh_app(learner: str | None = None, **query: str) -> AppTest:
    """A new app session (as after a server restart): caches and stores cleared; ``learner`` is the
    browser's learner (:func:`as_learner`), none for a first visit."""
    st.cache_data.clear()
    st.cache_resource.clear()
    store.forget_stores()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    if learner is not None:
        as_learner(at, learner)
    return at.run()


def page_app(page: str, learner: str | None = None, **query: str) -> AppTest:
    """One page module of ``quiz/ui`` run on its own (AppTest cannot follow st.navigation between pages)."""
    st.cache_data.clear()
    store.forget_stores()
    at = AppTest.from_string(f"from quiz.ui import {page}\n{page}.render()\n", default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    if learner is not None:
        as_learner(at, learner)
    return at.run()


def flat(text: str) -> str:
    """``text`` with every run of whitespace one space: a finding's table rows are indented in its list item."""
    return " ".join(text.split())


def page_text(at: AppTest, *, flattened: bool = True) -> str:
    """Every piece of text the page sends to the browser, hidden popovers and expanders included.

    Followed by the same text flattened (:func:`flat`), so that a multi-line finding is found
    (or found missing) whatever indentation the page gave its lines.
    """
    parts: list[str] = []
    for kind in TEXT_ELEMENTS:
        for element in at.get(kind):
            for attr in ("value", "label", "body", "proto"):
                value = getattr(element, attr, None)
                if isinstance(value, str):
                    parts.append(value)
    for radio in at.radio:
        parts.append(radio.label)
        parts.extend(str(o) for o in radio.options)
    for button in at.button:
        parts.append(button.label)
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    raw = "\n".join(parts)
    return f"{raw}\n{flat(raw)}" if flattened else raw


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def answer_stage(at: AppTest, case: Case, stage_index: int, choose: Callable) -> AppTest:
    """Select an option for every question of the open stage and commit."""
    stage = case.stages[stage_index]
    for question in stage.questions:
        radio = next(r for r in at.radio if r.key.endswith(f"-{stage_index + 1}-{question.id}"))
        radio.set_value(choose(question))
    submit = next(b for b in at.button if b.label == "Commit answers")
    submit.click()
    return at.run()


def finish_case(url: str, learner: str, case: Case, choose: Callable) -> None:
    """Play a case to its end straight through the store and engine (no page), as a learner who did it earlier."""
    from quiz.play import engine

    db = store.open_store(url)
    record = db.current_attempt(learner_of(db, learner), case.id)
    attempt = engine.start(case, record.seed)
    for index, stage in enumerate(case.stages):
        attempt = engine.commit(case, attempt, index, {q.id: choose(q) for q in stage.questions})
        done = engine.score(case, attempt) if engine.is_finished(case, attempt) else None
        db.record_stage(record.id, index, stage.kind, engine.results(case, attempt, index),
                        finished=(done.earned, done.possible) if done else None)


def click(at: AppTest, label_start: str) -> AppTest:
    button = next(b for b in at.button if b.label.startswith(label_start))
    button.click()
    return at.run()


def texts_of_stage(case: Case, index: int) -> Iterable[str]:
    """A stage's findings (its heading, often one word such as "Imaging", is no secret)."""
    stage = case.stages[index]
    for finding in stage.findings:
        yield flat(finding.text)


def key_texts(case: Case, index: int) -> Iterable[str]:
    """What must stay hidden until a stage is committed: explanations and teaching notes."""
    for question in case.stages[index].questions:
        for option in question.options:
            if option.explanation:
                yield option.explanation
        if question.teaching_note:
            yield question.teaching_note


def reveal_texts(case: Case) -> Iterable[str]:
    reveal = case.reveal
    yield reveal.diagnosis
    for item in (*reveal.management, *reveal.outcome):
        yield item.text
    yield from reveal.teaching_points
    yield case.source.title
