"""What the visible tests say about each node: value summaries, spectrum signals, and values of the
runnable parts of a program that cannot run."""

from __future__ import annotations

import numpy as np
import pytest

from progrefine_env.feedback import PASSED, VALUE_FEATURES, WRONG, run_tests, summarize
from progrefine_env.lang import parse
from progrefine_env.tasks.task import Test

X = {"x": "list"}


def feedback(text: str, tests: list[tuple[list[int], object]]):
    return run_tests(parse(text), X, tuple(Test({"x": x}, out) for x, out in tests))


def test_list_summary_layout():
    row = summarize([3, -12, 2, 40], [3, -12, 2, 40])
    assert row.shape == (VALUE_FEATURES,)
    expected = [1, 0, 0, 1, 0.4, 0.33, 0.3, -1.0, 0.2, 1.0, -1.0, 1.0, 0, 1]
    assert np.allclose(row, expected)


@pytest.mark.parametrize(
    ("value", "flags", "scalar", "wide"),
    [(7, (1, 0, 0), 0.7, 0.07), (-150, (1, 0, 0), -1.0, -1.0), (True, (0, 1, 0), 1.0, 1.0), ([], (0, 0, 1), 0, 0)],
)
def test_scalar_summaries(value, flags, scalar, wide):
    row = summarize(value, None)
    assert tuple(row[1:4]) == flags and row[0] == 1
    assert row[4] == pytest.approx(scalar) and row[5] == pytest.approx(wide)
    assert row[-1] == 0  # differs from the expected output


def test_ints_past_ten_stay_distinct_in_the_wide_feature():
    a, b = summarize(12, 12), summarize(15, 15)
    assert a[4] == b[4] == 1.0
    assert a[5] != b[5]


def test_sorted_flag():
    assert summarize([1, 1, 4], None)[12] == 1
    assert summarize([2, 1], None)[12] == 0
    assert summarize([], None)[12] == 1


def test_errors_and_unevaluated_values_summarise_to_zeros():
    assert not summarize(None, 1).any()


def test_spectrum_counts_follow_which_tests_reach_a_node():
    # (if (> (len x) 1) (take 1 x) (reverse x)) with a bug in the `take` branch (1 should be 2).
    fb = feedback("(if (> (len x) 1) (take 1 x) (reverse x))", [([1, 2, 3], [1, 2]), ([5], [5]), ([4, 6], [4, 6])])
    assert list(fb.outcomes) == [WRONG, PASSED, WRONG]
    take, rev = 5, 8  # pre-order: if > len x 1 take 1 x reverse x
    assert fb.reached_failing[take] == 2 and fb.reached_passing[take] == 0
    assert fb.reached_failing[rev] == 0 and fb.reached_passing[rev] == 1
    assert fb.reached_failing[0] == 2 and fb.reached_passing[0] == 1
    assert fb.ochiai[take] > fb.ochiai[0] > fb.ochiai[rev] == 0


def test_node_values_are_the_first_value_each_node_took():
    fb = feedback("(map (lam (+ a 1)) x)", [([4, 9], [5, 10]), ([], [])])
    plus = 2  # map, lam, +, a, 1, x in pre-order
    assert fb.node_values[plus, 0, 4] == pytest.approx(0.5)  # 4 + 1, the first call
    assert not fb.node_values[plus, 1].any()  # never called on the empty list
    assert fb.node_values[0, 0, -1] == 1 and fb.node_values[0, 1, -1] == 1  # the output, equal to the expected


def test_a_program_with_holes_gets_values_from_its_runnable_subtrees_and_blames_its_holes():
    fb = feedback("(<mask> (sort x))", [([3, 1], [1]), ([2], [2])])
    assert (fb.outcomes > WRONG).all()  # cannot run: every test errs with `incomplete`
    assert fb.node_values[1, 0, 6] == pytest.approx(0.1)  # (sort x) ran: its head is 1
    assert not fb.node_values[0].any()
    assert fb.reached_failing[0] == 2 and fb.reached_failing[1] == 0
