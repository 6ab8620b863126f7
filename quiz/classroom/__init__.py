"""Live class mode: an instructor paces one case, a room of students answers from their phones.

A package by what it holds, with no Streamlit in it:

* :mod:`.codes`: join codes (6 characters with no look-alikes, drawn with :mod:`secrets`) and nicknames;
* :mod:`.machine`: the session's state machine, pure (phases, allowed actions and transitions,
  what each phase lets students see);
* :mod:`.authority`: the instructor's host token and passcode check;
* :mod:`.storage`: every database operation on the class tables of :mod:`quiz.store`, each one
  short transaction, so any number of browser sessions and Streamlit processes share one session;
* :mod:`.student_view`: what a student may see, built from the engine's public projection;
* :mod:`.reports`: graded result rows, summaries and the CSV for the instructor.

The pages use this package as ``from quiz import classroom``; the names below are its public face.
"""
from __future__ import annotations

from .authority import MIN_PASSCODE_LENGTH, Host, check_passcode, locked_until, passcode_problem
from .codes import (ALPHABET, CODE_LENGTH, JOIN_PARAM, NICK_PARAM, NICKNAME_MAX, SEAT_PARAM, clean_nickname, join_url,
                    new_code, normalise_code)
from .errors import (AnsweringClosed, BadInput, ClassError, NicknameTaken, NoSuchSession, NoSuchStudent, NotAllowed,
                     NotHost, PasscodeLocked, SessionEnded, Stale)
from .machine import (ACTION_LABELS, CLOSED, COUNTDOWNS, ENDED, FINAL, LOBBY, OPEN, PHASE_LABELS, REVEALED, WAITING,
                      SessionState, allowed, can_answer, certainty_shown, due_to_close, final_shown, key_shown,
                      next_action, questions_shown, revealed_stages, seconds_left, shown_stage, transition)
from .reports import (NO_CERTAINTY, RESULT_COLUMNS, certainty_summary, class_calibration, class_score, grade_records,
                      max_class_score, question_summary, result_rows, results_csv, stage_summary, student_summary)
from .storage import (CERTAINTY_NEEDED, Live, Seat, SeatReading, Student, act, answer_records, cases_in_class,
                      close_if_due, create_session, find_session, forget_polls, is_host, join, joined_count, live,
                      my_answers, my_choices, open_for_joining, poll_version, read_seat, rejoin, release_seat,
                      remove_student, revealed_tallies, roster, running_sessions, session_state, students, submit,
                      take_control, tallies, try_passcode)
from .student_view import StudentQuestion, StudentStage, StudentView, student_view
