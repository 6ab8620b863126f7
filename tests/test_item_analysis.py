"""Item statistics on hand-made answer sets whose values are worked out by hand below.

The main set: 10 learners R1..R10, 6 questions Q1..Q6, key A everywhere, one point each.
``MATRIX`` gives each learner's chosen option per question (A = the key):

    learner  Q1 Q2 Q3 Q4 Q5 Q6   total
    R1       A  C  B  A  A  A    4
    R2       A  C  B  A  A  A    4
    R3       A  D  A  A  A  B    4
    R4       A  A  C  A  B  C    3
    R5       A  B  A  A  B  B    3
    R6       A  A  D  A  C  B    3
    R7       B  C  A  A  A  D    3
    R8       B  A  C  A  B  B    2
    R9       C  A  D  A  D  C    2
    R10      D  A  B  A  B  D    2

27% of 10 is 2.7, so each group has 3: the upper group is R1, R2, R3 (total 4; the 4th learner
has 3) and the lower group R8, R9, R10 (total 2; the 7th has 3). No tie straddles an edge.
"""
from __future__ import annotations

import io
import math
import random

import pandas as pd
import pytest

import factories
from quiz.play import item_analysis as ia
from quiz.play.item_analysis import ItemKey, Response

MATRIX = {
    "R1": "ACBAAA", "R2": "ACBAAA", "R3": "ADAAAB", "R4": "AACABC", "R5": "ABAABB",
    "R6": "AADACB", "R7": "BCAAAD", "R8": "BACABB", "R9": "CADADC", "R10": "DABABD",
}
QUESTIONS = [f"Q{i}" for i in range(1, 7)]
ITEMS = [ItemKey(q, "A", ("A", "B", "C", "D"), f"Prompt {q}", 1, {o: f"Option {o}" for o in "ABCD"})
         for q in QUESTIONS]


def responses(matrix=MATRIX) -> list[Response]:
    return [Response(who, q, choice, 1.0 if choice == "A" else 0.0, choice == "A")
            for who, row in matrix.items() for q, choice in zip(QUESTIONS, row)]


@pytest.fixture(scope="module")
def report() -> ia.Report:
    return ia.analyse(responses(), ITEMS)


def stats(report, question) -> ia.ItemStats:
    return next(s for s in report.items if s.question == question)


def option(item, option_id) -> ia.OptionStats:
    return next(o for o in item.options if o.option == option_id)


def test_totals_and_groups_as_stated():
    totals = {who: float(row.count("A")) for who, row in MATRIX.items()}
    assert totals == {"R1": 4, "R2": 4, "R3": 4, "R4": 3, "R5": 3, "R6": 3, "R7": 3, "R8": 2, "R9": 2, "R10": 2}
    assert ia.group_size(10) == 3
    assert ia.extreme_group(totals, 3, top=True) == {"R1": 1.0, "R2": 1.0, "R3": 1.0}
    assert ia.extreme_group(totals, 3, top=False) == {"R8": 1.0, "R9": 1.0, "R10": 1.0}


def test_q1_a_sound_item(report):
    q1 = stats(report, "Q1")
    # Key chosen by R1-R6: p = 6/10. Upper 3/3, lower 0/3: D = 1.
    assert (q1.n, q1.difficulty, q1.upper_correct, q1.lower_correct, q1.discrimination) == (10, 0.6, 1.0, 0.0, 1.0)
    # Rest scores (total minus Q1): R1-R3 3, R4-R6 2, R7 3, R8-R10 2.
    # M1 = (3+3+3+2+2+2)/6 = 2.5, M0 = (3+2+2+2)/4 = 2.25; s = sqrt(0.24) (four 3s, six 2s), sqrt(pq) = sqrt(0.24):
    # r = (M1 - M0) / s * sqrt(pq) = 0.25.
    assert q1.point_biserial == pytest.approx(0.25)
    # Distractors: B by R7, R8; C by R9; D by R10, all three in the lower group but R7.
    assert [(o.option, o.chosen, o.rate) for o in q1.options] == [("A", 6, 0.6), ("B", 2, 0.2), ("C", 1, 0.1),
                                                                    ("D", 1, 0.1)]
    assert [o.upper_rate for o in q1.options] == [1.0, 0.0, 0.0, 0.0]
    assert [o.lower_rate for o in q1.options] == pytest.approx([0.0, 1 / 3, 1 / 3, 1 / 3])
    assert [o.is_key for o in q1.options] == [True, False, False, False]
    assert q1.flags == ()


def test_q2_negative_discrimination_is_flagged(report):
    q2 = stats(report, "Q2")
    # Key chosen by R4, R6, R8, R9, R10: p = 0.5; upper 0/3, lower 3/3: D = -1.
    assert (q2.difficulty, q2.upper_correct, q2.lower_correct, q2.discrimination) == (0.5, 0.0, 1.0, -1.0)
    # Rest scores: R1-R3 4, R4 2, R5 3, R6 2, R7 3, R8-R10 1. M1 = 7/5, M0 = 18/5, mean 2.5,
    # variance (3*1.5^2 + 2*0.5^2 + 2*0.5^2 + 3*1.5^2)/10 = 1.45, sqrt(pq) = 0.5: r = -2.2 * 0.5 / sqrt(1.45).
    assert q2.point_biserial == pytest.approx(-1.1 / math.sqrt(1.45))
    codes = [f.code for f in q2.flags]
    assert codes[0] == ia.NEGATIVE_D
    # The upper group chose C (R1, R2) and D (R3): both beat the key's 0 there.
    assert codes.count(ia.DISTRACTOR_BEATS_KEY) == 2
    assert "'Option C' (67%)" in q2.flags[1].message and "'Option D' (33%)" in q2.flags[2].message


def test_q3_a_distractor_the_top_group_prefers(report):
    q3 = stats(report, "Q3")
    # Key chosen by R3, R5, R7: p = 0.3; upper 1/3 (R3), lower 0/3: D = +1/3, not negative.
    assert q3.difficulty == 0.3
    assert q3.discrimination == pytest.approx(1 / 3)
    # B: R1, R2 (upper) and R10: 2/3 of the upper group against the key's 1/3.
    assert option(q3, "B").chosen == 3 and option(q3, "B").upper_rate == pytest.approx(2 / 3)
    assert [f.code for f in q3.flags] == [ia.DISTRACTOR_BEATS_KEY]
    assert "Option B" in q3.flags[0].message


def test_q4_everyone_right_has_no_correlation(report):
    q4 = stats(report, "Q4")
    assert (q4.difficulty, q4.discrimination, q4.point_biserial) == (1.0, 0.0, None)
    assert [o.rate for o in q4.options] == [1.0, 0.0, 0.0, 0.0]
    assert q4.flags == ()


def test_q5_and_q6(report):
    q5, q6 = stats(report, "Q5"), stats(report, "Q6")
    # Q5 key: R1, R2, R3, R7: p = 0.4, upper 3/3, lower 0/3. Q6 key: R1, R2: p = 0.2, upper 2/3, lower 0.
    assert (q5.difficulty, q5.discrimination) == (0.4, 1.0)
    assert q6.difficulty == 0.2 and q6.discrimination == pytest.approx(2 / 3)
    assert q5.flags == q6.flags == ()
    assert (report.respondents, report.complete) == (10, 10)


def test_row_order_does_not_matter(report):
    rows = responses()
    random.Random(7).shuffle(rows)
    assert ia.analyse(rows, ITEMS) == report


def test_ties_at_the_edge_share_the_last_place():
    # Totals 5,4,3,3,2,2,2,1,1,0 over 10: group 3. Upper: 5, 4 and the two 3s at weight 1/2 each.
    totals = dict(zip("abcdefghij", [5, 4, 3, 3, 2, 2, 2, 1, 1, 0]))
    assert ia.extreme_group(totals, 3, top=True) == {"a": 1, "b": 1, "c": 0.5, "d": 0.5}
    # Lower: 0, the two 1s: exactly 3, no tie across the edge.
    assert ia.extreme_group(totals, 3, top=False) == {"j": 1, "h": 1, "i": 1}
    # Everyone tied: both groups are everyone at weight 3/10, so D = 0.
    assert ia.extreme_group(dict.fromkeys("abcdefghij", 1.0), 3, top=True) == dict.fromkeys("abcdefghij", 0.3)


def test_tied_edge_enters_the_index_with_its_weight():
    # One question X plus filler F decides the totals. Respondents a..j; X correct for a, c, h.
    # Filler credit makes totals 5,4,3,3,2,2,2,1,1,0 once X is added.
    x_right = set("ach")
    target = dict(zip("abcdefghij", [5, 4, 3, 3, 2, 2, 2, 1, 1, 0]))
    rows = []
    for who, total in target.items():
        x = 1.0 if who in x_right else 0.0
        rows.append(Response(who, "X", "A" if x else "B", x, bool(x)))
        rows.append(Response(who, "F", "A", total - x, total - x == 1.0))
    report = ia.analyse(rows, [ItemKey("X", "A", ("A", "B")), ItemKey("F", "A", ("A", "B"))], min_n=1)
    x = report.items[0]
    # Upper: a (1, right), b (1, wrong), c and d at 1/2 (c right, d wrong): (1 + 0.5) / 3 = 0.5.
    # Lower: h, i, j at 1 each (h right): 1/3. D = 0.5 - 1/3 = 1/6.
    assert x.upper_correct == pytest.approx(0.5)
    assert x.lower_correct == pytest.approx(1 / 3)
    assert x.discrimination == pytest.approx(1 / 6)


def test_too_few_respondents_is_the_only_flag():
    nine = {k: v for k, v in MATRIX.items() if k != "R10"}
    report = ia.analyse(responses(nine), ITEMS)
    q2 = stats(report, "Q2")
    assert q2.n == 9 and q2.discrimination is not None and q2.discrimination < 0
    assert [f.code for f in q2.flags] == [ia.TOO_FEW]
    assert "Only 9 respondents" in q2.flags[0].message
    assert not q2.flagged
    # 27% of 9 = 2.43: groups of 2.
    assert q2.group_size == 2


def test_partial_credit_counts_in_totals_not_in_difficulty():
    # Three respondents, two questions. P: key A (1), B earns 0.5. Totals: u = 1 + 1 = 2, v = 0.5 + 1 = 1.5, w = 0.
    rows = [Response("u", "P", "A", 1.0, True), Response("u", "S", "A", 1.0, True),
            Response("v", "P", "B", 0.5, False), Response("v", "S", "A", 1.0, True),
            Response("w", "P", "C", 0.0, False), Response("w", "S", "B", 0.0, False)]
    report = ia.analyse(rows, [ItemKey("P", "A", ("A", "B", "C")), ItemKey("S", "A", ("A", "B"))], min_n=1)
    p = report.items[0]
    assert p.difficulty == pytest.approx(1 / 3)  # only u chose the key
    assert p.mean_credit == pytest.approx(0.5)  # (1 + 0.5 + 0) / 3
    # Group of 1 (27% of 3 = 0.81 -> 1): upper u, lower w. D = 1 - 0 = 1.
    assert (p.group_size, p.discrimination) == (1, 1.0)


def test_certainty_when_given():
    # a and c are sure (1.0), b half sure, d gave none: mean (1 + 0.5 + 1) / 3; right (1 + 0.5) / 2; wrong 1.
    rows = [Response("a", "Q", "A", 1, True, 1.0), Response("b", "Q", "A", 1, True, 0.5),
            Response("c", "Q", "B", 0, False, 1.0), Response("d", "Q", "B", 0, False)]
    q = ia.analyse(rows, [ItemKey("Q", "A", ("A", "B"))], min_n=1).items[0]
    assert q.certainty_n == 3
    assert q.certainty_mean == pytest.approx(2.5 / 3)
    assert q.certainty_correct == pytest.approx(0.75)
    assert q.certainty_wrong == 1.0
    without = ia.analyse([Response("a", "Q", "A", 1, True)], [ItemKey("Q", "A", ("A", "B"))]).items[0]
    assert (without.certainty_n, without.certainty_mean) == (0, None)


def test_keys_from_the_answers_when_no_content_is_given(report):
    derived = ia.analyse(responses())
    assert [s.question for s in derived.items] == QUESTIONS
    assert [s.difficulty for s in derived.items] == [s.difficulty for s in report.items]
    assert [s.discrimination for s in derived.items] == [s.discrimination for s in report.items]


def test_two_answers_to_one_question_are_refused():
    rows = [Response("a", "Q", "A", 1, True), Response("a", "Q", "B", 0, False)]
    with pytest.raises(ValueError, match="two answers to 'Q'"):
        ia.analyse(rows)


def test_unanswered_item_and_unused_option():
    report = ia.analyse(responses(), ITEMS + [ItemKey("Q7", "A", ("A", "B"))])
    q7 = report.items[-1]
    assert (q7.n, q7.difficulty, q7.discrimination, q7.point_biserial) == (0, None, None, None)
    assert [f.code for f in q7.flags] == [ia.TOO_FEW]
    assert report.complete == 0  # nobody answered all seven


def test_tables_and_csv(report):
    items = ia.items_frame(report)
    assert list(items["question"]) == QUESTIONS
    assert items.loc[1, "discrimination"] == -1.0
    assert "Negative discrimination" in items.loc[1, "flags"] and items.loc[0, "flags"] == ""
    options = ia.options_frame(report)
    assert len(options) == 24 and options["is_key"].sum() == 6
    back = pd.read_csv(io.StringIO(ia.report_csv(report, scope="test set")))
    assert len(back) == 24 and set(back["scope"]) == {"test set"}
    row = back[(back["question"] == "Q3") & (back["option"] == "B")].iloc[0]
    assert (row["chosen"], row["difficulty"], row["upper_rate"]) == (3, 0.3, pytest.approx(0.6667, abs=1e-4))
    assert "distractor" not in row["label"] and row["label"] == "Option B"


def test_csv_does_not_run_formulas():
    items = [ItemKey("Q", "A", ("A", "B"), "=HYPERLINK(1)", 1, {"A": "+A", "B": "B"})]
    text = ia.report_csv(ia.analyse([Response("a", "Q", "A", 1, True)], items))
    assert "'=HYPERLINK(1)" in text and "'+A" in text


def test_compare_analyses_each_group_alone():
    everyone = responses()
    upper = [r for r in everyone if r.respondent in ("R1", "R2", "R3")]
    frame = ia.compare({"all": everyone, "top three": upper}, ITEMS)
    assert list(frame["group"].unique()) == ["all", "top three"]
    top = frame[frame["group"] == "top three"].set_index("question")
    assert top.loc["Q1", "difficulty"] == 1.0 and top.loc["Q1", "n"] == 3
    assert frame[(frame["group"] == "all") & (frame["question"] == "Q2")]["flagged"].item()


def test_grade_uses_the_real_case_and_drops_answers_it_cannot_score():
    case = factories.load_case()
    items = ia.items_of(case)
    assert [i.question for i in items] == [q.id for stage in case.stages for q in stage.questions]
    assert items[0].key == "soft-tissue-sarcoma" and items[0].stage == 1 and items[-1].stage == len(case.stages)
    assert items[-1].label("amputation") == "Amputation"
    graded = ia.grade(case, [("a", "s1-diagnosis", "schwannoma", None), ("a", "s1-next-step", "mri", "high"),
                             ("a", "gone-question", "mri", None), ("a", "s2-diagnosis", "no-such-option", None),
                             ("b", "s1-diagnosis", "lipoma", "80"), ("c", "s1-diagnosis", "lipoma", "unsure"), ("d", "s1-diagnosis", "lipoma", "62.5")])
    assert graded == [Response("a", "s1-diagnosis", "schwannoma", 0.5, False),
                      Response("a", "s1-next-step", "mri", 1.0, True, 1.0),
                      Response("b", "s1-diagnosis", "lipoma", 0.0, False, 0.8),
                      Response("c", "s1-diagnosis", "lipoma", 0.0, False, None),
                      Response("d", "s1-diagnosis", "lipoma", 0.0, False, 0.625)]


def test_the_documented_thresholds_are_the_codes():
    from conftest import REPO

    doc = (REPO / "docs" / "item-analysis.md").read_text(encoding="utf-8")
    assert f"**n ≥ {ia.MIN_N}**" in doc and f"⌊{ia.GROUP_SHARE} · *n* + ½⌋" in doc
    assert "(docs/item-analysis.md)" in (REPO / "README.md").read_text(encoding="utf-8")
