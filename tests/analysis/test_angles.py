"""Angle statistics against hand-placed 2-D vectors and a naive float64 loop with math.acos."""

import math

import pytest
import torch

from sphereface_lib.analysis.angles import (
    angles_between_weights,
    angles_to_own_and_other_weights,
    angles_to_weights,
    angular_margins,
    arcface_boundary_angle,
    class_angles,
    cosface_boundary_angle,
    margin_boundary_angle,
    summarize_angles,
)
from tests.maths.oracle import psi_loop


def unit(degrees: float, length: float = 1.0) -> list[float]:
    return [length * math.cos(math.radians(degrees)), length * math.sin(math.radians(degrees))]


def naive_angle(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return math.acos(max(-1.0, min(1.0, dot / norms)))


def naive_quantile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's and torch's default)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def naive_class_angles(features, labels, weights, q):
    """Per class (intra, to_other_weight, between_weights) written out as loops."""
    x, w, y = features.double().tolist(), weights.double().tolist(), labels.tolist()
    result = []
    for c in range(len(w)):
        own = [naive_angle(x[i], w[c]) for i in range(len(x)) if y[i] == c]
        rivals = [
            min(naive_angle(x[i], w[j]) for j in range(len(w)) if j != c)
            for i in range(len(x))
            if y[i] == c
        ]
        between = min(naive_angle(w[c], w[j]) for j in range(len(w)) if j != c)
        if own:
            result.append((naive_quantile(own, q), naive_quantile(rivals, 1 - q), between))
        else:
            result.append((math.nan, math.nan, between))
    return result


# Three weights at 0, 90 and 200 degrees (lengths differ: only directions count) and features
# placed by hand, so every statistic can be read off the angles.
WEIGHTS = torch.tensor([unit(0, 2.0), unit(90, 0.5), unit(200, 3.0)], dtype=torch.float64)
FEATURES = torch.tensor(
    [unit(10, 4.0), unit(-20, 0.1), unit(80), unit(100, 7.0), unit(150), unit(210)],
    dtype=torch.float64,
)
LABELS = torch.tensor([0, 0, 1, 1, 1, 2])


def test_known_answer_in_two_dimensions():
    stats = class_angles(FEATURES, LABELS, WEIGHTS)
    expected_intra = [20.0, 60.0, 10.0]
    # Nearest rival weight: class 0 features at 10 and -20 see W_1 at 80 and 110 (W_2 at 170
    # and 140); class 1 features at 80, 100, 150 see W_0 at 80, 100, 150 and W_2 at 120, 100,
    # 50; the class 2 feature at 210 sees W_1 at 120 and W_0 at 150.
    expected_to_other = [80.0, 50.0, 120.0]
    expected_between = [90.0, 90.0, 110.0]
    for name, expected in [
        ("intra", expected_intra),
        ("to_other_weight", expected_to_other),
        ("between_weights", expected_between),
    ]:
        torch.testing.assert_close(
            torch.rad2deg(getattr(stats, name)),
            torch.tensor(expected, dtype=torch.float64),
            msg=name,
        )
    assert stats.counts.tolist() == [2, 3, 1]
    # intra <= between / 4: 20 <= 22.5 and 10 <= 27.5 hold, 60 <= 22.5 does not.
    assert stats.separated().tolist() == [True, False, True]


def test_known_margins_and_boundary():
    margins = torch.rad2deg(angular_margins(FEATURES, LABELS, WEIGHTS))
    expected = [70.0, 90.0, 70.0, 90.0, -10.0, 110.0]  # the feature at 150 is misclassified
    torch.testing.assert_close(margins, torch.tensor(expected, dtype=torch.float64))


@pytest.mark.parametrize("margin", [1, 2, 3, 4, 5])
def test_boundary_without_annealing_is_between_over_m_plus_one(margin):
    between = math.radians(36.0)
    assert margin_boundary_angle(between, margin) == pytest.approx(between / (margin + 1))
    # m = 1 has no margin whatever lambda: the boundary is the bisector.
    assert margin_boundary_angle(between, 1, lam=5.0) == pytest.approx(between / 2)


@pytest.mark.parametrize(("margin", "lam"), [(2, 5.0), (3, 2.2), (4, 5.0), (4, 20.0), (5, 0.5)])
def test_annealed_boundary_matches_a_grid_search(margin, lam):
    """The first angle on a fine grid where the annealed target no longer beats the rival."""
    between = math.radians(36.0)
    grid = [between / 2 * i / 200_000 for i in range(200_001)]
    first = next(
        theta
        for theta in grid
        if (lam * math.cos(theta) + psi_loop(theta, margin)) / (1 + lam)
        <= math.cos(between - theta)
    )
    assert margin_boundary_angle(between, margin, lam) == pytest.approx(first, abs=between / 2e5)


def test_annealing_moves_the_boundary_towards_the_bisector():
    between = math.radians(36.0)
    angles = [margin_boundary_angle(between, 4, lam) for lam in (0.0, 1.0, 5.0, 100.0)]
    assert angles == sorted(angles) and angles[-1] < between / 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [((1.0, 0), "margin must be an integer"), ((4.0, 2), "between must be"), ((1.0, 2, -1), "lam")],
)
def test_bad_boundary_arguments_are_value_errors(arguments, message):
    with pytest.raises(ValueError, match=message):
        margin_boundary_angle(*arguments)


def first_losing_angle(target, between, steps=200_000):
    """The first angle on a fine grid of [0, between / 2] where ``target(theta)`` no longer beats
    the rival's cos(between - theta) (the oracle of the additive-margin boundaries); None if the
    target loses from the start."""
    grid = [between / 2 * i / steps for i in range(steps + 1)]
    first = next(theta for theta in grid if target(theta) <= math.cos(between - theta))
    return None if first == 0 else first


@pytest.mark.parametrize(("degrees", "margin"), [(36, 0.06), (36, 0.2), (90, 0.35), (150, 0.9)])
def test_cosface_boundary_matches_a_grid_search(degrees, margin):
    between = math.radians(degrees)
    expected = first_losing_angle(lambda theta: math.cos(theta) - margin, between)
    assert cosface_boundary_angle(between, margin) == pytest.approx(expected, abs=between / 2e5)


@pytest.mark.parametrize(("degrees", "margin"), [(36, 0.06), (36, 0.2), (36, 0.5), (120, 1.0)])
def test_arcface_boundary_matches_a_grid_search(degrees, margin):
    between = math.radians(degrees)
    expected = first_losing_angle(lambda theta: math.cos(theta + margin), between)
    assert arcface_boundary_angle(between, margin) == pytest.approx(expected, abs=between / 2e5)


def test_additive_margins_known_answers():
    """Ten classes on a circle, 36 degrees apart: the numbers chapter 5 quotes."""
    between = math.radians(36)
    assert math.degrees(cosface_boundary_angle(between, 0.06)) == pytest.approx(12.43, abs=0.01)
    assert math.degrees(arcface_boundary_angle(between, 0.2)) == pytest.approx(12.27, abs=0.01)
    assert math.degrees(arcface_boundary_angle(between, 0.5)) == pytest.approx(3.68, abs=0.01)
    # CosFace's paper margin asks for more than two weights 36 degrees apart can give.
    assert cosface_boundary_angle(between, 0.35) is None
    assert arcface_boundary_angle(between, 0.7) is None
    # Without a margin both put the boundary on the bisector.
    assert cosface_boundary_angle(between, 0.0) == pytest.approx(between / 2)
    assert arcface_boundary_angle(between, 0.0) == pytest.approx(between / 2)


@pytest.mark.parametrize(
    ("function", "arguments", "message"),
    [
        (cosface_boundary_angle, (0.0, 0.1), "between must be"),
        (cosface_boundary_angle, (1.0, -0.1), "margin must be"),
        (arcface_boundary_angle, (4.0, 0.1), "between must be"),
        (arcface_boundary_angle, (1.0, 4.0), "margin must be"),
    ],
)
def test_bad_additive_boundary_arguments_are_value_errors(function, arguments, message):
    with pytest.raises(ValueError, match=message):
        function(*arguments)


@pytest.mark.parametrize("dim", [2, 3, 32])
@pytest.mark.parametrize("quantile", [1.0, 0.9, 0.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_the_naive_loop(dim, quantile, dtype):
    generator = torch.Generator().manual_seed(dim)
    weights = torch.randn(5, dim, generator=generator).to(dtype)
    features = torch.randn(60, dim, generator=generator).to(dtype) * 3
    labels = torch.randint(0, 4, (60,), generator=generator)  # class 4 has no features
    stats = class_angles(features, labels, weights, quantile)
    expected = torch.tensor(
        naive_class_angles(features, labels, weights, quantile), dtype=torch.float64
    )
    # Angles are computed in float64 whatever the input dtype; float32 inputs are exact in it.
    for column, name in enumerate(["intra", "to_other_weight", "between_weights"]):
        torch.testing.assert_close(
            getattr(stats, name), expected[:, column], atol=1e-9, rtol=0, equal_nan=True
        )
    assert math.isnan(stats.intra[4]) and stats.counts[4] == 0


def test_angle_matrices_match_the_naive_loop():
    generator = torch.Generator().manual_seed(7)
    weights = torch.randn(6, 4, generator=generator, dtype=torch.float64)
    features = torch.randn(20, 4, generator=generator, dtype=torch.float64)
    expected = torch.tensor(
        [[naive_angle(x, w) for w in weights.tolist()] for x in features.tolist()],
        dtype=torch.float64,
    )
    torch.testing.assert_close(angles_to_weights(features, weights), expected, atol=1e-9, rtol=0)
    between = angles_between_weights(weights)
    assert torch.equal(between, between.T) and (between.diagonal() == 0).all()
    expected_between = torch.tensor(
        [[naive_angle(a, b) for b in weights.tolist()] for a in weights.tolist()],
        dtype=torch.float64,
    ).fill_diagonal_(0.0)
    torch.testing.assert_close(between, expected_between, atol=1e-9, rtol=0)


def test_parallel_and_antiparallel_features_give_zero_and_pi():
    weights = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    features = torch.tensor([[3.0, 0.0], [-1e-3, 0.0]])
    angles = angles_to_weights(features, weights)
    assert angles[0, 0].item() == 0.0
    assert angles[1, 0].item() == pytest.approx(math.pi)
    own, others = angles_to_own_and_other_weights(features, torch.tensor([0, 1]), weights)
    torch.testing.assert_close(own, torch.tensor([0.0, math.pi / 2], dtype=torch.float64))
    torch.testing.assert_close(others, torch.tensor([math.pi / 2, math.pi], dtype=torch.float64))


def test_quantile_one_is_the_strict_extreme():
    stats = class_angles(FEATURES, LABELS, WEIGHTS, quantile=1.0)
    robust = class_angles(FEATURES, LABELS, WEIGHTS, quantile=0.5)
    assert (robust.intra <= stats.intra).all()
    assert (robust.to_other_weight >= stats.to_other_weight).all()
    torch.testing.assert_close(robust.between_weights, stats.between_weights)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: angles_to_weights(torch.zeros(2, 2), WEIGHTS), "zero rows"),
        (lambda: angles_to_weights(FEATURES, torch.ones(3, 3)), "dimension 2 but weights have 3"),
        (lambda: angles_to_weights(torch.ones(3), WEIGHTS), "must be a 2-D tensor"),
        (lambda: class_angles(FEATURES, LABELS[:-1], WEIGHTS), "length N=6"),
        (lambda: class_angles(FEATURES, LABELS + 1, WEIGHTS), r"must lie in \[0, 2\]"),
        (lambda: class_angles(FEATURES, LABELS, WEIGHTS, quantile=0.0), r"quantile must be"),
        (lambda: class_angles(FEATURES, LABELS * 0, WEIGHTS[:1]), "at least 2 class weights"),
    ],
)
def test_bad_inputs_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_summary_averages_classes_then_runs():
    first = class_angles(FEATURES, LABELS, WEIGHTS)
    second = class_angles(FEATURES[:3], LABELS[:3], WEIGHTS)  # class 2 empty: NaN, skipped
    summary = summarize_angles([first, second])
    # intra: run 1 (20 + 60 + 10) / 3 = 30; run 2 classes 0 and 1 (20 + 10) / 2 = 15.
    assert summary.intra == pytest.approx((30.0 + 15.0) / 2)
    assert summary.between_weights == pytest.approx((90.0 + 90.0 + 110.0) / 3)
    # Separated: run 1 classes 0 and 2; run 2 classes 0 and 1 (its one feature lies 10 degrees
    # from W_1), never the empty class 2.
    assert summary.separated == pytest.approx((2 + 2) / 2)
    assert summary.runs == 2
    with pytest.raises(ValueError, match="at least one run"):
        summarize_angles([])


def test_feature_angles_against_a_hand_placed_circle():
    from sphereface_lib.analysis.angles import feature_angles

    degrees = torch.tensor([0.0, 10.0, 90.0, 95.0])  # class 0 spans 10 degrees, class 1 5
    features = torch.stack(
        [torch.cos(torch.deg2rad(degrees)), torch.sin(torch.deg2rad(degrees))], 1
    )
    result = feature_angles(
        features * torch.tensor([[1.0], [3.0], [0.5], [2.0]]), torch.tensor([0, 0, 1, 1])
    )
    assert math.degrees(result.max_intra) == pytest.approx(10.0)
    assert math.degrees(result.min_inter) == pytest.approx(80.0)
    assert result.ratio == pytest.approx(10.0 / 80.0)
    with pytest.raises(ValueError, match="two classes"):
        feature_angles(features[:2], torch.tensor([0, 0]))
