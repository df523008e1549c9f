"""Chapter 5, beyond the reference: its runs and the analysis of what they learned.

The chapter trains A-Softmax with several margins m (the margin sweep), with variants of the
official lambda annealing, and beside the original and modified softmax, CosFace and ArcFace (five
heads). This module builds those runs from the chapter's settings
(:func:`~sphereface_lib.book.chapters.beyond_settings`) with :func:`run_groups`, names them
(:func:`schedule_name`, :func:`run_name`) and measures them: angle-classifier accuracy, class
angles and feature norms over the snapshots of a run (:func:`snapshot_curves`,
:func:`epochs_to_accuracy`), norms against errors and confidence on the test set
(:func:`norm_analysis`), where the lambda schedule stands (:func:`lambda_schedule`). The
functions are pure: runs are passed in, nothing is trained or read here.

Legend: N test features, S snapshots, P snapshot points, C classes, D feature dimension.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from sphereface_lib.analysis.angles import (
    AngleSummary,
    ClassAngles,
    angular_margins,
    arcface_boundary_angle,
    class_angles,
    cosface_boundary_angle,
    margin_boundary_angle,
    summarize_angles,
)
from sphereface_lib.analysis.norms import (
    NormBins,
    bins_by_norm,
    rank_correlation,
    softmax_confidence,
)
from sphereface_lib.book.chapters import (
    ADDITIVE_HEADS,
    MNIST_HEADS,
    BeyondSettings,
    grid,
    mnist_grid,
)
from sphereface_lib.book.experiments import AccuracySummary, mean_and_spread, summarize
from sphereface_lib.book.pages import head_name, percent, run_label
from sphereface_lib.training import RunResult, Snapshots, lambda_at
from sphereface_lib.training.config import TrainConfig

# The paper's margin: the A-Softmax row of the five-heads comparison.
PAPER_MARGIN = 4
# lambda_base = lambda_min = 0: a margin head without annealing (pure A-Softmax, Eq. 7; the
# CosFace and ArcFace papers' recipe). The library anneals every margin head otherwise.
NO_ANNEALING: dict[str, float] = {"lambda_base": 0.0, "lambda_min": 0.0}
# The heads of the five-heads comparison, in the order of its tables.
FIVE_HEADS = (*MNIST_HEADS, "cosface", "arcface")

# A group of runs (one configuration per seed) is keyed by (section, dimension, what): what is
# the margin m in the sweep, the head in "heads" and "sized", the schedule name in "annealing".
GroupKey = tuple[str, int, Any]
# The sections of the chapter as its cost table names them.
SECTION_NAMES = {
    "sweep": "margin sweep",
    "heads": "five heads",
    "sized": "margins sized for 2-D",
    "annealing": "annealing",
}


def annealing_variants(settings: BeyondSettings) -> list[dict[str, float]]:
    """The lambda options of the annealing comparison: the official schedule, lambda = 0
    throughout, a fixed lambda, and the official schedule with other floors."""
    fixed = float(settings.fixed_lambda)
    return [
        {},
        dict(NO_ANNEALING),
        {"lambda_base": fixed, "lambda_gamma": 0.0, "lambda_min": fixed},
        *({"lambda_min": floor} for floor in settings.lambda_floors),
    ]


def run_groups(settings: BeyondSettings) -> dict[GroupKey, tuple[TrainConfig, ...]]:
    """Every group of runs of the chapter, keyed by :data:`GroupKey`, in the chapter's order.

    In 2-D A-Softmax uses the official annealing (the runs of chapter 2); the short
    high-dimensional runs train it without (``high_dim_annealing`` False), since the official
    schedule takes several epochs to reach its floor. CosFace and ArcFace never anneal.
    In 2-D the sweep's m = 1 and m = 4 are chapter 2's runs and take every seed; the official
    schedule and lambda = 0 take ``annealing_seeds``; the other 2-D runs take ``new_seeds``.
    """
    profile, device = settings.profile, settings.device
    annealing_of = {
        2: {},
        settings.high_dim: {} if settings.high_dim_annealing else dict(NO_ANNEALING),
    }
    additive = {"cosface": settings.cosface_margin, "arcface": settings.arcface_margin}
    groups: dict[GroupKey, tuple[TrainConfig, ...]] = {}

    def add(key: GroupKey, head: str, dimension: int, seeds: Sequence[int], **options: Any) -> None:
        groups[key] = tuple(grid(profile, [head], [dimension], seeds, device=device, **options))

    for dimension in settings.dimensions:
        epochs: dict[str, Any] = {} if dimension == 2 else {"epochs": settings.high_dim_epochs}
        for margin in settings.margins:
            seeds = (
                settings.new_seeds if dimension == 2 and margin not in (1, 4) else settings.seeds
            )
            if margin == 1:
                add(("sweep", dimension, margin), "modified", dimension, seeds, **epochs)
            else:
                angular = {"margin": margin, **annealing_of[dimension], **epochs}
                add(("sweep", dimension, margin), "angular", dimension, seeds, **angular)
        for head in FIVE_HEADS:
            if head in ADDITIVE_HEADS and dimension == 2 and not settings.paper_margins_in_2d:
                continue
            options = dict(epochs)
            if head == "angular":
                options.update(margin=PAPER_MARGIN, **annealing_of[dimension])
            elif head in ADDITIVE_HEADS:
                options.update(
                    scale=float(settings.scale),
                    additive_margin=float(additive[head]),
                    **NO_ANNEALING,
                )
            add(("heads", dimension, head), head, dimension, settings.new_seeds, **options)
    for head, additive_margin in settings.sized_margins:
        sized = {"scale": float(settings.scale), "additive_margin": additive_margin}
        add(("sized", 2, head), head, 2, settings.new_seeds, **sized, **NO_ANNEALING)
    for number, variant in enumerate(annealing_variants(settings)):
        # The official schedule and lambda = 0 (the first two) take several seeds, for the
        # Claims page's verdict on annealing; the others are single illustrations.
        configs = grid(
            profile,
            ["angular"],
            [2],
            settings.annealing_seeds if number < 2 else settings.new_seeds,
            margin=settings.anneal_margin,
            device=device,
            **variant,
        )
        groups["annealing", 2, schedule_name(configs[0])] = tuple(configs)
    return groups


def distinct_configs(groups: Mapping[GroupKey, Sequence[TrainConfig]]) -> list[TrainConfig]:
    """The configurations of all groups, each once, in first-seen order (what to train)."""
    return list(dict.fromkeys(config for group in groups.values() for config in group))


def chapter_2_configs(profile: str, device: str = "auto") -> set[TrainConfig]:
    """The runs of chapter 2 with its default heads, dimensions and seeds (trained there)."""
    return set(mnist_grid(profile, device=device))


def schedule_name(config: TrainConfig) -> str:
    """The lambda schedule of a run in words: "official annealing", "λ = 0", "fixed λ = 5",
    "official annealing, floor 0" (the official schedule with another floor)."""
    base, floor = config.lambda_base, config.lambda_min
    if config.head not in ("angular", *ADDITIVE_HEADS):
        return "no margin"
    if base == 0 and floor == 0:
        return "λ = 0"
    if config.lambda_gamma == 0 or base <= floor:
        return f"fixed λ = {max(base, floor):g}"
    official = TrainConfig()
    same_decay = (base, config.lambda_gamma, config.lambda_power) == (
        official.lambda_base,
        official.lambda_gamma,
        official.lambda_power,
    )
    name = "official annealing" if same_decay else f"annealing from λ = {base:g}"
    return name if floor == official.lambda_min else f"{name}, floor {floor:g}"


def run_name(config: TrainConfig) -> str:
    """The row label of a run: its head (:func:`sphereface_lib.book.pages.run_label`), and for a
    margin head its lambda schedule, unless it is CosFace's or ArcFace's own (lambda = 0)."""
    label = run_label(config)
    schedule = schedule_name(config)
    if config.head == "angular" or (config.head in ADDITIVE_HEADS and schedule != "λ = 0"):
        return f"{label}, {schedule}"
    return label


def comparison_keys(
    groups: Mapping[GroupKey, Sequence[TrainConfig]], dimension: int
) -> list[GroupKey]:
    """The rows of the five-heads comparison in ``dimension``, in table order: each head, and in
    2-D also A-Softmax with lambda = 0 and CosFace and ArcFace with the margins sized for 2-D."""
    keys: list[GroupKey] = []
    for head in FIVE_HEADS:
        keys.append(("heads", dimension, head))
        if dimension == 2 and head == "angular":
            keys.append(("annealing", 2, "λ = 0"))
        if dimension == 2:
            keys.append(("sized", 2, head))
    return [key for key in keys if key in groups]


def showcase_key(
    groups: Mapping[GroupKey, Sequence[TrainConfig]], dimension: int, head: str
) -> GroupKey | None:
    """The group shown for ``head`` in ``dimension`` (animations, norms): in 2-D CosFace and
    ArcFace with the margins sized for 2-D, otherwise the five-heads run; None if not trained."""
    for key in (("sized", dimension, head), ("heads", dimension, head)):
        if key in groups:
            return key
    return None


@dataclass(frozen=True)
class GroupSummary:
    """A group of runs (its seeds) as the chapter's tables show it: final test accuracy over the
    seeds, class angles in degrees (strict: maximum; robust: a quantile), the epochs and the
    lambda of the last update of the first run."""

    accuracy: AccuracySummary
    strict: AngleSummary
    robust: AngleSummary
    epochs: int
    final_lambda: float


def summarize_group(
    runs: Sequence[RunResult],
    strict: Sequence[ClassAngles],
    robust: Sequence[ClassAngles],
) -> GroupSummary:
    """:class:`GroupSummary` of ``runs`` with their final class angles (one per run each)."""
    if not runs or not len(runs) == len(strict) == len(robust):
        raise ValueError(
            f"need one strict and one robust set of class angles per run, got {len(runs)} runs, "
            f"{len(strict)} and {len(robust)}"
        )
    return GroupSummary(
        accuracy=summarize(runs),
        strict=summarize_angles(strict),
        robust=summarize_angles(robust),
        epochs=runs[0].config.epochs,
        final_lambda=float(runs[0].metrics[-1]["lambda"]),
    )


# The robust class angles as the chapter's tables show them (degrees, and the classes within a
# quarter of the angle to their nearest other weight).
ANGLE_FORMATS = ["{:.1f}", "{:.1f}", "{:.1f}", "{:g}"]


def angle_columns(quantile: float) -> list[str]:
    """Headers of :func:`angle_cells` for angles at ``quantile`` (and 1 - ``quantile``): the
    angle from a feature to its own weight (intra), to the nearest other weight, from its
    weight to the nearest other weight (between), and the classes with intra <= between / 4."""
    return [  # a no-break space keeps "99 %" on one line of a wrapped header
        f"intra, {100 * quantile:g}\u00a0% (°)",
        f"to other W, {100 * (1 - quantile):.3g}\u00a0% (°)",
        "between W (°)",
        "classes within ¼",
    ]


def angle_cells(angles: AngleSummary) -> list[float]:
    """Intra angle, angle to the nearest other weight, between weights, separated classes."""
    return [angles.intra, angles.to_other_weight, angles.between_weights, angles.separated]


def comparison_rows(
    keys: Sequence[GroupKey],
    groups: Mapping[GroupKey, Sequence[TrainConfig]],
    summaries: Mapping[GroupKey, GroupSummary],
) -> list[list[Any]]:
    """Rows of the five-heads comparison: run name, test accuracy (%) and :func:`angle_cells`."""
    return [
        [
            run_name(groups[key][0]),
            mean_and_spread(summaries[key].accuracy),
            *angle_cells(summaries[key].robust),
        ]
        for key in keys
    ]


def boundary_degrees(summary: GroupSummary, margin: int) -> float:
    """Where A-Softmax with ``margin`` puts its boundary at the group's final lambda, in degrees
    from the class weight, towards a neighbour at the group's mean nearest-weight angle."""
    between = math.radians(summary.robust.between_weights)
    return math.degrees(margin_boundary_angle(between, margin, summary.final_lambda))


def sweep_sentence(dimension: int, sweep: Mapping[int, GroupSummary], classes: int) -> str:
    """What the margin sweep of one feature dimension measured, as Markdown (no math): accuracy
    over the margins, the seed-to-seed spread, class angles, the quarter-angle criterion and
    where the largest margin puts its boundary."""
    if not sweep:
        raise ValueError("need the summary of at least one margin")
    margins = list(sweep)
    first, last = margins[0], margins[-1]
    epochs = sweep[last].epochs
    accuracy = {margin: summary.accuracy.mean for margin, summary in sweep.items()}
    if len(margins) == 1:
        text = f"test accuracy {percent(accuracy[first])} % (m = {first})"
    else:
        best = max(margins, key=lambda margin: accuracy[margin])
        worst = min(margins, key=lambda margin: accuracy[margin])
        text = (
            f"test accuracy from {percent(accuracy[worst])} % (m = {worst}) "
            f"to {percent(accuracy[best])} % (m = {best})"
        )
    spread = [
        f"{percent(summary.accuracy.std)} points (m = {margin})"
        for margin, summary in sweep.items()
        if summary.accuracy.count > 1
    ]
    if spread:
        text += f"; seed-to-seed standard deviation {', '.join(spread)}"
    intra = {margin: summary.robust.intra for margin, summary in sweep.items()}
    between = {margin: summary.robust.between_weights for margin, summary in sweep.items()}
    if len(margins) == 1:
        angles = (
            f"Robust intra-class angle {intra[first]:.1f}°; nearest weights "
            f"{between[first]:.1f}° apart."
        )
    else:
        angles = (
            f"Robust intra-class angle {intra[first]:.1f}° for m = {first} and "
            f"{intra[last]:.1f}° for m = {last}; nearest weights {between[first]:.1f}° and "
            f"{between[last]:.1f}° apart."
        )
    separated = {margin: summary.robust.separated for margin, summary in sweep.items()}
    boundary = boundary_degrees(sweep[last], last)
    quarter = between[last] / 4
    side = "within" if boundary <= quarter else "outside"
    return (
        f"**{dimension}-D** ({epochs} epoch{'' if epochs == 1 else 's'}): {text}. {angles} "
        f"{criterion_sentence(separated, classes)} At the final λ = "
        f"{sweep[last].final_lambda:.2f}, m = {last} puts its boundary {boundary:.1f}° from "
        f"its weight, {side} a quarter of the angle between neighbouring weights "
        f"({quarter:.1f}°)."
    )


@dataclass(frozen=True)
class SnapshotCurves:
    """One run over its snapshots, each (S,) float64: the epoch of the snapshot, the accuracy of
    the angle classifier (nearest class weight), the ``quantile`` of the angle from a feature to
    its own weight (degrees, mean over classes) and the median feature norm ||x||."""

    epochs: torch.Tensor
    accuracy: torch.Tensor
    intra: torch.Tensor
    median_norm: torch.Tensor


def snapshot_curves(snapshots: Snapshots, quantile: float = 0.99) -> SnapshotCurves:
    """:class:`SnapshotCurves` of ``snapshots`` (features (S, P, D), weights (S, C, D))."""
    accuracy, intra = [], []
    for features, weights in zip(snapshots.features, snapshots.weights, strict=True):
        margins = angular_margins(features, snapshots.labels, weights)
        accuracy.append(float((margins > 0).double().mean()))
        angles = class_angles(features, snapshots.labels, weights, quantile)
        intra.append(math.degrees(float(torch.nanmean(angles.intra))))
    return SnapshotCurves(
        epochs=snapshots.epochs.double(),
        accuracy=torch.tensor(accuracy, dtype=torch.float64),
        intra=torch.tensor(intra, dtype=torch.float64),
        median_norm=snapshots.features.double().norm(dim=2).median(dim=1).values,
    )


def epochs_to_accuracy(curves: SnapshotCurves, target: float) -> float | None:
    """The epoch of the first snapshot whose angle-classifier accuracy reaches ``target``; None
    if no snapshot does."""
    reached = torch.nonzero(curves.accuracy >= target).flatten()
    return None if len(reached) == 0 else float(curves.epochs[reached[0]])


@dataclass(frozen=True)
class NormAnalysis:
    """Feature norms of one run's test set against its errors and its confidence.

    ``norms`` (N,) float64, ``correct`` (N,) bool (margin-free logits), ``bins``: error rate and
    confidence in bins of equal count by norm; ``correlation``: Spearman's rank correlation of
    norm and confidence (the largest softmax probability of the margin-free logits).
    """

    norms: torch.Tensor
    correct: torch.Tensor
    bins: NormBins
    correlation: float

    @property
    def errors(self) -> int:
        return int((~self.correct).sum())

    @property
    def median_correct(self) -> float | None:
        """Median norm of the correctly classified features (None if there are none)."""
        chosen = self.norms[self.correct]
        return float(chosen.median()) if len(chosen) else None

    @property
    def median_wrong(self) -> float | None:
        """Median norm of the misclassified features (None without errors)."""
        chosen = self.norms[~self.correct]
        return float(chosen.median()) if len(chosen) else None

    def relative_log_norms(self) -> torch.Tensor:
        """log2(||x|| / median ||x||) of every feature (N,): the norms on a common scale."""
        return torch.log2((self.norms / self.norms.median()).clamp_min(1e-6))


def norm_analysis(
    features: torch.Tensor, labels: torch.Tensor, logits: torch.Tensor, num_bins: int = 10
) -> NormAnalysis:
    """:class:`NormAnalysis` of test features (N, D) with labels (N,) and the head's margin-free
    logits (N, C)."""
    if len(features) != len(labels) or len(logits) != len(labels):
        raise ValueError(
            f"need one label and one row of logits per feature, got {len(features)} features, "
            f"{len(labels)} labels and {len(logits)} rows of logits"
        )
    norms = features.detach().double().norm(dim=1)
    correct = logits.detach().argmax(dim=1) == labels
    confidence = softmax_confidence(logits)
    return NormAnalysis(
        norms=norms,
        correct=correct,
        bins=bins_by_norm(norms, correct, confidence, num_bins=num_bins),
        correlation=rank_correlation(norms, confidence),
    )


@dataclass(frozen=True)
class LambdaSchedule:
    """Where a run's lambda schedule stands: at its first and last update, at the last update of
    its first epoch, and the first update (0-based) at which it reaches its floor."""

    first: float
    end_of_first_epoch: float
    last: float
    floor_step: int | None  # None: not within FLOOR_SEARCH_STEPS updates


FLOOR_SEARCH_STEPS = 10**9


def floor_step(config: TrainConfig, limit: int = FLOOR_SEARCH_STEPS) -> int | None:
    """The first update (0-based) at which lambda (:func:`sphereface_lib.training.lambda_at`)
    reaches ``config.lambda_min``; None if it does not within ``limit`` updates.

    The schedule never increases, so the first such update is found by bisection.
    """
    if lambda_at(config, limit) > config.lambda_min:
        return None
    low, high = 0, limit  # lambda_at(high) <= floor; the answer lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        if lambda_at(config, middle) <= config.lambda_min:
            high = middle
        else:
            low = middle + 1
    return low


def lambda_schedule(config: TrainConfig, total_steps: int, steps_per_epoch: int) -> LambdaSchedule:
    """:class:`LambdaSchedule` of a run of ``total_steps`` updates, ``steps_per_epoch`` an epoch."""
    if not 1 <= steps_per_epoch <= total_steps:
        raise ValueError(
            f"need 1 <= steps_per_epoch <= total_steps, got {steps_per_epoch} and {total_steps}"
        )
    return LambdaSchedule(
        first=lambda_at(config, 0),
        end_of_first_epoch=lambda_at(config, steps_per_epoch - 1),
        last=lambda_at(config, total_steps - 1),
        floor_step=floor_step(config),
    )


def criterion_sentence(separated: Mapping[int, float], classes: int) -> str:
    """How many classes meet the quarter-angle criterion, per margin m (mean over seeds), as a
    sentence that reads well for every outcome."""
    if not separated:
        raise ValueError("need the count of at least one margin")
    counts = {margin: float(count) for margin, count in separated.items()}
    low, high = min(counts.values()), max(counts.values())
    if high == 0:
        return (
            f"No class meets the quarter-angle criterion, for any of the {len(counts)} margins."
            if len(counts) > 1
            else "No class meets the quarter-angle criterion."
        )
    if low == high:
        where = "for every margin" if len(counts) > 1 else f"for m = {next(iter(counts))}"
        return f"{low:g} of the {classes} classes meet the quarter-angle criterion {where}."
    fewest = min(counts, key=lambda margin: (counts[margin], margin))
    most = max(counts, key=lambda margin: (counts[margin], -margin))
    return (
        f"The classes meeting the quarter-angle criterion range from {low:g} of {classes} "
        f"(m = {fewest}) to {high:g} (m = {most})."
    )


def convergence_phrase(epochs: float | None, target: float) -> str:
    """ "reaches 90 % after 1.25 epochs" or "does not reach 90 %" (of the angle classifier)."""
    share = f"{100 * target:g} %"
    if epochs is None:
        return f"does not reach {share}"
    return f"reaches {share} after {epochs:.2f} epoch{'' if epochs == 1 else 's'}"


def boundary_phrase(head: str, margin: float, between: float) -> str:
    """Where CosFace or ArcFace with ``margin`` puts the boundary towards a neighbouring class
    weight ``between`` radians away, in words, for prose generated from the chapter's parameters:
    "CosFace (m=0.06) puts the boundary at 12.4°" or "CosFace (m=0.35) leaves no angle at which
    the target class wins"."""
    boundaries = {"cosface": cosface_boundary_angle, "arcface": arcface_boundary_angle}
    if head not in boundaries:
        raise ValueError(f"boundary_phrase is for {' and '.join(boundaries)}, got {head!r}")
    angle = boundaries[head](between, margin)
    name = head_name(head, margin)
    if angle is None:
        return f"{name} leaves no angle at which the target class wins"
    return f"{name} puts the boundary at {math.degrees(angle):.1f}°"
