"""Open-set digits (chapter 7): the paper's protocol in miniature.

SphereFace's thesis is about *open-set* recognition (Liu et al., CVPR 2017, Section 1 and Fig.
1): a network trained to classify some identities must give features that tell apart people it
has never seen. Here a network is trained on the digits 0-5 only (``dataset="mnist_open"``),
then the test images of the unseen digits 6-9 are compared in pairs by the cosine of their
features, in folds that share no digit, and scored as LFW is (the official and the plain
protocol of :mod:`sphereface_lib.analysis.verification`). Digits are not mirrored, so a
feature is the network's output alone.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import torch

from sphereface_lib.analysis.verification import (
    KFoldResult,
    cosine_similarity,
    kfold_accuracy,
    official_kfold_accuracy,
)
from sphereface_lib.book.chapters import OpenSetSettings
from sphereface_lib.book.face_experiments import LAMBDA_FLOOR_FRACTION, floor_reaching_gamma
from sphereface_lib.data.digit_pairs import class_disjoint_pairs
from sphereface_lib.data.training_sets import open_set_held_out
from sphereface_lib.training import RunResult, embed, resolve_device
from sphereface_lib.training.config import TrainConfig, preset

# Training images of the digits 0-5 in the MNIST training set (its README's label counts).
OPEN_SET_TRAIN_IMAGES = 5923 + 6742 + 5958 + 6131 + 5842 + 5421
PAIR_SEED = 0  # every run is scored on the same pairs


def open_set_config(
    settings: OpenSetSettings,
    head: str,
    margin: int | None,
    dimension: int,
    seed: int,
    device: str = "auto",
) -> TrainConfig:
    """One run of chapter 7: ``head`` (with ``margin`` for A-Softmax) on the digits 0-5.

    A-Softmax keeps the official annealing curve's shape but reaches its floor of 5 at
    ``LAMBDA_FLOOR_FRACTION`` of the run, as the face runs do (its 1,658 official iterations
    would be most of a run this short)."""
    values: dict[str, Any] = {
        "dataset": "mnist_open",
        "head": head,
        "embedding_dim": dimension,
        "epochs": settings.epochs_of(dimension),
        "seed": seed,
        "device": device,
    }
    if head == "angular":
        values["margin"] = margin
    config = preset(settings.profile, **values)
    images = min(OPEN_SET_TRAIN_IMAGES, config.train_limit or OPEN_SET_TRAIN_IMAGES)
    total_steps = math.ceil(images / config.batch_size) * config.epochs
    gamma = floor_reaching_gamma(LAMBDA_FLOOR_FRACTION * total_steps)
    return config.replace(lambda_gamma=round(gamma, 6))


def open_set_configs(settings: OpenSetSettings, device: str = "auto") -> list[TrainConfig]:
    """Every run of the chapter: heads (the face sweep's), dimensions, seeds, in that order."""
    return [
        open_set_config(settings, head, margin, dimension, seed, device)
        for head, margin in settings.sweep
        for dimension in settings.dimensions
        for seed in settings.seeds
    ]


@dataclass(frozen=True)
class OpenSetResult:
    """Verification of the unseen digits by one run, and its closed-set accuracy (0-5)."""

    official: KFoldResult
    plain: KFoldResult
    closed_set_accuracy: float
    held_out_features: torch.Tensor  # (N, D) features of the unseen digits' test images
    held_out_labels: torch.Tensor  # (N,) digits 6-9


def verify_unseen_digits(
    run: RunResult,
    settings: OpenSetSettings,
    data_root: str | os.PathLike[str] | None = None,
    device: str | torch.device | None = None,
) -> OpenSetResult:
    """Score pairs of the unseen digits' test images with ``run``'s network."""
    net, _ = run.load_model()
    device = resolve_device("auto") if device is None else torch.device(device)
    images, labels = open_set_held_out(data_root)
    features = embed(net.to(device), images, device).cpu()
    pairs = class_disjoint_pairs(labels, settings.folds, settings.pairs_per_fold, PAIR_SEED)
    first, second = features[pairs.first], features[pairs.second]
    return OpenSetResult(
        official=official_kfold_accuracy(first, second, pairs.same, pairs.fold),
        plain=kfold_accuracy(cosine_similarity(first, second), pairs.same, pairs.fold),
        closed_set_accuracy=run.final_test_accuracy,
        held_out_features=features,
        held_out_labels=labels,
    )
