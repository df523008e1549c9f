import math

import pytest

from sphereface_lib.maths.schedules import step_decay, warmup_cosine


def test_step_decay_is_the_official_solver():
    milestones = (16_000, 24_000)
    assert step_decay(0, 0.1, milestones) == 0.1
    assert step_decay(15_999, 0.1, milestones) == 0.1
    assert step_decay(16_000, 0.1, milestones) == pytest.approx(0.01)
    assert step_decay(24_000, 0.1, milestones) == pytest.approx(0.001)
    assert step_decay(27_999, 0.1, milestones) == pytest.approx(0.001)


def test_warmup_cosine_rises_then_decays_to_zero():
    rates = [warmup_cosine(step, 100, 1.0, 10) for step in range(101)]
    assert rates[0] == pytest.approx(0.1)
    assert rates[10] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(rates[:10], rates[1:11], strict=True))
    assert all(a >= b for a, b in zip(rates[10:], rates[11:], strict=False))
    assert rates[55] == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert rates[100] == pytest.approx(0.0)
