"""Feature norms against confidence and errors: what ||x|| does when the loss leaves it free.

A-Softmax's logits are ||x|| cos theta_j (Liu et al., *SphereFace*, CVPR 2017, Eq. 5 and 7), so
the norm scales every logit and with it the softmax confidence; CosFace and ArcFace replace the
norm by a fixed scale s, so their confidence no longer depends on it.

Legend: N samples; ``norms``, ``confidence`` (N,) float; ``correct`` (N,) bool; ``logits``
(N, C).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def softmax_confidence(logits: torch.Tensor) -> torch.Tensor:
    """The largest softmax probability of each row: (N, C) -> (N,) float64."""
    if not torch.is_tensor(logits) or logits.dim() != 2:
        shape = tuple(logits.shape) if torch.is_tensor(logits) else type(logits)
        raise ValueError(f"logits must be a 2-D tensor (N, C), got {shape}")
    return logits.detach().double().softmax(dim=1).max(dim=1).values


def _check_same_length(**vectors: torch.Tensor) -> int:
    lengths = {
        name: len(v) if torch.is_tensor(v) and v.dim() == 1 else None for name, v in vectors.items()
    }
    if None in lengths.values() or len(set(lengths.values())) != 1:
        shapes = {
            name: tuple(v.shape) if torch.is_tensor(v) else type(v).__name__
            for name, v in vectors.items()
        }
        raise ValueError(f"expected 1-D tensors of one length, got shapes {shapes}")
    return next(iter(lengths.values())) or 0


def average_ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks 1..N of ``values`` (N,) in float64, tied values sharing the mean of their ranks."""
    _check_same_length(values=values)
    values = values.detach().double()
    order = torch.argsort(values, stable=True)
    ranks = torch.empty_like(values)
    ranks[order] = torch.arange(1, len(values) + 1, dtype=torch.float64)
    # Tied values form runs in sorted order; each gets the mean of the run's positions.
    _, inverse, counts = torch.unique(values, return_inverse=True, return_counts=True)
    sums = torch.zeros(len(counts), dtype=torch.float64).index_add_(0, inverse, ranks)
    return (sums / counts.double())[inverse]


def rank_correlation(first: torch.Tensor, second: torch.Tensor) -> float:
    """Spearman's rank correlation of two (N,) tensors (Pearson correlation of average ranks)."""
    count = _check_same_length(first=first, second=second)
    if count < 2:
        raise ValueError(f"a correlation needs at least 2 samples, got {count}")
    first_ranks = average_ranks(first)
    second_ranks = average_ranks(second)
    first_ranks = first_ranks - first_ranks.mean()
    second_ranks = second_ranks - second_ranks.mean()
    scale = (first_ranks.norm() * second_ranks.norm()).item()
    if scale == 0:
        raise ValueError("a correlation is undefined when one of the inputs is constant")
    return float((first_ranks @ second_ranks).item() / scale)


@dataclass(frozen=True)
class NormBins:
    """Samples in bins of equal count, in order of norm; every field is (B,)."""

    lower: torch.Tensor  # smallest norm in the bin
    upper: torch.Tensor  # largest norm in the bin
    counts: torch.Tensor
    error_rate: torch.Tensor  # fraction of the bin's samples that are misclassified
    mean_confidence: torch.Tensor


def bins_by_norm(
    norms: torch.Tensor,
    correct: torch.Tensor,
    confidence: torch.Tensor,
    num_bins: int = 10,
) -> NormBins:
    """Sort samples by norm and cut them into ``num_bins`` bins of (nearly) equal count.

    The first ``N % num_bins`` bins hold one sample more than the others (``torch.tensor_split``).
    """
    count = _check_same_length(norms=norms, correct=correct, confidence=confidence)
    if isinstance(num_bins, bool) or not isinstance(num_bins, int) or not 1 <= num_bins <= count:
        raise ValueError(f"num_bins must be an integer in [1, N={count}], got {num_bins!r}")
    norms = norms.detach().double()
    order = torch.argsort(norms, stable=True)
    rows = []
    for chosen in torch.tensor_split(order, num_bins):
        rows.append(
            (
                norms[chosen].min(),
                norms[chosen].max(),
                torch.tensor(float(len(chosen)), dtype=torch.float64),
                1.0 - correct[chosen].double().mean(),
                confidence[chosen].double().mean(),
            )
        )
    columns = [torch.stack(column) for column in zip(*rows, strict=True)]
    return NormBins(
        lower=columns[0],
        upper=columns[1],
        counts=columns[2].long(),
        error_rate=columns[3],
        mean_confidence=columns[4],
    )
