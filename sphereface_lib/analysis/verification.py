"""Face verification on LFW pairs: mirrored features, cosine scores, k-fold accuracy and ROC.

The protocol is LFW's "unrestricted" View 2 (G. B. Huang, M. Ramesh, T. Berg, E. Learned-Miller,
"Labeled Faces in the Wild", UMass Amherst TR 07-49, 2007): the pairs are split into folds
(10 of 600 pairs in the full file); each fold is scored with a threshold chosen on the other
folds, and the mean accuracy is reported with its spread over folds. SphereFace (Liu et al.,
CVPR 2017, Section 4.1) scores a pair by the cosine similarity of the features of each image
concatenated with those of its horizontal mirror.

Two protocols are implemented on the same features:

- **official**: the official evaluation, wy1iu/sphereface test/code/evaluation.m
  (:func:`official_kfold_accuracy`). For each test fold, the mean of the other folds' pair
  features (both images of every pair, lines 62-65) is subtracted from every feature, which is
  then L2-normalised (66-67) and scored by its cosine (70); the threshold is the mean of all
  thresholds of best accuracy on the grid -1, -0.9999, ..., 1 (20,001 points, lines 71 and
  115-122), and a pair is right when a same pair scores above the threshold or a different pair
  below it (124-127).
- **plain**: no centring, and the lowest threshold of exactly the best accuracy on the other
  folds, "same iff score > threshold" (:func:`kfold_accuracy`).

Legend: N images, P pairs, D feature dimension, K folds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@torch.no_grad()
def mirror_features(
    net: nn.Module,
    images: torch.Tensor,
    batch_size: int = 256,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """[net(x), net(flip(x))] for images (N, C, H, W) -> features (N, 2D) on the CPU.

    Runs in eval mode without gradients, in batches, on ``device`` (default: the net's); the net's
    training mode is restored afterwards.
    """
    if device is None:
        parameter = next(net.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
    was_training = net.training
    net.eval()
    try:
        batches = []
        for batch in images.split(batch_size):
            batch = batch.to(device)
            features = torch.cat([net(batch), net(batch.flip(-1))], dim=1)
            batches.append(features.cpu())
    finally:
        net.train(was_training)
    return torch.cat(batches)


def cosine_similarity(features_a: torch.Tensor, features_b: torch.Tensor) -> torch.Tensor:
    """Row-wise cosine of features_a, features_b (P, D) -> scores (P,)."""
    return nn.functional.cosine_similarity(features_a, features_b, dim=1)


def _check_scores(scores: torch.Tensor, same: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if scores.dim() != 1 or scores.shape != same.shape:
        raise ValueError(
            f"scores and same must be 1-D and of equal length, got shapes "
            f"{tuple(scores.shape)} and {tuple(same.shape)}"
        )
    return scores.detach().double().cpu(), same.detach().bool().cpu()


def best_threshold(scores: torch.Tensor, same: torch.Tensor) -> tuple[float, float]:
    """The threshold maximising the accuracy of "same iff score > threshold", and that accuracy.

    scores: (P,) similarities; same: (P,) bool. Candidates are -inf, the midpoints between
    consecutive distinct scores and +inf; among equally accurate ones the lowest wins.
    """
    scores, same = _check_scores(scores, same)
    if len(scores) == 0:
        raise ValueError("cannot choose a threshold from zero pairs")
    order = scores.argsort()
    sorted_scores, sorted_same = scores[order], same[order]
    zero = torch.zeros(1, dtype=torch.int64)
    # Cutting after the first i sorted pairs calls those "different" and the rest "same".
    different_below = torch.cat([zero, (~sorted_same).cumsum(0)])
    same_above = sorted_same.sum() - torch.cat([zero, sorted_same.cumsum(0)])
    correct = different_below + same_above  # (P + 1,), one per cut
    inf = torch.tensor([math.inf], dtype=torch.float64)
    thresholds = torch.cat([-inf, (sorted_scores[:-1] + sorted_scores[1:]) / 2, inf])
    # A cut between two equal scores is not realisable by any threshold.
    valid = torch.cat(
        [torch.tensor([True]), sorted_scores[:-1] < sorted_scores[1:], torch.tensor([True])]
    )
    correct = torch.where(valid, correct, -1)
    best = int(correct.argmax())  # the first maximum: the lowest threshold
    return float(thresholds[best]), float(correct[best]) / len(scores)


def accuracy_at(scores: torch.Tensor, same: torch.Tensor, threshold: float) -> float:
    """The fraction of pairs (P,) classified right by "same iff score > threshold"."""
    scores, same = _check_scores(scores, same)
    return float(((scores > threshold) == same).double().mean())


@dataclass(frozen=True)
class KFoldResult:
    """Per-fold accuracy and threshold (in order of ``folds``), and the LFW summary statistics."""

    folds: tuple[int, ...]
    accuracies: tuple[float, ...]
    thresholds: tuple[float, ...]
    mean: float
    std: float  # sample standard deviation over folds, the protocol's sigma-hat
    standard_error: float  # std / sqrt(K), what the LFW protocol asks to report


def kfold_accuracy(scores: torch.Tensor, same: torch.Tensor, fold: torch.Tensor) -> KFoldResult:
    """The plain protocol: accuracy of each fold at the threshold that is best on the other folds
    (:func:`best_threshold`, "same iff score > threshold"), scores used as given.

    scores: (P,) similarities; same: (P,) bool; fold: (P,) int fold of each pair (K >= 2 distinct).
    """
    scores, same = _check_scores(scores, same)
    fold_ids = _fold_ids(fold, same)
    fold = fold.cpu()
    accuracies, thresholds = [], []
    for fold_id in fold_ids:
        held_out = fold == fold_id
        threshold, _ = best_threshold(scores[~held_out], same[~held_out])
        thresholds.append(threshold)
        accuracies.append(accuracy_at(scores[held_out], same[held_out], threshold))
    return _summary(fold_ids, accuracies, thresholds)


def _fold_ids(fold: torch.Tensor, same: torch.Tensor) -> list[int]:
    if fold.shape != same.shape:
        raise ValueError(f"fold must have shape {tuple(same.shape)}, got {tuple(fold.shape)}")
    fold_ids = [int(value) for value in fold.cpu().unique()]
    if len(fold_ids) < 2:
        raise ValueError(f"k-fold evaluation needs at least 2 folds, got fold ids {fold_ids}")
    return fold_ids


def _summary(fold_ids: list[int], accuracies: list[float], thresholds: list[float]) -> KFoldResult:
    values = torch.tensor(accuracies, dtype=torch.float64)
    std = float(values.std(correction=1))
    return KFoldResult(
        folds=tuple(fold_ids),
        accuracies=tuple(accuracies),
        thresholds=tuple(thresholds),
        mean=float(values.mean()),
        std=std,
        standard_error=std / math.sqrt(len(fold_ids)),
    )


# The two protocols, official first (see the module docstring), and how tables name them.
PROTOCOLS = ("official", "plain")
PROTOCOL_LABELS = {"official": "official protocol", "plain": "plain protocol"}

# evaluation.m: getThreshold(scores, flags, 10000) over thresholds (-10000:10000) / 10000.
OFFICIAL_THRESHOLD_STEPS = 10_000


def official_accuracy_at(scores: torch.Tensor, same: torch.Tensor, threshold: float) -> float:
    """The official accuracy count (evaluation.m, getAccuracy, lines 124-127): same pairs (P,)
    scoring above ``threshold`` and different pairs scoring below it, over all pairs; a pair
    scoring exactly ``threshold`` is wrong either way."""
    scores, same = _check_scores(scores, same)
    right = int((scores[same] > threshold).sum()) + int((scores[~same] < threshold).sum())
    return right / len(scores)


def official_threshold(
    scores: torch.Tensor, same: torch.Tensor, steps: int = OFFICIAL_THRESHOLD_STEPS
) -> float:
    """The official threshold (evaluation.m, getThreshold, lines 115-122): the mean of all
    thresholds on the grid i / ``steps``, i = -steps..steps, at which
    :func:`official_accuracy_at` is highest.

    scores: (P,) similarities; same: (P,) bool. Counted for every grid point at once with
    sorted scores rather than with one pass over the pairs per point.
    """
    scores, same = _check_scores(scores, same)
    if len(scores) == 0:
        raise ValueError("cannot choose a threshold from zero pairs")
    grid = torch.arange(-steps, steps + 1, dtype=torch.float64) / steps
    same_scores, _ = scores[same].sort()
    different_scores, _ = scores[~same].sort()
    same_above = len(same_scores) - torch.searchsorted(same_scores, grid, right=True)
    different_below = torch.searchsorted(different_scores, grid, right=False)
    right = same_above + different_below
    return float(grid[right == right.max()].mean())


def centred_cosine_similarity(
    features_first: torch.Tensor, features_second: torch.Tensor, reference: torch.Tensor
) -> torch.Tensor:
    """Cosine of each pair after subtracting the mean feature of the ``reference`` pairs.

    features_first, features_second: (P, D), the features of each pair's two images;
    reference: (P,) bool, the pairs whose features (both images, an image counted once per pair
    it is in) make the mean (evaluation.m, lines 63-70). Computed in float64.
    """
    if features_first.shape != features_second.shape or features_first.dim() != 2:
        raise ValueError(
            f"pair features must be two (P, D) tensors of one shape, got "
            f"{tuple(features_first.shape)} and {tuple(features_second.shape)}"
        )
    if reference.shape != features_first.shape[:1] or not bool(reference.any()):
        raise ValueError(
            f"reference must be a (P,) bool mask with at least one pair, got shape "
            f"{tuple(reference.shape)} and {int(reference.sum())} pairs"
        )
    first, second = features_first.double(), features_second.double()
    mean = torch.cat([first[reference], second[reference]]).mean(dim=0)
    first, second = first - mean, second - mean
    norms = torch.stack([first.norm(dim=1), second.norm(dim=1)])
    if bool((norms == 0).any()):
        raise ValueError(
            "a feature equals the mean of the reference features; its cosine is undefined"
        )
    return (first * second).sum(dim=1) / (norms[0] * norms[1])


def official_kfold_accuracy(
    features_first: torch.Tensor,
    features_second: torch.Tensor,
    same: torch.Tensor,
    fold: torch.Tensor,
) -> KFoldResult:
    """The official LFW evaluation (evaluation.m, lines 52-74): per test fold, scores centred on
    the other folds' features, the official threshold chosen on the other folds, the official
    accuracy count on the test fold.

    features_first, features_second: (P, D) features of each pair's images (for SphereFace, an
    image's features concatenated with its mirror's, line 112); same: (P,) bool; fold: (P,) int
    (K >= 2 distinct).
    """
    fold_ids = _fold_ids(fold, same)
    fold = fold.cpu()
    same = same.detach().bool().cpu()
    accuracies, thresholds = [], []
    for fold_id in fold_ids:
        held_out = fold == fold_id
        scores = centred_cosine_similarity(features_first, features_second, ~held_out)
        threshold = official_threshold(scores[~held_out], same[~held_out])
        thresholds.append(threshold)
        accuracies.append(official_accuracy_at(scores[held_out], same[held_out], threshold))
    return _summary(fold_ids, accuracies, thresholds)


def kfold_protocols(
    features_first: torch.Tensor,
    features_second: torch.Tensor,
    same: torch.Tensor,
    fold: torch.Tensor,
) -> dict[str, KFoldResult]:
    """Both protocols on the same pair features (P, D): ``{"official": ..., "plain": ...}``."""
    plain_scores = cosine_similarity(features_first, features_second)
    return {
        "official": official_kfold_accuracy(features_first, features_second, same, fold),
        "plain": kfold_accuracy(plain_scores, same, fold),
    }


def roc_curve(
    scores: torch.Tensor, same: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ROC of "same iff score >= threshold": (false positive rate, true positive rate,
    thresholds), each (T,) float64, thresholds falling from +inf through every distinct score.

    scores: (P,) similarities; same: (P,) bool with both classes present.
    """
    scores, same = _check_scores(scores, same)
    positives, negatives = int(same.sum()), int((~same).sum())
    if positives == 0 or negatives == 0:
        raise ValueError(
            f"an ROC curve needs both same and different pairs, got {positives} same "
            f"and {negatives} different"
        )
    order = scores.argsort(descending=True)
    sorted_scores, sorted_same = scores[order], same[order]
    true_positives = sorted_same.cumsum(0)
    false_positives = (~sorted_same).cumsum(0)
    # Tied scores pass a threshold together: keep only the last pair of each run of equal scores.
    last = torch.cat([sorted_scores[1:] != sorted_scores[:-1], torch.tensor([True])])
    zero = torch.zeros(1, dtype=torch.float64)
    false_positive_rate = torch.cat([zero, false_positives[last].double() / negatives])
    true_positive_rate = torch.cat([zero, true_positives[last].double() / positives])
    thresholds = torch.cat([torch.tensor([math.inf], dtype=torch.float64), sorted_scores[last]])
    return false_positive_rate, true_positive_rate, thresholds


def roc_auc(scores: torch.Tensor, same: torch.Tensor) -> float:
    """Area under the ROC curve (trapezoids, so a tie between classes counts one half)."""
    false_positive_rate, true_positive_rate, _ = roc_curve(scores, same)
    return float(torch.trapezoid(true_positive_rate, false_positive_rate))
