"""Norm bins, ranks and confidence against naive loops and hand-computed cases."""

import math

import pytest
import torch

from sphereface_lib.analysis.norms import (
    average_ranks,
    bins_by_norm,
    rank_correlation,
    softmax_confidence,
)


def naive_ranks(values: list[float]) -> list[float]:
    """Rank of each value: 1 + number smaller + half of the other equal ones."""
    return [1 + sum(v < x for v in values) + (sum(v == x for v in values) - 1) / 2 for x in values]


def naive_pearson(a: list[float], b: list[float]) -> float:
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    var_a = sum((x - mean_a) ** 2 for x in a)
    var_b = sum((y - mean_b) ** 2 for y in b)
    return cov / math.sqrt(var_a * var_b)


def test_average_ranks_share_ties():
    values = torch.tensor([3.0, 1.0, 3.0, 2.0, 3.0, 0.5])
    assert average_ranks(values).tolist() == [5.0, 2.0, 5.0, 3.0, 5.0, 1.0]


@pytest.mark.parametrize("ties", [False, True])
def test_rank_correlation_matches_the_naive_formula(ties):
    generator = torch.Generator().manual_seed(5)
    first = torch.randn(50, generator=generator)
    second = first + torch.randn(50, generator=generator)
    if ties:
        first, second = first.round(), (second * 2).round()
    expected = naive_pearson(naive_ranks(first.tolist()), naive_ranks(second.tolist()))
    assert rank_correlation(first, second) == pytest.approx(expected, abs=1e-12)


def test_rank_correlation_of_monotonic_maps_is_one():
    values = torch.linspace(-3, 3, 11)
    assert rank_correlation(values, values.exp()) == pytest.approx(1.0)
    assert rank_correlation(values, -(values**3)) == pytest.approx(-1.0)


def test_softmax_confidence_by_hand():
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0], [0.0, 0.0 + math.log(9.0)]])
    torch.testing.assert_close(
        softmax_confidence(logits), torch.tensor([0.5, 0.75, 0.9], dtype=torch.float64)
    )


def test_bins_by_norm_match_a_loop():
    generator = torch.Generator().manual_seed(11)
    norms = torch.rand(23, generator=generator) * 10
    correct = torch.rand(23, generator=generator) > 0.3
    confidence = torch.rand(23, generator=generator)
    bins = bins_by_norm(norms, correct, confidence, num_bins=4)
    order = sorted(range(23), key=lambda i: norms[i].item())
    sizes = [6, 6, 6, 5]  # 23 = 4 * 5 + 3: the first three bins hold one more
    start = 0
    for b, size in enumerate(sizes):
        chosen = order[start : start + size]
        start += size
        assert bins.counts[b].item() == size
        assert bins.lower[b].item() == pytest.approx(min(norms[i].item() for i in chosen))
        assert bins.upper[b].item() == pytest.approx(max(norms[i].item() for i in chosen))
        errors = sum(not bool(correct[i]) for i in chosen) / size
        assert bins.error_rate[b].item() == pytest.approx(errors)
        mean_confidence = sum(confidence[i].item() for i in chosen) / size
        assert bins.mean_confidence[b].item() == pytest.approx(mean_confidence)


def test_bins_by_norm_by_hand():
    norms = torch.tensor([4.0, 1.0, 3.0, 2.0])
    correct = torch.tensor([True, False, True, True])
    confidence = torch.tensor([0.9, 0.2, 0.8, 0.4])
    bins = bins_by_norm(norms, correct, confidence, num_bins=2)
    assert bins.lower.tolist() == [1.0, 3.0] and bins.upper.tolist() == [2.0, 4.0]
    assert bins.error_rate.tolist() == [0.5, 0.0]
    torch.testing.assert_close(bins.mean_confidence, torch.tensor([0.3, 0.85], dtype=torch.float64))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: softmax_confidence(torch.ones(3)), "2-D tensor"),
        (lambda: rank_correlation(torch.ones(3), torch.ones(4)), "one length"),
        (lambda: rank_correlation(torch.ones(1), torch.ones(1)), "at least 2"),
        (lambda: rank_correlation(torch.ones(3), torch.arange(3.0)), "constant"),
        (lambda: bins_by_norm(torch.ones(3), torch.ones(3), torch.ones(3), 4), "num_bins"),
        (lambda: bins_by_norm(torch.ones(3), torch.ones(2), torch.ones(3), 1), "one length"),
    ],
)
def test_bad_inputs_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
