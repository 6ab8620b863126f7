"""Exam mode: a set of cases under an optional time limit, with every result held back until the end.

Answers commit stage by stage through :mod:`quiz.play.engine`, as in tutor mode (the next stage
needs the commit), but what an exam page gets is :class:`ExamView`: :func:`engine.view` with the
results, keys, explanations, teaching notes, score and reveal stripped out, so no page can show
them early. They come back in :class:`ExamReport`, which exists only once the exam is over.

The clock lives in the database. The exam's start and every commit are stamped with server time;
the time left is ``limit - (now - started_at)``, recomputed from the stored start on every call,
so a reload, another device or a server restart resumes the clock, and nothing the browser sends
can stop or reset it. Once time is up no commit is accepted and the exam ends at its deadline.

The pure part (clock, views, report) takes data and returns data; the functions at the end read
and write the store, each change in one transaction.
"""
from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..content.model import Case, Finding, Image
from ..store import Store, as_utc, attempts as attempts_table, answers as answers_table, exam_flags, exams, now as server_now
from ..store import new_seed, stage_choices, stored_seed
from . import engine
from .progress import cases_in_area, weakest_area

#: Limits that keep one exam a sitting, not a semester; a bad request gets a message, not a huge exam.
MAX_CASES = 20
MAX_TIME_LIMIT = timedelta(hours=12)


class ExamError(engine.EngineError):
    """A move an exam does not allow (unknown case, someone else's exam, results asked for too early)."""


class ExamOver(ExamError):
    """The exam has ended (handed in, every stage committed, or time up): answers can no longer change."""


class InClass(ExamError):
    """A case of the exam is in use by a live class: it is not started, played or reviewed until its reveal.

    ``hidden`` arguments below are the ids a running class keeps out of self-study
    (``quiz.classroom.cases_in_class``), given by the page as data.
    """


def in_class_message(cases: Mapping[str, Case], case_ids: Iterable[str], what: str) -> str:
    titles = "; ".join(cases[c].title if c in cases else c for c in case_ids)
    return f"In use by a live class: {titles}. {what}"


def held_back(case_ids: Iterable[str], hidden: Iterable[str]) -> tuple[str, ...]:
    """The cases of ``case_ids`` a live class keeps hidden, in exam order."""
    hidden = set(hidden)
    return tuple(c for c in case_ids if c in hidden)


# --- the exam and its clock ---------------------------------------------------


@dataclass(frozen=True)
class ExamRecord:
    id: int
    learner_id: int
    seed: str
    case_ids: tuple[str, ...]
    time_limit: timedelta | None
    started_at: datetime
    finished_at: datetime | None

    @property
    def deadline(self) -> datetime | None:
        return self.started_at + self.time_limit if self.time_limit is not None else None


def remaining(exam: ExamRecord, now: datetime) -> timedelta | None:
    """Time left at ``now`` (never negative); None for an untimed exam."""
    if exam.deadline is None:
        return None
    end = exam.finished_at if exam.finished_at is not None else now
    return max(exam.deadline - end, timedelta(0))


def time_up(exam: ExamRecord, now: datetime) -> bool:
    return exam.deadline is not None and now >= exam.deadline


@dataclass(frozen=True)
class ExamState:
    """An exam as stored: its record, each case's attempt rebuilt by the engine, commit times and flags."""

    exam: ExamRecord
    attempts: Mapping[str, engine.Attempt]
    attempt_ids: Mapping[str, int]
    commit_times: Mapping[tuple[str, int], datetime]  # (case id, stage index) -> server time of the commit
    flags: frozenset[tuple[str, str]]  # (case id, question id)


def all_committed(state: ExamState, cases: Mapping[str, Case]) -> bool:
    return all(engine.is_finished(cases[c], state.attempts[c]) for c in state.exam.case_ids)


def is_over(state: ExamState, cases: Mapping[str, Case], now: datetime) -> bool:
    """Handed in, every stage of every case committed, or out of time: results may be shown."""
    return state.exam.finished_at is not None or time_up(state.exam, now) or all_committed(state, cases)


def ended_at(state: ExamState, cases: Mapping[str, Case], now: datetime) -> datetime | None:
    """When the exam ended: its stored end, else its deadline once passed, else the last commit once all are in."""
    if state.exam.finished_at is not None:
        return state.exam.finished_at
    if time_up(state.exam, now):
        return state.exam.deadline
    if all_committed(state, cases):
        return max(state.commit_times.values(), default=state.exam.started_at)
    return None


# --- choosing the set ---------------------------------------------------------


def choose_cases(cases: Mapping[str, Case], *, seed: str, count: int | None = None, regions: Iterable[str] = (),
                 specialties: Iterable[str] = (), difficulties: Iterable[str] = (),
                 bands: Mapping[str, str | None] | None = None, band_filter: Iterable[str] = (),
                 hidden: Iterable[str] = ()) -> tuple[str, ...]:
    """A random set of cases matching every filter given, drawn from ``seed`` (same seed, same set and order).

    Cases in ``hidden`` (a live class is playing them) are never drawn.

    Filters are those the library shows (region, specialty, the author's difficulty) and the peer
    difficulty band (:func:`quiz.play.peers.library_bands`). The origin tag is not a filter: it
    tells whether a lesion is primary or metastatic, which is what the cases ask.
    """
    regions, specialties, difficulties, band_filter = set(regions), set(specialties), set(difficulties), set(band_filter)
    hidden = set(hidden)
    matching = [case_id for case_id, case in sorted(cases.items())
                if (not regions or regions & set(case.tags.region))
                and (not specialties or specialties & set(case.tags.specialty))
                and (not difficulties or case.difficulty in difficulties)
                and (not band_filter or (bands or {}).get(case_id) in band_filter)]
    eligible = [c for c in matching if c not in hidden]
    if matching and not eligible:
        raise InClass(in_class_message(cases, matching, "No other case matches these filters: remove a filter, "
                                       "or wait for the class's final reveal."))
    if not eligible:
        raise ExamError("No case matches these filters: remove a filter to make an exam.")
    random.Random(seed).shuffle(eligible)
    return tuple(eligible[:count] if count else eligible)


def check_plan(cases: Mapping[str, Case], case_ids: Sequence[str], time_limit: timedelta | None,
               hidden: Iterable[str] = ()) -> None:
    """Raise :class:`ExamError`, saying what to change, unless this is an exam that can be sat."""
    if not case_ids:
        raise ExamError("Choose at least one case for the exam.")
    if len(case_ids) > MAX_CASES:
        raise ExamError(f"An exam holds at most {MAX_CASES} cases; {len(case_ids)} were chosen.")
    unknown = [c for c in case_ids if c not in cases]
    if unknown:
        raise ExamError(f"No such case: {', '.join(unknown)}.")
    if len(set(case_ids)) != len(case_ids):
        raise ExamError("A case is in the exam twice: choose each case once.")
    held = held_back(case_ids, hidden)
    if held:
        raise InClass(in_class_message(cases, held, "It opens for self-study and exams after the class's final "
                                       "reveal: choose other cases."))
    if time_limit is not None and not timedelta(minutes=1) <= time_limit <= MAX_TIME_LIMIT:
        raise ExamError(f"The time limit must be between 1 minute and {MAX_TIME_LIMIT.seconds // 3600} hours, "
                        "or none for an untimed exam.")


# --- what an exam page may show -----------------------------------------------


@dataclass(frozen=True)
class ExamStage:
    """A stage as an exam shows it: findings and questions, the learner's own choices, no result."""

    number: int
    kind: str
    heading: str
    findings: tuple[Finding, ...]
    images: tuple[Image, ...]
    questions: tuple[engine.AskedQuestion, ...]
    chosen: Mapping[str, str] | None  # question id -> chosen option id, once committed
    flagged: frozenset[str]  # question ids

    @property
    def committed(self) -> bool:
        return self.chosen is not None


@dataclass(frozen=True)
class ExamCase:
    case_id: str
    title: str
    total_stages: int
    stages: tuple[ExamStage, ...]  # up to the open stage, as in tutor mode
    finished: bool  # every stage committed
    in_class: bool = False  # a live class plays it now: only the committed stages, nothing new, no commit

    @property
    def committed_stages(self) -> int:
        return sum(s.committed for s in self.stages)


@dataclass(frozen=True)
class ExamView:
    """Everything an exam page may show while it runs, and nothing of a result."""

    exam_id: int
    cases: tuple[ExamCase, ...]
    time_limit: timedelta | None
    remaining: timedelta | None
    over: bool
    flagged: tuple[tuple[str, str], ...]

    @property
    def stages_total(self) -> int:
        return sum(c.total_stages for c in self.cases)

    @property
    def stages_committed(self) -> int:
        return sum(c.committed_stages for c in self.cases)


def exam_case(view: engine.View, attempt: engine.Attempt, flags: Iterable[tuple[str, str]], *,
              in_class: bool = False) -> ExamCase:
    """``engine.view`` without what an exam holds back: results, score, trace, reveal and source.

    ``in_class``: a live class plays the case now, so the open stage (findings the class has not
    reached) is left out too; only what the learner already committed stays.
    """
    flagged = {q for c, q in flags if c == view.case_id}
    stages = tuple(
        ExamStage(s.number, s.kind, s.heading, s.findings, s.images, s.questions,
                  chosen=dict(attempt.committed[s.number - 1]) if s.number <= attempt.stage_index else None,
                  flagged=frozenset(q.id for q in s.questions if q.id in flagged))
        for s in view.stages if not in_class or s.number <= attempt.stage_index)
    return ExamCase(view.case_id, view.title, view.total_stages, stages, view.finished, in_class=in_class)


def exam_view(state: ExamState, cases: Mapping[str, Case], now: datetime, hidden: Iterable[str] = ()) -> ExamView:
    hidden = set(hidden)
    return ExamView(
        exam_id=state.exam.id,
        cases=tuple(exam_case(engine.view(cases[c], state.attempts[c]), state.attempts[c], state.flags,
                              in_class=c in hidden)
                    for c in state.exam.case_ids),
        time_limit=state.exam.time_limit,
        remaining=remaining(state.exam, now),
        over=is_over(state, cases, now),
        flagged=tuple(sorted(state.flags, key=lambda f: (state.exam.case_ids.index(f[0]), f[1]))),
    )


# --- the end ------------------------------------------------------------------


@dataclass(frozen=True)
class StageTime:
    case_id: str
    stage_number: int
    heading: str
    committed_at: datetime
    spent: timedelta  # since the exam's previous commit (any case), or its start


@dataclass(frozen=True)
class CaseReview:
    case_id: str
    view: engine.View  # the full tutor-mode view: results, and the reveal when every stage was committed
    score: engine.Score  # questions of stages never committed count as answered wrong
    flagged: tuple[str, ...]
    times: tuple[StageTime, ...]
    attempt: engine.Attempt  # what was committed, for the reasoning trace (certainty stored by attempt_id)
    attempt_id: int


@dataclass(frozen=True)
class ExamReport:
    exam_id: int
    score: engine.Score
    cases: tuple[CaseReview, ...]
    times: tuple[StageTime, ...]  # every commit, in the order made
    flagged: tuple[tuple[str, str], ...]
    started_at: datetime
    ended_at: datetime
    timed_out: bool
    stages_left: int  # stages not committed when the exam ended


def stage_times(state: ExamState, cases: Mapping[str, Case]) -> tuple[StageTime, ...]:
    """Time per stage: from the exam's previous commit (or its start) to this commit.

    With one clock and cases that may be worked in any order, the honest measure of a stage is the
    time since the learner last committed anything.
    """
    out, previous = [], state.exam.started_at
    for (case_id, index), stamp in sorted(state.commit_times.items(), key=lambda item: (item[1], item[0])):
        out.append(StageTime(case_id, index + 1, cases[case_id].stages[index].heading, stamp, stamp - previous))
        previous = stamp
    return tuple(out)


def report(state: ExamState, cases: Mapping[str, Case], now: datetime, hidden: Iterable[str] = ()) -> ExamReport:
    """Score, time per stage and each case's full review; only once the exam is over.

    While a live class plays one of the exam's cases the whole report waits (:class:`InClass`): the
    review would give that case's keys away, and even the score would tell how it went.
    """
    end = ended_at(state, cases, now)
    if end is None:
        raise ExamError("The exam is still running: results, keys and explanations are shown when you hand it in "
                        "or time runs out.")
    held = held_back(state.exam.case_ids, hidden)
    if held:
        raise InClass(in_class_message(cases, held, "This exam has ended and your answers are stored, but its "
                                       "results (score, keys, explanations) wait for the class's final reveal: "
                                       "come back to this page then."))
    times = stage_times(state, cases)
    reviews = []
    for case_id in state.exam.case_ids:
        case, attempt = cases[case_id], state.attempts[case_id]
        reviews.append(CaseReview(
            case_id, engine.view(case, attempt), engine.score(case, attempt),
            tuple(q.id for s in case.stages for q in s.questions if (case_id, q.id) in state.flags),
            tuple(t for t in times if t.case_id == case_id), attempt, state.attempt_ids[case_id]))
    earned = round(sum(r.score.earned for r in reviews), 3)
    possible = sum(r.score.possible for r in reviews)
    return ExamReport(
        exam_id=state.exam.id, score=engine.Score(earned, possible), cases=tuple(reviews), times=times,
        flagged=exam_view(state, cases, now).flagged, started_at=state.exam.started_at, ended_at=end,
        timed_out=state.exam.deadline is not None and end >= state.exam.deadline
        and not all_committed(state, cases),
        stages_left=sum(len(cases[c].stages) - state.attempts[c].stage_index for c in state.exam.case_ids),
    )


# --- stored exams -------------------------------------------------------------


def _record(row: Mapping) -> ExamRecord:
    return ExamRecord(row["id"], row["learner_id"], row["seed"], tuple(json.loads(row["case_ids"])),
                      timedelta(seconds=row["time_limit_s"]) if row["time_limit_s"] is not None else None,
                      as_utc(row["started_at"]), as_utc(row["finished_at"]))




def _load(store: Store, cases: Mapping[str, Case], exam_id: int, learner_id: int) -> ExamState:
    def read(conn):
        row = conn.execute(sa.select(exams).where(exams.c.id == exam_id)).first()
        if row is None or row.learner_id != learner_id:  # someone else's exam is as good as none
            return None
        attempt_rows = conn.execute(sa.select(attempts_table.c.id, attempts_table.c.case_id, attempts_table.c.seed)
                                    .where(attempts_table.c.exam_id == exam_id)).all()
        answer_rows = conn.execute(
            sa.select(attempts_table.c.case_id, answers_table.c.stage_index, answers_table.c.question_id,
                      answers_table.c.option_id, answers_table.c.answered_at)
            .join(attempts_table, answers_table.c.attempt_id == attempts_table.c.id)
            .where(attempts_table.c.exam_id == exam_id).order_by(answers_table.c.stage_index, answers_table.c.id)).all()
        flag_rows = conn.execute(sa.select(exam_flags.c.case_id, exam_flags.c.question_id)
                                 .where(exam_flags.c.exam_id == exam_id)).all()
        return row._mapping, attempt_rows, answer_rows, flag_rows

    found = store.run(read, write=False)
    if found is None:
        raise ExamError(f"Exam {exam_id} is not one of yours.")
    row, attempt_rows, answer_rows, flag_rows = found
    exam = _record(row)
    missing = [c for c in exam.case_ids if c not in cases]
    if missing:
        raise ExamError(f"This exam's case {', '.join(missing)} is no longer in the library; start a new exam.")
    by_case = {c: [] for c in exam.case_ids}
    times = {}
    for r in answer_rows:
        by_case[r.case_id].append(r._mapping)
        times[(r.case_id, r.stage_index)] = as_utc(r.answered_at)
    seeds = {r.case_id: stored_seed(r.seed, "attempt", r.id) for r in attempt_rows}  # each case's option order
    return ExamState(
        exam=exam,
        attempts={c: engine.replay(cases[c], stage_choices(by_case[c]), seeds[c]) for c in exam.case_ids},
        attempt_ids={r.case_id: r.id for r in attempt_rows},
        commit_times=times,
        flags=frozenset((r.case_id, r.question_id) for r in flag_rows),
    )


def start(store: Store, cases: Mapping[str, Case], learner_id: int, case_ids: Sequence[str], *,
          time_limit: timedelta | None = None, seed: str | None = None, now: datetime | None = None,
          hidden: Iterable[str] = ()) -> ExamState:
    """Open an exam of these cases, in this order: the clock starts now (server time). None may be hidden."""
    case_ids = tuple(case_ids)
    check_plan(cases, case_ids, time_limit, hidden)
    stamp = now or server_now()

    def work(conn):
        exam_id = conn.execute(exams.insert().values(
            learner_id=learner_id, seed=seed or secrets.token_hex(16), case_ids=json.dumps(list(case_ids)),
            time_limit_s=int(time_limit.total_seconds()) if time_limit is not None else None,
            started_at=stamp)).inserted_primary_key[0]
        conn.execute(attempts_table.insert(), [dict(learner_id=learner_id, case_id=c, started_at=stamp, exam_id=exam_id,
                                                    seed=new_seed()) for c in case_ids])
        return exam_id

    return _load(store, cases, store.run(work), learner_id)


def load(store: Store, cases: Mapping[str, Case], exam_id: int, learner_id: int, *,
         now: datetime | None = None) -> ExamState:
    """The exam as stored; one whose time ran out is ended here (at its deadline) on first sight."""
    state = _load(store, cases, exam_id, learner_id)
    if state.exam.finished_at is None and time_up(state.exam, now or server_now()):
        state = finish(store, cases, exam_id, learner_id, now=now)
    return state


def view(store: Store, cases: Mapping[str, Case], exam_id: int, learner_id: int, *,
         now: datetime | None = None, hidden: Iterable[str] = ()) -> ExamView:
    now = now or server_now()
    return exam_view(load(store, cases, exam_id, learner_id, now=now), cases, now, hidden)


def results(store: Store, cases: Mapping[str, Case], exam_id: int, learner_id: int, *,
            now: datetime | None = None, hidden: Iterable[str] = ()) -> ExamReport:
    now = now or server_now()
    return report(load(store, cases, exam_id, learner_id, now=now), cases, now, hidden)


def commit(store: Store, cases: Mapping[str, Case], exam_id: int, learner_id: int, case_id: str, stage_index: int,
           choices: Mapping[str, str], *, certainty: Mapping[str, object] | None = None,
           now: datetime | None = None, hidden: Iterable[str] = ()) -> ExamState:
    """Commit one stage of one case of the exam, at server time ``now``; the exam ends with its last commit.

    ``certainty`` ({question id: level or 0-100}) is how sure the learner said they were; it is stored
    with the stage's reasoning, as in tutor mode, and rates the answers' review cards once the exam ends.
    """
    now = now or server_now()
    state = _load(store, cases, exam_id, learner_id)
    if state.exam.finished_at is not None:
        raise ExamOver("This exam has ended: answers can no longer change. Your results are ready.")
    if time_up(state.exam, now):
        finish(store, cases, exam_id, learner_id, now=now)
        raise ExamOver(f"Time is up: the exam ended at {state.exam.deadline:%H:%M:%S} UTC and this answer was "
                       "not saved. Your results are ready.")
    if case_id not in state.attempts:
        raise ExamError(f"Case {case_id!r} is not part of this exam.")
    if case_id in set(hidden):
        raise InClass(in_class_message(cases, [case_id], "This answer was not saved: the case opens again after "
                                       "the class's final reveal; answer the other cases meanwhile."))
    case = cases[case_id]
    attempt = engine.commit(case, state.attempts[case_id], stage_index, choices)
    done = engine.score(case, attempt) if engine.is_finished(case, attempt) else None
    stored = store.record_stage(state.attempt_ids[case_id], stage_index, case.stages[stage_index].kind,
                                engine.results(case, attempt, stage_index),
                                finished=(done.earned, done.possible) if done else None, at=now,
                                guard=lambda conn: _still_open(conn, exam_id),
                                reasoning={"certainty": dict(certainty)} if certainty else None)
    if not stored:
        raise engine.AlreadyCommitted(f"Stage {stage_index + 1} is already committed; committed answers cannot change.")
    state = _load(store, cases, exam_id, learner_id)
    if all_committed(state, cases):
        state = finish(store, cases, exam_id, learner_id, now=now)
    return state


def _still_open(conn, exam_id: int) -> None:
    """Lock the exam's row for this commit and refuse it if the exam has ended since it was read.

    A no-op update takes the row's write lock, so a hand-in in another tab waits for this commit or
    is seen by it; never both.
    """
    locked = conn.execute(exams.update().where(exams.c.id == exam_id, exams.c.finished_at.is_(None))
                          .values(finished_at=None)).rowcount
    if locked != 1:
        raise ExamOver("This exam has just ended (in another tab or window): this answer was not saved. "
                       "Your results are ready.")


def finish(store: Store, cases: Mapping[str, Case], exam_id: int, learner_id: int, *,
           now: datetime | None = None) -> ExamState:
    """End the exam (hand in), once: at ``now``, or at its deadline if that came first. Idempotent."""
    state = _load(store, cases, exam_id, learner_id)
    if state.exam.finished_at is None:
        now = now or server_now()
        end = min(now, state.exam.deadline) if state.exam.deadline is not None else now
        if state.commit_times and all_committed(state, cases):
            end = min(end, max(max(state.commit_times.values()), state.exam.started_at))
        store.run(lambda conn: conn.execute(exams.update().where(exams.c.id == exam_id, exams.c.finished_at.is_(None))
                                            .values(finished_at=end)))
        state = _load(store, cases, exam_id, learner_id)
    return state


def flag(store: Store, cases: Mapping[str, Case], exam_id: int, learner_id: int, case_id: str, question_id: str,
         flagged: bool = True, *, now: datetime | None = None) -> ExamState:
    """Mark a question to come back to (or unmark it); only a question the exam has already shown."""
    state = _load(store, cases, exam_id, learner_id)
    if case_id not in state.attempts:
        raise ExamError(f"Case {case_id!r} is not part of this exam.")
    shown = engine.view(cases[case_id], state.attempts[case_id]).stages
    if question_id not in {q.id for s in shown for q in s.questions}:
        raise ExamError("Only a question on screen can be flagged.")

    def work(conn):
        where = (exam_flags.c.exam_id == exam_id, exam_flags.c.case_id == case_id,
                 exam_flags.c.question_id == question_id)
        conn.execute(exam_flags.delete().where(*where))
        if flagged:
            conn.execute(exam_flags.insert().values(exam_id=exam_id, case_id=case_id, question_id=question_id,
                                                    flagged_at=now or server_now()))

    store.run(work)
    return _load(store, cases, exam_id, learner_id)


def exams_of(store: Store, learner_id: int) -> list[ExamRecord]:
    """A learner's exams, newest first."""
    rows = store.run(lambda conn: conn.execute(sa.select(exams).where(exams.c.learner_id == learner_id)
                                               .order_by(exams.c.id.desc())).all(), write=False)
    return [_record(r._mapping) for r in rows]


def open_exam(store: Store, cases: Mapping[str, Case], learner_id: int, *, now: datetime | None = None) -> int | None:
    """The id of the learner's newest exam still running, ending on the way any whose time ran out."""
    now = now or server_now()
    for record in exams_of(store, learner_id):
        if record.finished_at is None:
            if not time_up(record, now) and all(c in cases for c in record.case_ids):
                return record.id
            if all(c in cases for c in record.case_ids):
                finish(store, cases, record.id, learner_id, now=now)
    return None


@dataclass(frozen=True)
class ExamPlan:
    """What "start an exam" needs: the cases in order, the limit, and why (for the page to say)."""

    case_ids: tuple[str, ...]
    time_limit: timedelta | None
    seed: str
    reason: str = ""  # e.g. "Your weakest area: stage kind imaging (40% over 10 answers)"
    spare: tuple[str, ...] = ()  # the rest of the draw, in order: stand-ins for a case a class starts playing


def without_hidden(cases: Mapping[str, Case], made: ExamPlan, hidden: Iterable[str],
                   minutes_per_case: int | None = None) -> ExamPlan:
    """``made`` with any case a live class now plays replaced by the next spare one (or dropped).

    A plan may be drawn on one run and started on another; this is the check at the start.
    Raises :class:`InClass` when no case is left.
    """
    hidden = set(hidden)
    if not hidden & {*made.case_ids, *made.spare}:
        return made
    pool = [c for c in (*made.case_ids, *made.spare) if c not in hidden]
    chosen, spare = tuple(pool[:len(made.case_ids)]), tuple(pool[len(made.case_ids):])
    if not chosen:
        raise InClass(in_class_message(cases, held_back(made.case_ids, hidden),
                                       "No other case fits this exam until the class's final reveal."))
    return ExamPlan(chosen, time_limit_for(cases, chosen, minutes_per_case), made.seed, made.reason, spare)


def time_limit_for(cases: Mapping[str, Case], case_ids: Iterable[str], minutes_per_case: int | None) -> timedelta | None:
    """The cases' own ``minutes`` added up, or ``minutes_per_case`` each; 0 means untimed."""
    if minutes_per_case == 0:
        return None
    return min(timedelta(minutes=sum(minutes_per_case or cases[c].minutes for c in case_ids)), MAX_TIME_LIMIT)


def plan(cases: Mapping[str, Case], *, seed: str | None = None, count: int | None = None,
         minutes_per_case: int | None = None, **filters) -> ExamPlan:
    """A random exam from the library's filters (see :func:`choose_cases`), timed by :func:`time_limit_for`."""
    seed = seed or secrets.token_hex(16)
    chosen = choose_cases(cases, seed=seed, count=count, **filters)
    return ExamPlan(chosen, time_limit_for(cases, chosen, minutes_per_case), seed)


def plan_for_area(cases: Mapping[str, Case], area, *, seed: str | None = None, count: int = 3,
                  minutes_per_case: int | None = None, hidden: Iterable[str] = ()) -> ExamPlan:
    """An exam of up to ``count`` cases that exercise one area (``progress.WeakArea``), none of them ``hidden``.

    The rest of the area's cases, in draw order, are the plan's ``spare`` (see :func:`without_hidden`).
    """
    seed = seed or secrets.token_hex(16)
    eligible = cases_in_area(cases, area)
    if not eligible:
        raise ExamError(f"No case in the library exercises {area.area} {area.value}.")
    random.Random(seed).shuffle(eligible)
    made = ExamPlan(tuple(eligible[:count]), time_limit_for(cases, eligible[:count], minutes_per_case), seed,
                    reason=f"Your weakest area: {area}", spare=tuple(eligible[count:]))
    return without_hidden(cases, made, hidden, minutes_per_case)


def plan_weakest(frame, cases: Mapping[str, Case], **options) -> ExamPlan | None:
    """An exam of the learner's weakest area (see ``progress.weakest_area``), or None if none stands out yet.

    ``hidden=`` leaves out the cases a live class plays; a page that does not pass it still cannot
    start one: :func:`start` refuses them, and ``quiz.ui.exam.start_plan`` swaps them for spares.
    """
    area = weakest_area(frame)
    return plan_for_area(cases, area, **options) if area is not None else None
