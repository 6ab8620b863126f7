"""Exam mode on real vignettes through the real engine and store: the clock, withheld results, flags, the end."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from class_support import BACKENDS, database_url
from quiz import store as store_module
from quiz.play import engine, exam, progress, schedule
from quiz.store import Store

from study_support import T0, best, choices, play, texts, walk, withheld_texts, wrong
from learner_support import learner_of


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    return database_url(request.param, tmp_path)


@pytest.fixture
def two(cases):
    return tuple(sorted(cases)[:2])


def test_clock_resumes_from_stored_times_after_a_restart_and_time_up_refuses_commits(url, cases, two):
    store = Store(url)
    learner = learner_of(store, "examinee")
    first = cases[two[0]]
    state = exam.start(store, cases, learner, two, time_limit=timedelta(minutes=30), now=T0)
    exam_id = state.exam.id
    assert exam.remaining(state.exam, T0) == timedelta(minutes=30)

    exam.commit(store, cases, exam_id, learner, first.id, 0, choices(first.stages[0], wrong), now=T0 + timedelta(minutes=5))

    # A restart: every engine and store of this process is dropped, and the exam is read back from the database.
    store_module.forget_stores()
    again = Store(url)
    view = exam.view(again, cases, exam_id, learner, now=T0 + timedelta(minutes=12))
    assert view.remaining == timedelta(minutes=18)  # 30 - (12 - 0): from the stored start, not from the page
    assert not view.over and view.stages_committed == 1
    assert [s.committed for s in view.cases[0].stages] == [True, False]  # stage 2 is open, stage 3 not shown
    resumed = exam.load(again, cases, exam_id, learner, now=T0 + timedelta(minutes=12))
    assert resumed.exam.started_at == T0
    assert resumed.commit_times == {(first.id, 0): T0 + timedelta(minutes=5)}

    exam.commit(again, cases, exam_id, learner, first.id, 1, choices(first.stages[1], best), now=T0 + timedelta(minutes=29))
    with pytest.raises(engine.EngineError, match="Time is up") as refused:
        exam.commit(again, cases, exam_id, learner, first.id, 2, choices(first.stages[2], best),
                    now=T0 + timedelta(minutes=30, seconds=1))
    assert isinstance(refused.value, exam.ExamOver)

    after = exam.load(again, cases, exam_id, learner, now=T0 + timedelta(hours=2))
    assert after.attempts[first.id].stage_index == 2  # the late answer was not stored
    assert after.exam.finished_at == T0 + timedelta(minutes=30)  # the exam ended at its deadline
    with pytest.raises(exam.ExamOver, match="ended"):
        exam.commit(again, cases, exam_id, learner, first.id, 2, choices(first.stages[2], best),
                    now=T0 + timedelta(hours=2))
    report = exam.results(again, cases, exam_id, learner, now=T0 + timedelta(hours=2))
    assert report.timed_out and report.ended_at == T0 + timedelta(minutes=30)
    assert [t.spent for t in report.times] == [timedelta(minutes=5), timedelta(minutes=24)]
    assert report.stages_left == len(first.stages) - 2 + len(cases[two[1]].stages)
    # Stage 1 answered wrong, stage 2 right; nothing else counts.
    assert report.score.earned == len(first.stages[1].questions)
    assert report.score.possible == sum(len(s.questions) for c in two for s in cases[c].stages)


def test_untimed_exam_has_no_clock_and_ends_with_its_last_commit(url, cases, two):
    store = Store(url)
    learner = learner_of(store, "untimed")
    state = exam.start(store, cases, learner, two[:1], now=T0)
    case = cases[two[0]]
    assert exam.remaining(state.exam, T0 + timedelta(days=3)) is None
    for index, stage in enumerate(case.stages):
        state = exam.commit(store, cases, state.exam.id, learner, case.id, index, choices(stage, best),
                            now=T0 + timedelta(minutes=index + 1))
    assert state.exam.finished_at == T0 + timedelta(minutes=len(case.stages))
    report = exam.results(store, cases, state.exam.id, learner, now=T0 + timedelta(days=1))
    assert report.score.percent == 100.0 and not report.timed_out and report.stages_left == 0
    assert report.cases[0].view.reveal == case.reveal


def test_exam_view_withholds_every_result_until_the_end(url, cases, two):
    store = Store(url)
    learner = learner_of(store, "no-peeking")
    case = cases[two[0]]
    state = exam.start(store, cases, learner, (case.id,), time_limit=timedelta(hours=1), now=T0)
    secret = withheld_texts(case)
    for index, stage in enumerate(case.stages[:-1]):
        state = exam.commit(store, cases, state.exam.id, learner, case.id, index, choices(stage, wrong),
                            now=T0 + timedelta(minutes=index + 1))
        view = exam.view(store, cases, state.exam.id, learner, now=T0 + timedelta(minutes=index + 1))
        assert not view.over
        leaked = texts(view) & secret
        assert not leaked, f"the exam view shows {sorted(leaked)[:2]}"
        names = {name for _path, name, _value in walk(view)}
        assert not names & {"results", "best", "credit", "explanation", "teaching_note", "reveal", "score", "trace",
                            "source"}, names
        assert view.cases[0].stages[index].chosen == choices(stage, wrong)  # the learner's own choice stays visible
        with pytest.raises(exam.ExamError, match="still running"):
            exam.results(store, cases, state.exam.id, learner, now=T0 + timedelta(minutes=index + 1))

    # Nothing of the running exam reaches the learner's history, library status, tutor mode or review cards.
    assert store.answer_history(learner) == [] and store.attempts(learner) == []
    _id, tutor_record, tutor_choices = store.resume(learner_of(store, "no-peeking"), case.id)
    assert tutor_choices == [] and tutor_record.id not in state.attempt_ids.values()
    schedule.sync(store, learner, now=T0 + timedelta(minutes=30))
    assert schedule.items(store, learner) == []

    exam.finish(store, cases, state.exam.id, learner, now=T0 + timedelta(minutes=40))
    report = exam.results(store, cases, state.exam.id, learner, now=T0 + timedelta(minutes=41))
    shown = texts(report)
    assert any(q.teaching_note in shown for s in case.stages[:-1] for q in s.questions if q.teaching_note)
    assert report.cases[0].view.reveal is None  # the last stage was never committed: no reveal
    assert not report.timed_out and report.ended_at == T0 + timedelta(minutes=40)
    # Once it has ended, its answers are history, and the misses become review cards.
    history = store.answer_history(learner)
    assert len(history) == sum(len(s.questions) for s in case.stages[:-1])
    schedule.sync(store, learner, now=T0 + timedelta(minutes=41))
    assert {i.question_id for i in schedule.items(store, learner)} == {r["question_id"] for r in history}


def test_flags_are_kept_per_question_and_listed_at_the_end(url, cases, two):
    store = Store(url)
    learner = learner_of(store, "flagger")
    case = cases[two[0]]
    state = exam.start(store, cases, learner, two, time_limit=timedelta(hours=1), now=T0)
    first_q, later_q = case.stages[0].questions[0].id, case.stages[2].questions[0].id
    state = exam.flag(store, cases, state.exam.id, learner, case.id, first_q, now=T0)
    state = exam.flag(store, cases, state.exam.id, learner, case.id, first_q, now=T0)  # twice is once
    with pytest.raises(exam.ExamError, match="on screen"):
        exam.flag(store, cases, state.exam.id, learner, case.id, later_q)  # a stage not shown yet
    view = exam.view(store, cases, state.exam.id, learner, now=T0)
    assert view.flagged == ((case.id, first_q),)
    assert view.cases[0].stages[0].flagged == {first_q}
    second_q = case.stages[0].questions[1].id
    exam.flag(store, cases, state.exam.id, learner, case.id, second_q, now=T0)
    exam.flag(store, cases, state.exam.id, learner, case.id, second_q, flagged=False, now=T0)
    exam.finish(store, cases, state.exam.id, learner, now=T0 + timedelta(minutes=3))
    report = exam.results(store, cases, state.exam.id, learner)
    assert report.flagged == ((case.id, first_q),) and report.cases[0].flagged == (first_q,)


def test_an_exam_is_its_learners_alone(url, cases, two):
    store = Store(url)
    owner, other = learner_of(store, "owner"), learner_of(store, "other")
    state = exam.start(store, cases, owner, two, now=T0)
    case = cases[two[0]]
    for move in (lambda: exam.view(store, cases, state.exam.id, other),
                 lambda: exam.commit(store, cases, state.exam.id, other, case.id, 0, choices(case.stages[0], best)),
                 lambda: exam.flag(store, cases, state.exam.id, other, case.id, case.stages[0].questions[0].id),
                 lambda: exam.finish(store, cases, state.exam.id, other)):
        with pytest.raises(exam.ExamError, match="not one of yours"):
            move()
    assert exam.load(store, cases, state.exam.id, owner).attempts[case.id].stage_index == 0


def test_tutor_mode_leaves_an_exams_attempts_alone(url, cases, two):
    """Starting over in tutor mode drops unanswered tutor attempts only, never an exam's."""
    store = Store(url)
    learner = learner_of(store, "both-modes")
    state = exam.start(store, cases, learner, two, now=T0)
    tutor = store.new_attempt(learner, two[1])
    assert tutor.id not in state.attempt_ids.values()
    assert exam.load(store, cases, state.exam.id, learner).attempt_ids == state.attempt_ids
    assert store.current_attempt(learner, two[1]).id == tutor.id


def test_commits_follow_the_engine_rules(url, cases, two):
    store = Store(url)
    learner = learner_of(store, "rules")
    case = cases[two[0]]
    state = exam.start(store, cases, learner, two, now=T0)
    with pytest.raises(engine.EngineError, match="not open yet"):
        exam.commit(store, cases, state.exam.id, learner, case.id, 1, choices(case.stages[1], best), now=T0)
    with pytest.raises(engine.EngineError, match="Answer every question"):
        exam.commit(store, cases, state.exam.id, learner, case.id, 0, {}, now=T0)
    with pytest.raises(exam.ExamError, match="not part of this exam"):
        exam.commit(store, cases, state.exam.id, learner, sorted(cases)[-1], 0, {}, now=T0)
    exam.commit(store, cases, state.exam.id, learner, case.id, 0, choices(case.stages[0], best), now=T0)
    with pytest.raises(engine.AlreadyCommitted):
        exam.commit(store, cases, state.exam.id, learner, case.id, 0, choices(case.stages[0], wrong), now=T0)


def test_choosing_a_set_is_seeded_and_filtered(cases):
    spine = exam.choose_cases(cases, seed="s1", regions=["spine"])
    assert spine == exam.choose_cases(cases, seed="s1", regions=["spine"])
    assert sorted(spine) == sorted(c for c, case in cases.items() if "spine" in case.tags.region)
    assert len(exam.choose_cases(cases, seed="s2", count=2)) == 2
    orders = {exam.choose_cases(cases, seed=f"seed-{i}") for i in range(20)}
    assert len(orders) > 1  # the seed draws the order
    with pytest.raises(exam.ExamError, match="No case matches"):
        exam.choose_cases(cases, seed="s", difficulties=["advanced"], regions=["spine"])
    bands = {c: ("harder" if c in spine else None) for c in cases}
    assert sorted(exam.choose_cases(cases, seed="s", bands=bands, band_filter=["harder"])) == sorted(spine)
    made = exam.plan(cases, seed="s3", count=2)
    assert made.time_limit == timedelta(minutes=sum(cases[c].minutes for c in made.case_ids))
    assert exam.plan(cases, seed="s3", count=2, minutes_per_case=0).time_limit is None
    for bad, message in (((), "at least one"), (("nope",), "No such case"), ((spine[0], spine[0]), "twice")):
        with pytest.raises(exam.ExamError, match=message):
            exam.check_plan(cases, bad, None)
    with pytest.raises(exam.ExamError, match="time limit"):
        exam.check_plan(cases, spine, timedelta(seconds=10))


def test_open_exam_ends_the_expired_ones(url, cases, two):
    store = Store(url)
    learner = learner_of(store, "returning")
    old = exam.start(store, cases, learner, two, time_limit=timedelta(minutes=10), now=T0)
    assert exam.open_exam(store, cases, learner, now=T0 + timedelta(minutes=5)) == old.exam.id
    assert exam.open_exam(store, cases, learner, now=T0 + timedelta(minutes=11)) is None
    assert exam.exams_of(store, learner)[0].finished_at == T0 + timedelta(minutes=10)


def test_weakest_area_exam(url, cases, two):
    """Right diagnoses and wrong next steps: the weakest area is the next step, and its exam can be sat."""
    store = Store(url)
    learner = learner_of(store, "weak")
    for case_id in two:
        play(store, learner, cases[case_id], lambda q: best(q) if q.kind == "diagnosis" else wrong(q), T0)
    frame = progress.history_frame(store.answer_history(learner), cases)
    made = exam.plan_weakest(frame, cases, seed="w", count=2)
    assert made.reason == "Your weakest area: " + str(progress.weakest_area(frame))
    assert "question kind next step (0% over" in made.reason
    assert len(made.case_ids) == 2 and set(made.case_ids) <= set(cases)
    state = exam.start(store, cases, learner, made.case_ids, time_limit=made.time_limit, seed=made.seed, now=T0)
    assert state.exam.case_ids == made.case_ids and state.exam.time_limit == made.time_limit


def test_old_database_gets_the_exam_column(tmp_path, cases):
    """A database made before exams existed: the column is added, and its attempts stay tutor attempts."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine_ = sa.create_engine(url)
    old = sa.MetaData()
    for table in store_module.metadata.sorted_tables:
        if table.name in ("learners", "attempts", "answers"):
            columns = [sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                       for c in table.columns if c.name not in ("exam_id", "seed")]
            sa.Table(table.name, old, *columns)
    old.create_all(engine_)
    with engine_.begin() as conn:
        conn.execute(sa.text("INSERT INTO learners (id, name, created_at) VALUES (1, 'Old', '2025-01-01')"))
        conn.execute(sa.text("INSERT INTO attempts (id, learner_id, case_id, started_at) "
                             f"VALUES (1, 1, '{sorted(cases)[0]}', '2025-01-01')"))
    engine_.dispose()
    store_module.forget_stores()
    store = Store(url)
    Store(url)  # a second start is a no-op
    assert "exam_id" in {c["name"] for c in sa.inspect(store.engine).get_columns("attempts")}
    assert [r.id for r in store.attempts(1)] == [1]
    assert store.resume(1, sorted(cases)[0])[1].id == 1


def test_a_commit_after_another_tab_handed_in_is_refused(url, cases, two):
    """Tab 1 read the exam as running; tab 2 hands it in; tab 1's commit must not slip in afterwards."""
    store = Store(url)
    learner = learner_of(store, "two-tabs")
    case = cases[two[0]]
    state = exam.start(store, cases, learner, two, now=T0)
    stale = exam._load(store, cases, state.exam.id, learner)  # what tab 1 read
    exam.finish(store, cases, state.exam.id, learner, now=T0 + timedelta(minutes=1))  # tab 2
    attempt = engine.commit(case, stale.attempts[case.id], 0, choices(case.stages[0], best))
    with pytest.raises(exam.ExamOver, match="just ended"):
        store.record_stage(stale.attempt_ids[case.id], 0, case.stages[0].kind, engine.results(case, attempt, 0),
                           at=T0 + timedelta(minutes=2), guard=lambda conn: exam._still_open(conn, state.exam.id))
    assert exam.load(store, cases, state.exam.id, learner).commit_times == {}
