"""Certainty and calibration on hand-made answers with known results, and the problem-representation match."""
from __future__ import annotations

import pytest

from quiz.play import calibration as cal
from quiz.play.calibration import CertaintyError, Judgement


@pytest.mark.parametrize("certainty, p", [("low", 0.33), ("Moderate", 0.67), (" high ", 1.0), (0, 0.0), (70, 0.7), (100, 1.0)])
def test_certainty_as_a_probability(certainty, p):
    assert cal.probability(certainty) == pytest.approx(p)


@pytest.mark.parametrize("bad", ["sure", "", -1, 101, True, 150.5])
def test_certainty_refused_with_a_reason(bad):
    with pytest.raises(CertaintyError, match="Certainty must be"):
        cal.probability(bad)


@pytest.mark.parametrize("certainty, level", [(0, "low"), (49, "low"), (50, "moderate"), (83, "moderate"),
                                              (84, "high"), (100, "high"), ("LOW", "low"), ("moderate", "moderate")])
def test_numbers_fall_in_levels_at_the_midpoints(certainty, level):
    assert cal.level(certainty) == level


def test_calibration_of_a_hand_made_set_of_answers():
    answers = [Judgement("high", 1), Judgement("high", 0), Judgement("moderate", 1), Judgement("low", 0), Judgement("low", 1)]
    result = cal.calibration(answers)
    # certainty 1, 1, .67, .33, .33 -> mean 3.33 / 5 = .666; credit 1, 0, 1, 0, 1 -> accuracy .6
    assert result.answers == 5
    assert result.mean_certainty == pytest.approx(0.666)
    assert result.accuracy == pytest.approx(0.6)
    assert result.overconfidence == pytest.approx(0.066)
    assert result.verdict == "over-confident"
    # Brier: (0^2 + 1^2 + .33^2 + .33^2 + .67^2) / 5 = (1 + .1089 + .1089 + .4489) / 5
    assert result.brier == pytest.approx(1.6667 / 5)
    assert result.by_level == (
        cal.LevelRow("low", 2, pytest.approx(0.33), 0.5),
        cal.LevelRow("moderate", 1, pytest.approx(0.67), 1.0),
        cal.LevelRow("high", 2, 1.0, 0.5),
    )


def test_calibration_with_numbers_and_partial_credit():
    result = cal.calibration([Judgement(80, 1), Judgement(40, 0)])
    assert result.brier == pytest.approx((0.2 ** 2 + 0.4 ** 2) / 2)  # 0.1
    assert result.overconfidence == pytest.approx(0.6 - 0.5)
    assert [(row.level, row.answers) for row in result.by_level] == [("low", 1), ("moderate", 1)]
    partial = cal.calibration([Judgement("moderate", 0.5)])
    assert partial.brier == pytest.approx((0.67 - 0.5) ** 2) and partial.accuracy == 0.5


def test_under_confidence_and_good_calibration():
    assert cal.calibration([Judgement("low", 1), Judgement("low", 1)]).overconfidence == pytest.approx(0.33 - 1)
    assert cal.calibration([Judgement("low", 1), Judgement("low", 1)]).verdict == "under-confident"
    assert cal.calibration([Judgement(67, 1), Judgement(67, 0), Judgement(67, 1)]).verdict == "well calibrated"
    assert cal.calibration([Judgement(60, 1), Judgement(60, 0), Judgement(60, 1)]).verdict == "under-confident"  # .6 - .667
    perfect = cal.calibration([Judgement(100, 1), Judgement(0, 0)])
    assert perfect.brier == 0 and perfect.overconfidence == pytest.approx(-0.5 + 0.5)


def test_no_answers_yet():
    result = cal.calibration([])
    assert (result.answers, result.mean_certainty, result.accuracy, result.brier, result.by_level) == (0, None, None, None, ())
    assert result.verdict == "no answers with a certainty yet"


def test_certainty_trace_in_stage_order():
    trace = cal.certainty_trace([Judgement("high", 0, "c", 2), Judgement(40, 1, "c", 0), Judgement("moderate", 0.5, "c", 1)])
    assert trace == [(0, 0.4, 1), (1, 0.67, 0.5), (2, 1.0, 0)]


# --- the problem representation -------------------------------------------------------------

QUALIFIERS = ["subacute", "cervical", "no fever", "prior leiomyosarcoma", "5 months", "keratin negative", "progressive"]


def used(summary: str, qualifiers=QUALIFIERS) -> dict[str, str | None]:
    return {m.qualifier: m.matched for m in cal.match_qualifiers(summary, qualifiers).matches if m.used}


def test_qualifiers_matched_literally_and_through_synonyms():
    found = used("45-year-old man, known thigh leiomyosarcoma, five-month history of worsening NECK pain; afebrile; "
                 "negative for keratin.")
    assert found == {
        "cervical": "neck",  # synonym, case folded
        "no fever": "afebrile",
        "prior leiomyosarcoma": "known leiomyosarcoma",  # "prior" as "known", one extra word allowed inside
        "5 months": "5 month",  # number word and plural folded
        "keratin negative": "no keratin",  # "negative for keratin": the trailing word may lead
        "progressive": "worsening",
    }
    result = cal.match_qualifiers("Subacute, progressive cervical pain without fever", QUALIFIERS)
    assert [m.used for m in result.matches] == [True, True, True, False, False, False, True]
    assert result.used == 4 and result.share == pytest.approx(4 / 7)


def test_what_does_not_count_as_using_a_qualifier():
    # "fever" alone, a negation of something else, words out of order or too far apart
    assert used("fever but no cough") == {}
    assert used("a prior operation on the thigh for a leiomyosarcoma") == {}
    assert used("leiomyosarcoma, prior") == {}
    assert used("keratin stain positive") == {}
    assert cal.match_qualifiers("anything", []).share == 0.0


def test_accents_and_british_spellings_fold():
    assert used("Tumour of the neck, fièvre absent", ["tumor", "cervical"]) == {"tumor": "tumor", "cervical": "neck"}
    assert used("paraesthesia of the hand", ["numbness"]) == {"numbness": "paresthesia"}
    assert used("grade III", ["grade 3"]) == {"grade 3": "grade 3"}


def test_every_seed_problem_representation_uses_its_own_qualifiers(cases):
    """An author's one-liner is the model answer: it must tick every qualifier it lists."""
    seen = 0
    for case in cases.values():
        for stage in case.stages:
            rep = stage.problem_representation
            if rep:
                seen += 1
                result = cal.match_qualifiers(rep.summary, rep.qualifiers)
                assert [m.qualifier for m in result.matches if not m.used] == [], (case.id, stage.id)
    assert seen >= 10
