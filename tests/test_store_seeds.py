"""Option-order seeds in the database: one per attempt and per class session, and old databases keep working."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

import factories
from class_support import BACKENDS, PASSCODE, database_url
from quiz import classroom
from quiz import store as store_module
from quiz.play import engine
from quiz.store import Store
from learner_support import learner_of


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    return database_url(request.param, tmp_path)


def old_database(url: str) -> dict[str, int]:
    """A database as it was before seeds: the columns dropped, one attempt and one class session in it."""
    Store(url)
    store_module.forget_stores()
    engine_ = sa.create_engine(url)
    try:
        with engine_.begin() as conn:
            for table, column in store_module._ADDED_COLUMNS:
                conn.execute(sa.text(f"ALTER TABLE {table.name} DROP COLUMN {column}"))
            stamp = store_module.now()
            learner = conn.execute(sa.text("INSERT INTO learners (name, created_at) VALUES ('Old', :t) RETURNING id"),
                                   {"t": stamp}).scalar_one()
            attempt = conn.execute(sa.text("INSERT INTO attempts (learner_id, case_id, started_at) "
                                           "VALUES (:l, :c, :t) RETURNING id"),
                                   {"l": learner, "c": factories.CASE_ID, "t": stamp}).scalar_one()
            session = conn.execute(sa.text(
                "INSERT INTO class_sessions (code, case_id, stage_index, phase, host_secret, created_at, updated_at, "
                "version) VALUES ('OLDSES', :c, 0, 'lobby', 'x', :t, :t, 1) RETURNING id"),
                {"c": factories.CASE_ID, "t": stamp}).scalar_one()
        with engine_.connect() as conn:
            for table, column in store_module._ADDED_COLUMNS:
                assert column not in {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    finally:
        engine_.dispose()
    return {"learner": learner, "attempt": attempt, "session": session}


def test_every_new_attempt_draws_its_own_seed(url):
    store = Store(url)
    learner = learner_of(store, "Seeds")
    first = store.current_attempt(learner, factories.CASE_ID)
    assert len(first.seed) == 32
    assert store.current_attempt(learner, factories.CASE_ID).seed == first.seed  # a reload: same attempt, same order
    assert store.resume(learner, factories.CASE_ID)[1].seed == first.seed
    store_module.forget_stores()
    assert Store(url).attempts(learner)[0].seed == first.seed  # a restart, or another device
    again = store.new_attempt(learner, factories.CASE_ID)
    assert again.seed != first.seed


def test_an_old_database_gains_the_columns_and_its_rows_keep_a_stable_order(url):
    made = old_database(url)
    store = Store(url)  # starting the app on the old file adds what is missing
    [old] = store.attempts(made["learner"])
    assert old.id == made["attempt"] and old.seed == f"attempt-{made['attempt']}"
    store_module.forget_stores()
    assert Store(url).resume(made["learner"], factories.CASE_ID)[1].seed == old.seed
    fresh = store.new_attempt(made["learner"], factories.CASE_ID)
    assert len(fresh.seed) == 32
    session = classroom.session_state(store, made["session"])
    assert session.seed == f"class-session-{made['session']}"
    Store(url)  # a second start (or a second process) finds nothing to add
    case = factories.load_case()
    assert engine.view(case, engine.start(case, old.seed)) == engine.view(case, engine.start(case, old.seed))


def test_a_class_session_has_one_seed_for_the_projector_and_every_phone(url):
    store = Store(url)
    case = factories.load_case()
    host = classroom.create_session(store, case, passcode=PASSCODE, configured=PASSCODE)
    other = classroom.create_session(store, case, passcode=PASSCODE, configured=PASSCODE)
    state = classroom.session_state(store, host.session_id)
    assert len(state.seed) == 32 and state.seed != classroom.session_state(store, other.session_id).seed
    assert classroom.find_session(store, host.code).seed == state.seed
    for action in ("start", "open"):
        state = classroom.act(store, host, action, expect=(state.stage_index, state.phase), total=len(case.stages))
    phones = [classroom.student_view(case, classroom.session_state(store, host.session_id), {}) for _ in range(3)]
    orders = {tuple(tuple(o.id for o in q.asked.options) for q in view.current.questions) for view in phones}
    assert len(orders) == 1
    [order] = orders
    assert order == tuple(tuple(o.id for o in engine.ask(q, state.seed).options) for q in case.stages[0].questions)
    # the projected chart lists the options in the phones' order
    from quiz.ui import class_host

    for question, phone_order in zip(case.stages[0].questions, order):
        chart = class_host.tally_chart(question, {}, False, state.seed)
        labels = {o.id: o.label for o in question.options}
        assert list(chart.data["Option"]) == [labels[i] for i in phone_order]
