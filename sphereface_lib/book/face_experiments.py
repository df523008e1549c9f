"""The face experiments of the book: configurations per profile and device, and verification.

Liu et al., CVPR 2017, Section 4.1 trains on CASIA-WebFace (0.49M images) for 28k iterations
with the lambda annealing of the released code (the library's ``"casia"`` preset), and tests
on LFW. Here the training sets are small (the LFW people with >= 10 images outside the
evaluation folds, or 30 AT&T subjects), so the runs are a few hundred iterations long, and the
official per-iteration lambda schedule would still be far from its floor at the end;
:func:`floor_reaching_gamma` keeps the schedule's shape and lets lambda reach its floor at a
fixed fraction of the run instead.

Legend: P pairs.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from sphereface_lib.analysis.verification import (
    PROTOCOL_LABELS,
    PROTOCOLS,
    KFoldResult,
    cosine_similarity,
    kfold_accuracy,
    mirror_features,
    official_kfold_accuracy,
    roc_auc,
    roc_curve,
)
from sphereface_lib.book.chapters import FACE_SETTINGS
from sphereface_lib.data.faces import PairTensors
from sphereface_lib.data.training_sets import load_training_data
from sphereface_lib.training import RunResult, resolve_device
from sphereface_lib.training.config import TrainConfig, preset

# The face runs reach lambda_min this far into training. The official run gets there after 6 %
# of its 28k iterations, the book's 2-D MNIST runs after about half of theirs; a run of a few
# hundred updates on the official gamma would end far above the floor. 40 % keeps the curve's
# shape (base 1000, power 1) and leaves most of the run at the floor, as in the official run.
LAMBDA_FLOOR_FRACTION = 0.4


def face_net(device: str = "auto") -> str:
    """The network of the face runs: SphereFace-20 on a GPU, the half-width SphereFace-4 on a CPU.

    On two CPU cores (AMD EPYC, batch 64) SphereFace-20 trained at about 31 images per second,
    the half-width SphereFace-4 at about 210, which is what fits the book's time budget there.
    """
    return "sphere20" if resolve_device(device).type == "cuda" else "sphere4_half"


def floor_reaching_gamma(
    floor_step: float,
    base: float = 1000.0,
    power: float = 1.0,
    lambda_min: float = 5.0,
) -> float:
    """gamma such that lambda = base * (1 + gamma * step)^-power reaches ``lambda_min`` at
    ``floor_step``: the official curve's shape, stretched or squeezed to a run's length.

    ``floor_step`` counts as the official layer does (the first batch is iteration 1, see
    ``train.lambda_at``). The official values (gamma 0.12) reach the floor of 5 at iteration
    199 / 0.12 = 1,658.3 of 28,000: lambda is above 5 for batches 1-1,658 and 5 from batch 1,659.
    """
    if floor_step <= 0:
        raise ValueError(f"floor_step must be positive, got {floor_step!r}")
    if not 0 < lambda_min < base:
        raise ValueError(f"need 0 < lambda_min < base, got {lambda_min} and {base}")
    return ((base / lambda_min) ** (1.0 / power) - 1.0) / floor_step


@functools.lru_cache(maxsize=16)
def training_image_count(dataset: str, data_root: str | None, train_limit: int | None) -> int:
    """How many training images ``dataset`` holds (after ``train_limit``)."""
    data = load_training_data(dataset, data_root, train_limit=train_limit, test_limit=1)
    return len(data.train_labels)


def face_config(
    profile: str,
    dataset: str,
    head: str,
    device: str = "auto",
    data_root: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> TrainConfig:
    """The configuration of one face run of the book (see
    :data:`~sphereface_lib.book.chapters.FACE_SETTINGS`).

    512-d features (the paper's), the network of :func:`face_net`, mirror augmentation, no
    feature snapshots, and lambda annealed on the official curve (base 1000, power 1, floor 5),
    reaching its floor ``LAMBDA_FLOOR_FRACTION`` into the run.
    """
    if (dataset, profile) not in FACE_SETTINGS:
        known = sorted({name for name, _ in FACE_SETTINGS})
        raise ValueError(
            f"no face settings for dataset {dataset!r} and profile {profile!r}; datasets: {known}"
        )
    values: dict[str, Any] = {
        "dataset": dataset,
        "head": head,
        "net": face_net(device),
        "embedding_dim": 512,
        "snapshot_points": 0,
        "warmup_epochs": 1.0,
        "device": device,
        **FACE_SETTINGS[dataset, profile],
        **overrides,
    }
    if "lambda_gamma" not in overrides:
        root = None if data_root is None else str(data_root)
        images = training_image_count(dataset, root, values.get("train_limit"))
        total_steps = math.ceil(images / values["batch_size"]) * values["epochs"]
        floor_step = LAMBDA_FLOOR_FRACTION * total_steps
        values["lambda_gamma"] = round(floor_reaching_gamma(floor_step), 6)
    return preset("full", **values)


@dataclass(frozen=True)
class Verification:
    """Scores of the pairs (P,) with their labels and folds, and both protocols' summaries.

    ``scores`` are the plain cosines (no centring), for the ROC and the score histograms;
    ``official`` is the official evaluation's k-fold result, ``plain`` the plain protocol's
    (see :mod:`sphereface_lib.analysis.verification`).
    """

    scores: torch.Tensor
    same: torch.Tensor
    fold: torch.Tensor
    official: KFoldResult
    plain: KFoldResult
    auc: float

    @property
    def kfold(self) -> KFoldResult:
        """The plain protocol's result, under the name it had before ``official`` existed."""
        return self.plain

    def protocol(self, name: str) -> KFoldResult:
        """The k-fold result of protocol ``name`` (``"official"`` or ``"plain"``)."""
        if name not in PROTOCOLS:
            raise ValueError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
        return self.official if name == "official" else self.plain

    def roc(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(false positive rate, true positive rate, thresholds), see :func:`roc_curve`."""
        return roc_curve(self.scores, self.same)


def verify(
    net: nn.Module,
    pairs: PairTensors,
    batch_size: int = 256,
    device: torch.device | str | None = None,
) -> Verification:
    """Verify ``pairs`` with mirrored features under both protocols; ROC of the plain cosines.

    The SphereFace protocol (paper Section 4.1): the feature of an image is that of the image
    concatenated with that of its horizontal mirror, a pair is scored by the cosine of its two
    features, and the threshold of each fold is chosen on the other folds. The official
    evaluation also centres the features on the other folds' mean and uses its own threshold
    rule (:func:`~sphereface_lib.analysis.verification.official_kfold_accuracy`).
    """
    if device is not None:
        net = net.to(device)
    features = mirror_features(net, pairs.images, batch_size, device)
    first, second = features[pairs.first], features[pairs.second]
    scores = cosine_similarity(first, second)
    return Verification(
        scores=scores,
        same=pairs.same,
        fold=pairs.fold,
        official=official_kfold_accuracy(first, second, pairs.same, pairs.fold),
        plain=kfold_accuracy(scores, pairs.same, pairs.fold),
        auc=roc_auc(scores, pairs.same),
    )


def training_flops(multiply_adds: int, iterations: int, batch_size: int) -> float:
    """Floating-point operations of a training run: 2 per multiply-add, backward = 2 x forward."""
    return 2.0 * 3.0 * multiply_adds * iterations * batch_size


def training_hours(
    multiply_adds: int, iterations: int, batch_size: int, sustained_tflops: float
) -> float:
    """Hours of a training run at a *sustained* rate of ``sustained_tflops`` (an assumption)."""
    if sustained_tflops <= 0:
        raise ValueError(f"sustained_tflops must be positive, got {sustained_tflops}")
    return training_flops(multiply_adds, iterations, batch_size) / (sustained_tflops * 1e12) / 3600


def verification_columns(protocols: Sequence[str] = ("plain",)) -> tuple[str, ...]:
    """The header of :func:`verification_row`'s rows for ``protocols`` (in that order)."""
    for name in protocols:
        if name not in PROTOCOLS:
            raise ValueError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    return (
        "head",
        "network",
        *(f"verification accuracy, {PROTOCOL_LABELS[name]} (%)" for name in protocols),
        *(f"per fold, {PROTOCOL_LABELS[name]} (%)" for name in protocols),
        "AUC",
        "closed-set accuracy (%)",
    )


# The plain protocol's table, as the face chapter has shown it; verification_columns(PROTOCOLS)
# gives both protocols side by side, the official first.
VERIFICATION_COLUMNS = verification_columns()


def verification_row(
    name: str,
    network: str,
    result: Verification,
    closed_set_accuracy: float | None,
    protocols: Sequence[str] = ("plain",),
) -> list[str]:
    """One row of the verification table (``verification_columns(protocols)``), in percent."""
    verification_columns(protocols)  # checks the names
    results = [result.protocol(protocol) for protocol in protocols]
    closed = "–" if closed_set_accuracy is None else f"{100 * closed_set_accuracy:.2f}"
    return [
        name,
        network,
        *(f"{100 * kfold.mean:.2f} ± {100 * kfold.std:.2f}" for kfold in results),
        *(" / ".join(f"{100 * value:.2f}" for value in kfold.accuracies) for kfold in results),
        f"{result.auc:.4f}",
        closed,
    ]


SUMMARY_COLUMNS = (
    "head",
    "official protocol (%)",
    "plain protocol (%)",
    "AUC",
    "closed-set (%)",
)


def summary_row(name: str, result: Verification, closed_set_accuracy: float | None) -> list[str]:
    """One row of :data:`SUMMARY_COLUMNS`: both protocols' mean ± std over folds (percent), the
    area under the ROC curve, and the classification accuracy on the training people."""
    protocols = [result.official, result.plain]
    closed = "–" if closed_set_accuracy is None else f"{100 * closed_set_accuracy:.2f}"
    return [
        name,
        *(f"{100 * kfold.mean:.2f} ± {100 * kfold.std:.2f}" for kfold in protocols),
        f"{result.auc:.4f}",
        closed,
    ]


def fold_rows(
    results: Mapping[str, Verification], labels: Mapping[str, str], protocol: str = "official"
) -> tuple[list[list[str]], list[str]]:
    """Per-fold accuracies (percent) of ``protocol``: rows per result and the header."""
    folds = next(iter(results.values())).protocol(protocol).folds
    rows = [
        [
            labels.get(key, key),
            *(f"{100 * value:.2f}" for value in result.protocol(protocol).accuracies),
        ]
        for key, result in results.items()
    ]
    return rows, ["head", *(f"fold {fold}" for fold in folds)]


def verify_runs(
    runs: Mapping[str, RunResult],
    pairs: PairTensors,
    labels: Mapping[str, str],
    device: torch.device | str | None = None,
    protocols: Sequence[str] = ("plain",),
) -> tuple[dict[str, Verification], list[list[str]]]:
    """Verify the trained network of every run on ``pairs``: the results and the table rows.

    ``runs`` and the returned results are keyed alike (e.g. by head); ``labels`` names each key
    in the table (``verification_columns(protocols)``), whose last column is the run's
    closed-set accuracy. Every result holds both protocols; ``protocols`` picks the columns
    (``PROTOCOLS`` for both, the official first).
    """
    results, rows = {}, []
    for key, run in runs.items():
        net, _ = run.load_model()
        results[key] = verify(net, pairs, device=device)
        rows.append(
            verification_row(
                labels.get(key, key),
                run.config.net,
                results[key],
                run.final_test_accuracy,
                protocols,
            )
        )
    return results, rows


# The margin field of the face runs whose head has no margin (the original and the modified
# softmax): chapter 6's A-Softmax margin, so that a sweep's first seed is chapter 6's run.
UNUSED_MARGIN = 4


def sweep_configs(
    profile: str,
    dataset: str,
    sweep: Sequence[tuple[str, int | None]],
    seeds: Sequence[int],
    device: str = "auto",
    data_root: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> list[TrainConfig]:
    """The runs of a margin sweep on a face set: every (head, margin) of ``sweep`` (margin for
    A-Softmax only) and every seed, in that order (chapter 6 and the Claims page)."""
    return [
        face_config(
            profile,
            dataset,
            head,
            device=device,
            data_root=data_root,
            margin=margin if head == "angular" and margin is not None else UNUSED_MARGIN,
            seed=seed,
            **overrides,
        )
        for head, margin in sweep
        for seed in seeds
    ]


def by_setting(
    values: Mapping[TrainConfig, float], sweep: Sequence[tuple[str, int | None]]
) -> dict[tuple[str, int | None], list[float]]:
    """Per-run ``values`` grouped by the (head, margin) of ``sweep`` they belong to, in the
    order of the runs (their seeds)."""
    grouped: dict[tuple[str, int | None], list[float]] = {key: [] for key in sweep}
    for config, value in values.items():
        for head, margin in sweep:
            if config.head == head and (head != "angular" or config.margin == margin):
                grouped[head, margin].append(value)
    return grouped
