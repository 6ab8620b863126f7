"""Certainty in class (issue 11 part 6): the class score on hand-made answers with known scores, the
stored certainty (asked, required, changed, migrated), the certainty split that only a revealed stage
gives, and the CSV's columns. The pages: test_class_app.py (``test_certainty_...``).

Every test taking ``url`` runs on SQLite and, with QUIZ_TEST_POSTGRES_URL set, on PostgreSQL.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

import factories
from class_support import BACKENDS, PASSCODE, database_url
from quiz import classroom as C
from quiz import store as store_module
from quiz.classroom import machine as M
from quiz.play import calibration
from quiz.store import open_store

CASE = factories.load_case()
TOTAL = len(CASE.stages)
(Q_DX, Q_NEXT), (Q2_DX, Q2_NEXT), (Q3_DX, Q3_NEXT) = (s.questions for s in CASE.stages)
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)


# --- the scoring rule, by hand ------------------------------------------------------

def test_marks_reward_right_and_sure_and_punish_wrong_and_sure():
    mark = calibration.certainty_mark
    right = [mark(1, level) for level in ("high", "moderate", "low")]
    wrong = [mark(0, level) for level in ("low", "moderate", "high")]
    assert right == [3, 2, 1] and wrong == [0, -2, -6]
    assert right[0] > right[1] > right[2] > wrong[0] > wrong[1] > wrong[2], "right beats wrong at any certainty"
    assert mark(1) == mark(1, "low") and mark(0) == 0, "no certainty counts as low"
    assert mark(0.5, "high") == pytest.approx(0.5 * 3 - 0.5 * 6) and mark(0.25, "moderate") == pytest.approx(-1.0)
    assert calibration.MAX_MARK == 3


@pytest.mark.parametrize("chance, best", [(0.5, "low"), (0.6, "low"), (0.7, "moderate"), (0.78, "moderate"),
                                          (0.85, "high"), (0.99, "high")])
def test_the_honest_claim_earns_most_on_average(chance, best):
    """Each level is the best claim in its band of chances: the marks reward calibration, not bravado."""
    mark = calibration.certainty_mark
    expected = {level: chance * mark(1, level) + (1 - chance) * mark(0, level) for level in calibration.LEVEL_ORDER}
    assert max(expected, key=expected.get) == best


def records(rows):
    """(nickname, stage_index, question_id, option_id, minutes after T0, certainty) as stored records."""
    return [(n, s, q, o, T0 + timedelta(minutes=m), c) for n, s, q, o, m, c in rows]


HAND_MADE = [
    # Ann: right and sure, wrong and unsure: 3 + 0 + 2 = 5
    ("Ann", 0, Q_DX.id, Q_DX.answer, 1, "high"),
    ("Ann", 0, Q_NEXT.id, "observation", 2, "low"),
    ("Ann", 1, Q2_DX.id, Q2_DX.answer, 3, "moderate"),
    # Bob: right but unsure, wrong and sure, partly right (0.5) and sure: 1 - 6 + (1.5 - 3) = -6.5
    ("Bob", 0, Q_NEXT.id, Q_NEXT.answer, 1, "low"),
    ("Bob", 1, Q2_NEXT.id, "observation", 2, "high"),
    ("Bob", 0, Q_DX.id, "schwannoma", 3, "high"),
    # Cy answered before the certainty was asked (an old session): right counts as low, 1 + 1 = 2
    ("Cy", 0, Q_DX.id, Q_DX.answer, 0, None),
    ("Cy", 0, Q_NEXT.id, Q_NEXT.answer, 0, None),
]
KNOWN = {"Ann": 5.0, "Bob": -6.5, "Cy": 2.0}


def test_class_scores_of_hand_made_answers():
    rows = C.grade_records(CASE, records(HAND_MADE))
    scores = {r["nickname"]: r["class_score"] for r in rows}
    assert scores == KNOWN
    points = {(r["nickname"], r["question_id"]): r["points"] for r in rows}
    assert points[("Bob", Q_DX.id)] == pytest.approx(-1.5) and points[("Ann", Q_NEXT.id)] == 0
    summary = {r["nickname"]: r for r in C.student_summary(CASE, rows, ["Ann", "Bob", "Cy", "Di"])}
    assert C.max_class_score(CASE) == 3 * 6
    assert {n: summary[n]["class_score"] for n in summary} == KNOWN | {"Di": 0}, "no answer scores 0"
    assert summary["Ann"]["class_percent"] == round(100 * 5 / 18, 1)
    assert summary["Bob"]["class_percent"] < 0 < summary["Cy"]["class_percent"]
    assert summary["Ann"]["certainty"] == "1L 1M 1H" and summary["Cy"]["certainty"] == "2N"
    # The plain score is unchanged: Bob's credit is 1 + 0 + 0.5
    assert summary["Bob"]["score"] == 1.5


def test_speed_counts_for_nothing():
    """The same answers given in another order, minutes or hours apart, score the same."""
    fast = C.grade_records(CASE, records(HAND_MADE))
    slow = C.grade_records(CASE, records([(n, s, q, o, 600 - 7 * m, c) for n, s, q, o, m, c in HAND_MADE]))
    assert {r["nickname"]: r["class_score"] for r in slow} == {r["nickname"]: r["class_score"] for r in fast}
    assert [r["points"] for r in slow] == [r["points"] for r in fast]


def test_certainty_per_option_and_the_class_calibration():
    rows = C.grade_records(CASE, records(HAND_MADE))
    table = {(r["question_id"], r["option"]): r for r in C.certainty_summary(CASE, rows)}
    best = table[(Q_DX.id, "Soft-tissue sarcoma")]
    assert best["best"] and (best["answers"], best["high"], best["none"], best["low"]) == (2, 1, 1, 0)
    assert table[(Q_DX.id, "Schwannoma")] == {"stage": 1, "question_id": Q_DX.id, "option": "Schwannoma",
                                               "best": False, "answers": 1, "low": 0, "moderate": 0, "high": 1,
                                               "none": 0}
    assert len(C.certainty_summary(CASE, rows)) == sum(len(q.options) for s in CASE.stages for q in s.questions)
    found = C.class_calibration(rows)
    assert found.answers == 6, "answers without a certainty are left out"
    by_level = {r.level: (r.answers, r.accuracy) for r in found.by_level}
    assert by_level == {"low": (2, 0.5), "moderate": (1, 1.0), "high": (3, pytest.approx(0.5))}


def test_the_csv_has_certainty_points_and_the_class_score():
    text = C.results_csv(C.grade_records(CASE, records(HAND_MADE)))
    table = list(csv.DictReader(io.StringIO(text)))
    assert {"certainty", "points", "class_score"} <= set(table[0])
    assert C.RESULT_COLUMNS.index("certainty") < C.RESULT_COLUMNS.index("answered_at")
    bob_dx = next(r for r in table if r["nickname"] == "Bob" and r["question_id"] == Q_DX.id)
    assert (bob_dx["certainty"], bob_dx["points"], bob_dx["class_score"]) == ("high", "-1.5", "-6.5")
    cy = [r for r in table if r["nickname"] == "Cy"]
    assert {r["certainty"] for r in cy} == {""} and {r["class_score"] for r in cy} == {"2.0"}


def test_the_certainty_split_is_shown_with_the_key_only():
    assert [p for p in M.PHASES if M.certainty_shown(p)] == [M.REVEALED]


# --- stored with the answer -----------------------------------------------------------

@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    yield database_url(request.param, tmp_path)
    store_module.forget_stores()
    C.forget_polls()


@pytest.fixture
def store(url):
    return open_store(url)


def step(store, host, action):
    state = C.session_state(store, host.session_id)
    return C.act(store, host, action, expect=(state.stage_index, state.phase), total=TOTAL)


def stored(store, session_id):
    query = sa.select(store_module.class_answers.c.question_id, store_module.class_answers.c.option_id,
                      store_module.class_answers.c.certainty).where(
        store_module.class_answers.c.session_id == session_id).order_by(store_module.class_answers.c.id)
    return [tuple(r) for r in store.run(lambda conn: conn.execute(query).all(), write=False)]


def test_a_session_that_asks_certainty_takes_no_answer_without_one(store):
    host = C.create_session(store, CASE, passcode=PASSCODE, configured=PASSCODE, ask_certainty=True)
    assert C.session_state(store, host.session_id).ask_certainty
    ann = C.join(store, host.code, "Ann")
    step(store, host, "start")
    step(store, host, "open")
    with pytest.raises(C.BadInput, match="how sure"):
        C.submit(store, ann, CASE, 0, Q_DX.id, "lipoma")
    assert stored(store, host.session_id) == []
    with pytest.raises(C.BadInput, match="Certainty must be one of low, moderate, high"):
        C.submit(store, ann, CASE, 0, Q_DX.id, "lipoma", "very")
    C.submit(store, ann, CASE, 0, Q_DX.id, "lipoma", "high")
    C.submit(store, ann, CASE, 0, Q_DX.id, "lipoma", "low")  # a change of mind about how sure
    C.submit(store, ann, CASE, 0, Q_DX.id, Q_DX.answer, "moderate")
    assert stored(store, host.session_id) == [(Q_DX.id, Q_DX.answer, "moderate")]
    assert C.my_choices(store, ann) == {Q_DX.id: (Q_DX.answer, "moderate")}
    assert C.my_answers(store, ann) == {Q_DX.id: Q_DX.answer}
    step(store, host, "close")
    with pytest.raises(C.AnsweringClosed):  # closed, with or without a certainty: "closed" is the reason
        C.submit(store, ann, CASE, 0, Q_DX.id, "lipoma")
    with pytest.raises(C.AnsweringClosed):
        C.submit(store, ann, CASE, 0, Q_DX.id, "lipoma", "high")


def test_a_session_that_does_not_ask_stores_answers_without_certainty(store):
    host = C.create_session(store, CASE, passcode=PASSCODE, configured=PASSCODE)
    assert not C.session_state(store, host.session_id).ask_certainty, "the core's default: not asked"
    ann = C.join(store, host.code, "Ann")
    step(store, host, "start")
    step(store, host, "open")
    C.submit(store, ann, CASE, 0, Q_DX.id, "lipoma")
    assert stored(store, host.session_id) == [(Q_DX.id, "lipoma", None)]


def test_the_live_panel_splits_by_certainty_only_after_the_reveal(store):
    host = C.create_session(store, CASE, passcode=PASSCODE, configured=PASSCODE, ask_certainty=True)
    people = [C.join(store, host.code, name) for name in ("Ann", "Bob", "Cy", "Di")]
    step(store, host, "start")
    step(store, host, "open")
    for person, option, sure in zip(people, (Q_DX.answer, Q_DX.answer, "lipoma", Q_DX.answer),
                                    ("high", "low", "high", "high")):
        C.submit(store, person, CASE, 0, Q_DX.id, option, sure)
    for phase_action in (None, "close"):
        if phase_action:
            step(store, host, phase_action)
        live = C.live(store, host.session_id, CASE)
        assert live.tallies[Q_DX.id] == {Q_DX.answer: 3, "lipoma": 1}
        assert live.certainty == {}, f"no certainty split while {live.phase}"
    step(store, host, "reveal")
    live = C.live(store, host.session_id, CASE)
    assert live.tallies[Q_DX.id] == {Q_DX.answer: 3, "lipoma": 1}
    assert live.certainty == {Q_DX.id: {Q_DX.answer: {"high": 2, "low": 1}, "lipoma": {"high": 1}}, Q_NEXT.id: {}}
    step(store, host, "advance")
    assert C.live(store, host.session_id, CASE).certainty == {}, "the next stage starts without a split"


def test_results_and_csv_of_a_played_session(store):
    host = C.create_session(store, CASE, passcode=PASSCODE, configured=PASSCODE, ask_certainty=True)
    ann, bob = C.join(store, host.code, "Ann"), C.join(store, host.code, "Bob")
    step(store, host, "start")
    step(store, host, "open")
    C.submit(store, ann, CASE, 0, Q_DX.id, Q_DX.answer, "high")
    C.submit(store, ann, CASE, 0, Q_NEXT.id, "observation", "moderate")
    C.submit(store, bob, CASE, 0, Q_DX.id, "lipoma", "high")
    rows = C.result_rows(store, host, CASE)
    assert {r["nickname"]: r["class_score"] for r in rows} == {"Ann": 1.0, "Bob": -6.0}
    table = list(csv.DictReader(io.StringIO(C.results_csv(rows))))
    assert [(r["nickname"], r["certainty"], r["points"]) for r in table] == [
        ("Ann", "high", "3.0"), ("Bob", "high", "-6.0"), ("Ann", "moderate", "-2.0")]


def test_an_old_database_gets_the_certainty_columns_and_keeps_its_answers(store, url):
    host = C.create_session(store, CASE, passcode=PASSCODE, configured=PASSCODE)
    ann = C.join(store, host.code, "Ann")
    step(store, host, "start")
    step(store, host, "open")
    C.submit(store, ann, CASE, 0, Q_DX.id, "lipoma")

    def downgrade(conn):
        conn.execute(sa.text("ALTER TABLE class_answers DROP COLUMN certainty"))
        conn.execute(sa.text("ALTER TABLE class_sessions DROP COLUMN ask_certainty"))

    store.run(downgrade)
    store_module.forget_stores()
    C.forget_polls()
    upgraded = open_store(url)
    assert "certainty" in {c["name"] for c in sa.inspect(upgraded.engine).get_columns("class_answers")}
    assert "ask_certainty" in {c["name"] for c in sa.inspect(upgraded.engine).get_columns("class_sessions")}
    state = C.session_state(upgraded, host.session_id)
    assert not state.ask_certainty, "a session from before certainty does not ask it"
    assert C.my_choices(upgraded, ann) == {Q_DX.id: ("lipoma", None)}
    C.submit(upgraded, ann, CASE, 0, Q_NEXT.id, "mri", "low")
    assert {r["question_id"]: (r["certainty"], r["points"]) for r in C.result_rows(upgraded, host, CASE)} == {
        Q_DX.id: (None, 0.0), Q_NEXT.id: ("low", 1.0)}
