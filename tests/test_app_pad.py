"""The differential pad, certainty and the problem representation in the real self-study player (AppTest)."""
from __future__ import annotations

import pytest

from quiz.play import differential
from quiz.store import Store

from apptest_support import answer_stage, assert_no_exception, click, fresh_app, page_text
from conftest import REPO
from quiz.content import loader
from learner_support import learner_of

CONTENT = loader.load_content(REPO / "content")
CASES = CONTENT.cases
CATALOGUE = CONTENT.catalogue


pytestmark = pytest.mark.usefixtures("database")  # conftest.py: a fresh SQLite file per test


def widget(items, suffix):
    return next(w for w in items if w.key and w.key.startswith("play-") and w.key.endswith(suffix))


def label(diagnosis):
    return CATALOGUE[diagnosis].label


def pad_for(case, index):
    """A learner's pad at a stage: the expert's top three there, the eventual diagnosis left out until stage 2."""
    picks = [e.diagnosis for e in differential.expert(case.stages[index])][:3]
    if index == 0:
        picks = [d for d in picks if d != case.reveal.diagnosis_id] or picks
    return picks


def assert_no_expert_before_commit(case, index, text, mine):
    stage = case.stages[index]
    # Labels the page may show anyway: options of this and earlier stages (their summaries name them).
    asked = {o.label for s in case.stages[:index + 1] for q in s.questions for o in q.options}
    for entry in stage.differential:
        assert entry.reason not in text, f"stage {index + 1}: expert reason shown before commit: {entry.reason[:60]!r}"
        name = label(entry.diagnosis)
        if name not in asked and entry.diagnosis not in mine:
            assert name not in text, f"stage {index + 1}: expert-only entry {name!r} shown before commit"
    if stage.problem_representation:
        assert stage.problem_representation.summary not in text
    assert "beside an expert" not in text


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_every_case_with_a_pad_at_every_stage(case_id, database):
    case = CASES[case_id]
    at = fresh_app(case=case.id, learner="Ada")
    total = len(case.stages)
    shown_ids: list[str] = []
    for index, stage in enumerate(case.stages):
        number = index + 1
        multiselect = widget(at.multiselect, f"-pad-{number}")
        if index:  # the previous stage's pad carries over for revision
            assert multiselect.value == pad_for(case, index - 1)
        picks = pad_for(case, index)
        at = multiselect.set_value(picks).run()
        assert_no_exception(at)
        shown_ids += [f.id for f in stage.findings if f.id]
        at = widget(at.toggle, f"-pad-details-{number}").set_value(True).run()
        widget(at.multiselect, f"-pad-mnm-{number}").set_value([picks[-1]])
        if shown_ids:
            at = widget(at.selectbox, f"-pad-tie-target-{number}").set_value(picks[0]).run()
            widget(at.multiselect, f"-pad-supports-{number}-{picks[0]}").set_value([shown_ids[-1]])
        at = at.run()
        assert_no_expert_before_commit(case, index, page_text(at), picks)
        # The form's inputs (certainty, the one-liner) are sent with the commit, as in a browser.
        for question in stage.questions:
            if question.kind == "diagnosis":
                widget(at.radio, f"-{number}-{question.id}-certainty").set_value("high" if index else "low")
        oneliner = [t for t in at.text_input if t.key and t.key.endswith(f"-oneliner-{number}")]
        assert bool(oneliner) == (number in (1, total))
        if oneliner and stage.problem_representation:
            oneliner[0].set_value(" ".join(stage.problem_representation.qualifiers[:2]))
        at = answer_stage(at, case, index, lambda q: q.answer)
        assert_no_exception(at)
        text = page_text(at)
        if stage.differential:
            assert "Your differential beside an expert's" in text
            for entry in stage.differential:
                assert entry.reason in text
            expected = differential.compare(case, index, differential.pad_from_data(
                {"entries": [{"diagnosis": d, "must_not_miss": d == picks[-1]} for d in picks]}))
            assert f"**Differential score {expected.percent:g}%**" in text
            for missed in expected.missed:
                assert f"Not on your list: **{label(missed.diagnosis)}**" in text
        if stage.problem_representation:
            assert stage.problem_representation.summary in text and "☑" in text
        at = click(at, f"Continue to stage {number + 1}" if number < total else "See what the authors did")
        assert_no_exception(at)
    text = page_text(at)
    assert "How your differential moved" in text and "Certainty trace" in text
    eventual = label(case.reveal.diagnosis_id)
    assert f"**{eventual}** first entered your differential at stage" in text
    db = Store(database)
    record = db.attempts(learner_of(db, "Ada"))[0]
    stored = db.stage_reasoning(record.id)
    assert sorted(stored) == list(range(total))
    for i, stage in enumerate(case.stages):
        assert stored[i]["certainty"] == {q.id: "high" if i else "low" for q in stage.questions if q.kind == "diagnosis"}
    assert [differential.pad_from_data(stored[i]["pad"]).ids for i in range(total)] == [tuple(pad_for(case, i)) for i in range(total)]


def test_the_pad_is_optional_and_the_expert_list_still_follows_the_commit(database):
    case = CASES[sorted(CASES)[0]]
    at = fresh_app(case=case.id, learner="Bo")
    at = answer_stage(at, case, 0, lambda q: q.answer)
    assert_no_exception(at)
    text = page_text(at)
    assert "You kept no differential at this stage." in text
    assert all(e.reason in text for e in case.stages[0].differential)
    assert "Differential score" not in text
    db = Store(database)
    record = db.attempts(learner_of(db, "Bo"))[0]
    assert db.stage_reasoning(record.id)[0]["pad"] is None


def test_progress_shows_calibration_and_where_the_diagnosis_entered(database):
    from apptest_support import page_app
    from quiz.play import progress

    case = CASES["chronic-back-pain-gait-disturbance"]
    test_every_case_with_a_pad_at_every_stage(case.id, database)
    at = page_app("dashboard", learner="Ada")
    assert_no_exception(at)
    text = page_text(at)
    assert "Calibration" in text and "Where the right diagnosis entered your differential" in text
    # Stage 1 low certainty, later stages high, every answer best: under-confident overall.
    assert "under-confident" in text
    assert at.dataframe[0].value is not None
    db = Store(database)
    learner = learner_of(db, "Ada")
    frame = progress.with_reasoning(progress.history_frame(db.answer_history(learner), CASES),
                                    db.reasoning_history(learner), CATALOGUE)
    csv = progress.to_csv(frame)
    header = csv.splitlines()[0].split(",")
    for column in ("certainty", "differential", "leading", "must_not_miss", "problem_representation"):
        assert column in header, column
    assert " > ".join(label(d) for d in pad_for(case, 0)) in csv


def test_flags_and_findings_tied_to_each_entry_in_turn_are_all_kept_with_the_commit(database):
    """One entry's finding widgets are drawn at a time, and none once folded: all must still be committed."""
    case = CASES[sorted(CASES)[0]]
    stage = case.stages[0]
    at = fresh_app(case=case.id, learner="Ada")
    picks = pad_for(case, 0)[:2]
    found = [f.id for f in stage.findings if f.id]
    at = widget(at.multiselect, "-pad-1").set_value(picks).run()
    assert not [w for w in at.multiselect if w.key and w.key.endswith("-pad-mnm-1")]  # asked for, not drawn
    at = widget(at.toggle, "-pad-details-1").set_value(True).run()
    at = widget(at.multiselect, "-pad-mnm-1").set_value([picks[1]]).run()
    at = widget(at.selectbox, "-pad-tie-target-1").set_value(picks[0]).run()
    at = widget(at.multiselect, f"-pad-supports-1-{picks[0]}").set_value([found[0]]).run()
    at = widget(at.selectbox, "-pad-tie-target-1").set_value(picks[1]).run()
    assert not [w for w in at.multiselect if w.key and w.key.endswith(f"-pad-supports-1-{picks[0]}")]
    at = widget(at.multiselect, f"-pad-against-1-{picks[1]}").set_value([found[-1]]).run()
    at = widget(at.selectbox, "-pad-tie-target-1").set_value(picks[0]).run()
    assert widget(at.multiselect, f"-pad-supports-1-{picks[0]}").value == [found[0]]  # shown again as left
    at = widget(at.toggle, "-pad-details-1").set_value(False).run()  # folded away: the choices stay
    assert "(3 set)" in widget(at.toggle, "-pad-details-1").label
    at = answer_stage(at, case, 0, lambda q: q.answer)
    assert_no_exception(at)
    db = Store(database)
    kept = differential.pad_from_data(db.stage_reasoning(db.attempts(learner_of(db, "Ada"))[0].id)[0]["pad"])
    first, second = kept.entries
    assert (first.diagnosis, first.supports, first.against, first.must_not_miss) == (picks[0], (found[0],), (), False)
    assert (second.diagnosis, second.supports, second.against, second.must_not_miss) == (picks[1], (), (found[-1],), True)


def test_the_findings_picker_shows_each_finding_s_words_not_its_markdown():
    from quiz.ui.pad import finding_text
    from quiz.ui.text import unformatted

    texts = [finding_text(f) for case in CASES.values() for stage in case.stages for f in stage.findings]
    assert any("**" in f.text for case in CASES.values() for s in case.stages for f in s.findings)
    assert not [t for t in texts if "**" in t or "\n" in t or len(t) > 90]
    assert unformatted("**CD117**-negative, *KIT* and x * y, snake_case") == "CD117-negative, KIT and x * y, snake_case"


def stage_pad_keys(at, number):
    """The session's keys of stage ``number``'s pad (``play-<case>-<record>-pad-[<part>-]<number>[-<entry>]``)."""
    import re

    return [k for k in at.session_state._state._state.filtered_state
            if re.search(rf"-pad-(?:[a-z]+(?:-[a-z]+)?-)?{number}(?:-|$)", k)]


def test_a_stage_moved_past_leaves_nothing_of_its_pad_in_the_session(database):
    """Streamlit walks the whole session for each radio and selectbox it draws: what each stage left there
    would slow every later one. The next stage's pad still starts from the committed one, flags and ties kept."""
    case = max(CASES.values(), key=lambda c: len(c.stages))
    at = fresh_app(case=case.id, learner="Ada")
    picks = pad_for(case, 0)[:2]
    found = next(f.id for f in case.stages[0].findings if f.id)
    at = widget(at.multiselect, "-pad-1").set_value(picks).run()
    at = widget(at.toggle, "-pad-details-1").set_value(True).run()
    at = widget(at.multiselect, "-pad-mnm-1").set_value([picks[1]]).run()
    at = widget(at.multiselect, f"-pad-supports-1-{picks[0]}").set_value([found]).run()
    sizes = []
    for index in range(3):
        number = index + 1
        at = answer_stage(at, case, index, lambda q: q.answer)
        # stage 1's pad was a visitor's (no record yet): the commit made the record and left nothing of it
        assert bool(stage_pad_keys(at, number)) == (number > 1), stage_pad_keys(at, number)
        at = click(at, f"Continue to stage {number + 1}")
        assert_no_exception(at)
        keys = list(at.session_state._state._state.filtered_state)
        assert not stage_pad_keys(at, number), keys
        sizes.append(len(keys))
        assert widget(at.multiselect, f"-pad-{number + 1}").value == picks
    assert sizes[-1] <= sizes[0] + 1, sizes  # bounded, not growing by a dozen keys a stage
    at = widget(at.toggle, "-pad-details-4").set_value(True).run()
    assert widget(at.multiselect, "-pad-mnm-4").value == [picks[1]]
    assert widget(at.multiselect, f"-pad-supports-4-{picks[0]}").value == [found]
