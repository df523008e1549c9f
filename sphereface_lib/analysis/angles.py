"""Angles between features and class weights: the quantities behind the paper's choice m >= 3.

Liu et al., *SphereFace*, CVPR 2017 (arXiv 1704.08063), Section 3.4 ("Properties of A-Softmax
Loss"): A-Softmax should make the largest angle between two features of one class smaller than
the smallest angle between features of different classes. Angles on the sphere are a metric, so
with every feature of class c within ``intra[c]`` of its weight W_c and the weights at least
``between`` apart, the criterion holds once ``intra <= between / 4`` (intra-class spread
<= 2 intra <= between - 2 intra). In the plane of two neighbouring weights, margin m puts the
decision boundary at ``between / (m + 1)`` from W_c (m theta_c = theta_j with
theta_c + theta_j = between), which meets that bound from m = 3 on, the paper's lower bound for
the multi-class case (its Property 3, which assumes uniformly spaced class weights). CosFace and
ArcFace place their boundaries by an additive margin instead (:func:`cosface_boundary_angle`,
:func:`arcface_boundary_angle`).

Legend: N features, C classes, D feature dimension; ``features`` (N, D), ``labels`` (N,) integer
in [0, C), ``weights`` (C, D). Angles are float64 radians in [0, pi].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from sphereface_lib.maths.margins import check_margin, psi


def _unit_rows(vectors: torch.Tensor, name: str) -> torch.Tensor:
    """(K, D) rows scaled to unit length, in float64; a zero row has no direction: an error."""
    if not torch.is_tensor(vectors) or vectors.dim() != 2:
        shape = tuple(vectors.shape) if torch.is_tensor(vectors) else type(vectors)
        raise ValueError(f"{name} must be a 2-D tensor (rows of vectors), got {shape}")
    rows = vectors.detach().double()
    norms = rows.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise ValueError(
            f"{name} has {int((norms == 0).sum())} zero rows, which have no angle; drop them first"
        )
    return rows / norms


def angles_to_weights(features: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """theta_ij, the angle between feature x_i and class weight W_j: (N, D), (C, D) -> (N, C)."""
    unit_features = _unit_rows(features, "features")
    unit_weights = _unit_rows(weights, "weights")
    if unit_features.shape[1] != unit_weights.shape[1]:
        raise ValueError(
            f"features have dimension {unit_features.shape[1]} but weights have "
            f"{unit_weights.shape[1]}; pass the class weights of the head that saw these features"
        )
    return torch.acos((unit_features @ unit_weights.T).clamp(-1.0, 1.0))


def angles_between_weights(weights: torch.Tensor) -> torch.Tensor:
    """The angle between every two class weights: (C, D) -> (C, C), zero on the diagonal."""
    unit_weights = _unit_rows(weights, "weights")
    cosines = unit_weights @ unit_weights.T
    # A matrix product need not be exactly symmetric in floating point; the angle must be.
    cosines = (cosines + cosines.T) / 2
    return torch.acos(cosines.clamp(-1.0, 1.0)).fill_diagonal_(0.0)


def _check_labels(labels: torch.Tensor, count: int, num_classes: int) -> torch.Tensor:
    if not torch.is_tensor(labels) or labels.dim() != 1 or len(labels) != count:
        shape = tuple(labels.shape) if torch.is_tensor(labels) else type(labels)
        raise ValueError(f"labels must be a 1-D tensor of length N={count}, got {shape}")
    labels = labels.long()
    if count and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}] for {num_classes} class weights; got "
            f"values from {int(labels.min())} to {int(labels.max())}"
        )
    return labels


def angles_to_own_and_other_weights(
    features: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(theta_y, min over j != y of theta_j) per feature: (N, D), (N,), (C, D) -> (N,), (N,)."""
    if len(weights) < 2:
        raise ValueError(f"need at least 2 class weights to compare classes, got {len(weights)}")
    angles = angles_to_weights(features, weights)
    labels = _check_labels(labels, len(angles), len(weights))
    own = angles.gather(1, labels[:, None])[:, 0]
    others = angles.scatter(1, labels[:, None], math.inf).min(dim=1).values
    return own, others


def angular_margins(
    features: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """min over j != y of theta_j minus theta_y: (N,), positive where the angle classifies right."""
    own, others = angles_to_own_and_other_weights(features, labels, weights)
    return others - own


def _check_between(between: float) -> None:
    if not 0.0 < between <= math.pi:
        raise ValueError(f"between must be an angle in (0, pi] radians, got {between}")


def margin_boundary_angle(between: float, margin: int, lam: float = 0.0) -> float:
    """Angle from W_c of the A-Softmax boundary to a neighbour ``between`` away, in their plane.

    The target logit (lam cos theta_c + psi(theta_c)) / (1 + lam) (Eq. 7 with the annealing of
    the official code) equals the rival's cos theta_j, with theta_c + theta_j = between. For
    lam = 0 this is m theta_c = theta_j, so theta_c = between / (m + 1); a larger lam moves the
    boundary towards between / 2, the boundary without a margin. Angles in radians.
    """
    margin = check_margin(margin)
    _check_between(between)
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")

    def excess(theta: float) -> float:
        """Target logit minus rival logit (per unit norm); it decreases with theta."""
        target = (
            lam * math.cos(theta) + float(psi(torch.tensor(theta, dtype=torch.float64), margin))
        ) / (1 + lam)
        return target - math.cos(between - theta)

    # excess(0) = 1 - cos(between) > 0 and excess(between / 2) <= 0 since psi <= cos: bisect.
    low, high = 0.0, between / 2
    for _ in range(64):  # the bracket halves each time: far below float64 resolution
        middle = (low + high) / 2
        if excess(middle) > 0:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def cosface_boundary_angle(between: float, margin: float) -> float | None:
    """Angle from W_c of the CosFace boundary to a neighbour ``between`` away, in their plane.

    CosFace's target logit s (cos theta_c - m) equals the rival's s cos theta_j with
    theta_c + theta_j = between: (1 - cos between) cos theta_c - sin between sin theta_c = m,
    i.e. 2 sin(between / 2) sin(between / 2 - theta_c) = m. None where the target never wins
    (m >= 1 - cos between: the margin is larger than the two weights allow). Radians.
    """
    _check_between(between)
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if margin >= 1 - math.cos(between):
        return None
    return between / 2 - math.asin(margin / (2 * math.sin(between / 2)))


def arcface_boundary_angle(between: float, margin: float) -> float | None:
    """Angle from W_c of the ArcFace boundary to a neighbour ``between`` away, in their plane.

    ArcFace's target logit s cos(theta_c + m) equals the rival's s cos theta_j with
    theta_c + theta_j = between where theta_c + m = between - theta_c. None where the target never
    wins (m >= between). Radians.
    """
    _check_between(between)
    if not 0 <= margin <= math.pi:
        raise ValueError(f"margin must be an angle in [0, pi] radians, got {margin}")
    if margin >= between:
        return None
    return (between - margin) / 2


@dataclass(frozen=True)
class ClassAngles:
    """Per class c (each (C,), radians): how far its features spread and how far its rivals are.

    ``intra``: largest angle from a feature of c to W_c (the ``quantile`` of those angles);
    ``to_other_weight``: smallest angle from a feature of c to any W_j, j != c (the
    1 - ``quantile`` of each feature's nearest rival weight); ``between_weights``: smallest angle
    from W_c to another weight; ``counts``: features of class c. A class without features has
    NaN ``intra`` and ``to_other_weight``.
    """

    intra: torch.Tensor
    to_other_weight: torch.Tensor
    between_weights: torch.Tensor
    counts: torch.Tensor
    quantile: float

    def separated(self) -> torch.Tensor:
        """(C,) bool: ``intra <= between_weights / 4``, enough for the paper's criterion."""
        return self.intra <= self.between_weights / 4


def class_angles(
    features: torch.Tensor,
    labels: torch.Tensor,
    weights: torch.Tensor,
    quantile: float = 1.0,
) -> ClassAngles:
    """Angle statistics of every class: (N, D), (N,), (C, D) -> :class:`ClassAngles`.

    ``quantile`` = 1 gives the strict maximum and minimum over the features of a class; a value
    such as 0.99 ignores the 1 % of features furthest from their class (mostly misclassified).
    """
    if not 0.0 < quantile <= 1.0:
        raise ValueError(f"quantile must be in (0, 1], got {quantile}")
    own, others = angles_to_own_and_other_weights(features, labels, weights)
    labels = labels.long()
    num_classes = len(weights)
    intra = torch.full((num_classes,), math.nan, dtype=torch.float64)
    to_other = torch.full((num_classes,), math.nan, dtype=torch.float64)
    counts = torch.bincount(labels, minlength=num_classes)
    for label in range(num_classes):
        chosen = labels == label
        if bool(chosen.any()):
            intra[label] = torch.quantile(own[chosen], quantile)
            to_other[label] = torch.quantile(others[chosen], 1.0 - quantile)
    between = angles_between_weights(weights)
    between = between + torch.diag(torch.full((num_classes,), math.inf, dtype=torch.float64))
    return ClassAngles(
        intra=intra,
        to_other_weight=to_other,
        between_weights=between.min(dim=1).values,
        counts=counts,
        quantile=quantile,
    )


@dataclass(frozen=True)
class AngleSummary:
    """Class angles of several runs in degrees: mean over classes, then mean over runs.

    ``separated`` is the mean number of classes per run with ``intra <= between_weights / 4``.
    """

    intra: float
    to_other_weight: float
    between_weights: float
    separated: float
    runs: int


def summarize_angles(stats: Sequence[ClassAngles]) -> AngleSummary:
    """Average :class:`ClassAngles` of one or more runs (e.g. seeds) into one table row."""
    if not stats:
        raise ValueError("need the class angles of at least one run")

    def mean_degrees(name: str) -> float:
        per_run = [torch.nanmean(getattr(s, name)).item() for s in stats]
        return math.degrees(sum(per_run) / len(per_run))

    separated = [float(s.separated().sum()) for s in stats]
    return AngleSummary(
        intra=mean_degrees("intra"),
        to_other_weight=mean_degrees("to_other_weight"),
        between_weights=mean_degrees("between_weights"),
        separated=sum(separated) / len(separated),
        runs=len(stats),
    )


@dataclass(frozen=True)
class FeatureAngles:
    """The paper's criterion on features themselves (Section 3.4, Definition 1): the largest
    angle between two features of one class and the smallest between features of two classes,
    in radians; ``ratio`` = max intra / min inter, below 1 when the criterion holds."""

    max_intra: float
    min_inter: float

    @property
    def ratio(self) -> float:
        return self.max_intra / self.min_inter if self.min_inter > 0 else math.inf


def feature_angles(features: torch.Tensor, labels: torch.Tensor) -> FeatureAngles:
    """Over every pair of features (N, D) with classes (N,): :class:`FeatureAngles`."""
    if len(features) != len(labels) or len(features) < 2:
        raise ValueError(
            f"need at least two features with one label each, got {len(features)} features and "
            f"{len(labels)} labels"
        )
    unit = _unit_rows(features.double(), "features")
    angles = torch.arccos((unit @ unit.T).clamp(-1.0, 1.0))
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~torch.eye(len(labels), dtype=torch.bool)
    intra = angles[same & off_diagonal]
    inter = angles[~same]
    if intra.numel() == 0 or inter.numel() == 0:
        raise ValueError("need two features of one class and two classes")
    return FeatureAngles(max_intra=float(intra.max()), min_inter=float(inter.min()))
