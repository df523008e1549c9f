"""The verdict rule of the Claims page: numbers in, verdict out."""

import math

import pytest

from sphereface_lib.analysis.claims import (
    IN_TREND,
    NOT_REPRODUCED,
    REPRODUCED,
    Claim,
    comparison_verdict,
    describe,
    difference,
    no_cost_verdict,
    rising_verdict,
)


def test_the_difference_and_its_welch_standard_error():
    result = difference([0.90, 0.92, 0.94], [0.80, 0.81, 0.82])
    assert result.difference == pytest.approx(0.11)
    # Sample variances 4e-4 and 1e-4 over three seeds each.
    assert result.standard_error == pytest.approx(math.sqrt(4e-4 / 3 + 1e-4 / 3))
    assert result.seeds == (3, 3)
    assert result.z == pytest.approx(0.11 / result.standard_error)


def test_a_clear_win_is_reproduced_and_a_quantitative_one_in_trend():
    better, worse = [0.95, 0.96, 0.97], [0.90, 0.91, 0.92]
    assert comparison_verdict(better, worse) == REPRODUCED
    assert comparison_verdict(better, worse, quantitative=True) == IN_TREND


def test_a_win_within_two_standard_errors_is_not_evidence():
    better, worse = [0.95, 0.90, 0.99], [0.93, 0.91, 0.94]  # d = 0.02, se ~ 0.027
    assert not difference(better, worse).clears()
    assert comparison_verdict(better, worse) == NOT_REPRODUCED


def test_the_other_direction_is_not_reproduced():
    assert comparison_verdict([0.80, 0.81, 0.82], [0.90, 0.91, 0.92]) == NOT_REPRODUCED


def test_identical_seeds_count_as_a_clear_difference():
    result = difference([0.9, 0.9], [0.8, 0.8])
    assert result.standard_error == 0 and math.isinf(result.z)
    # A zero standard error cannot be exceeded by "more than two of them" strictly, but the
    # difference is certain: the rule treats it as clear.
    assert result.clears() is (result.difference > 0)


def test_one_seed_is_not_enough_for_a_verdict():
    with pytest.raises(ValueError, match="at least two seeds"):
        difference([0.9], [0.8, 0.7])


def test_rising_with_the_setting():
    rising = [[0.80, 0.81, 0.82], [0.84, 0.85, 0.86], [0.90, 0.91, 0.92]]
    assert rising_verdict(rising) == IN_TREND
    assert rising_verdict(rising, quantitative=False) == REPRODUCED
    flat = [[0.80, 0.81, 0.82], [0.80, 0.82, 0.81], [0.81, 0.80, 0.82]]
    assert rising_verdict(flat) == NOT_REPRODUCED
    dip = [[0.80, 0.81, 0.82], [0.70, 0.71, 0.72], [0.90, 0.91, 0.92]]
    assert rising_verdict(dip) == NOT_REPRODUCED  # a clear fall on the way up


def test_describe_says_the_size_and_the_evidence():
    text = describe(difference([0.95, 0.96, 0.97], [0.90, 0.91, 0.92]))
    assert text.startswith("+5.00 points (") and "3 vs 3 seeds" in text


def test_a_claim_needs_a_known_verdict():
    with pytest.raises(ValueError, match="verdict must be one of"):
        Claim("x", "s", "Table 3", "e", "ev", "mostly true", "{doc}`x`")


def test_a_change_that_costs_nothing_is_reproduced_unless_it_clearly_costs():
    baseline = [0.90, 0.91, 0.92]
    assert no_cost_verdict([0.905, 0.91, 0.915], baseline) == REPRODUCED  # no cost detected
    assert no_cost_verdict([0.95, 0.96, 0.97], baseline, quantitative=True) == IN_TREND
    assert no_cost_verdict([0.80, 0.81, 0.82], baseline) == NOT_REPRODUCED  # a clear cost
