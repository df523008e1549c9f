import math

import pytest
import torch

from sphereface_lib.maths.margins import (
    annealed_lambda,
    check_margin,
    cos_m_theta,
    margin_interval,
    psi,
    psi_from_cos,
)
from tests.maths.oracle import psi_loop

MARGINS = [1, 2, 3, 4, 5]


@pytest.mark.parametrize("m", MARGINS)
def test_psi_matches_the_formula(m):
    theta = torch.linspace(0, math.pi, 1001, dtype=torch.float64)
    expected = torch.tensor([psi_loop(t, m) for t in theta.tolist()], dtype=torch.float64)
    torch.testing.assert_close(psi(theta, m), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("m", MARGINS)
def test_psi_is_monotonically_decreasing_and_continuous(m):
    theta = torch.linspace(0, math.pi, 200_001, dtype=torch.float64)
    values = psi(theta, m)
    steps = values[1:] - values[:-1]
    assert (steps <= 1e-15).all(), "psi must never increase"
    assert (steps[: len(steps) // 2] < 0).any()
    # Continuity: no jump larger than the steepest slope (m, as |d psi/d theta| <= m) allows.
    spacing = math.pi / 200_000
    assert steps.abs().max() <= m * spacing * (1 + 1e-6)
    assert values[0].item() == pytest.approx(1.0)
    assert values[-1].item() == pytest.approx(1 - 2 * m)


@pytest.mark.parametrize("m", MARGINS)
def test_psi_end_value_is_one_minus_two_m(m):
    assert psi(torch.tensor(math.pi, dtype=torch.float64), m).item() == pytest.approx(1 - 2 * m)
    cos_pi = torch.tensor(-1.0, dtype=torch.float64)
    assert psi_from_cos(cos_pi, m).item() == pytest.approx(1 - 2 * m)


@pytest.mark.parametrize("m", [*MARGINS, 7])
def test_chebyshev_form_equals_cos_m_theta(m):
    theta = torch.linspace(0, math.pi, 1001, dtype=torch.float64)
    torch.testing.assert_close(cos_m_theta(theta.cos(), m), torch.cos(m * theta))


@pytest.mark.parametrize("m", MARGINS)
def test_psi_from_cos_equals_psi_of_theta(m):
    theta = torch.linspace(0, math.pi, 10_001, dtype=torch.float64)
    torch.testing.assert_close(psi_from_cos(theta.cos(), m), psi(theta, m), rtol=0, atol=1e-9)


@pytest.mark.parametrize("m", MARGINS)
def test_margin_interval_is_floor_of_m_theta_over_pi(m):
    # Away from the interval edges, where rounding of cos may pick either neighbour.
    theta = torch.linspace(0, math.pi, 9_973, dtype=torch.float64)
    k = torch.floor(m * theta / math.pi)
    edge = (m * theta / math.pi - k.round()).abs() < 1e-9
    assert torch.equal(margin_interval(theta.cos(), m)[~edge], k[~edge])


@pytest.mark.parametrize("bad", [0, -1, 2.5, float("nan"), True, "4", None])
def test_check_margin_rejects_non_integers(bad):
    with pytest.raises(ValueError, match="margin must be an integer >= 1"):
        check_margin(bad)


def test_check_margin_accepts_integral_floats():
    assert check_margin(4.0) == 4


def test_psi_rejects_angles_outside_zero_pi():
    with pytest.raises(ValueError, match=r"\[0, pi\]"):
        psi(torch.tensor([4.0]), 4)


def test_annealed_lambda_follows_the_official_schedule():
    assert annealed_lambda(0) == 1000.0
    assert annealed_lambda(100) == pytest.approx(1000.0 / (1 + 0.12 * 100))
    assert annealed_lambda(10**6) == 5.0
    values = [annealed_lambda(iteration) for iteration in range(0, 5000, 7)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))
    # The floor is reached where 1000 / (1 + 0.12 t) = 5, i.e. t = 199 / 0.12 = 1658.3.
    assert annealed_lambda(1658) > 5.0
    assert annealed_lambda(1659) == 5.0


def test_annealed_lambda_with_other_parameters():
    assert annealed_lambda(10, base=10, gamma=1, power=2, lambda_min=0) == pytest.approx(10 / 121)


def test_annealed_lambda_rejects_negative_iterations():
    with pytest.raises(ValueError, match="iteration must be >= 0"):
        annealed_lambda(-1)
