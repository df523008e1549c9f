"""What the update numbered ``step`` (0 for the first) gets, as functions of that number: its
batch, its learning rate and its lambda. Nothing is carried from one update to the next, so a
run resumed at any step continues exactly as the uninterrupted run."""

from __future__ import annotations

import torch

from sphereface_lib.common.seeding import derived_generator
from sphereface_lib.maths.margins import annealed_lambda
from sphereface_lib.maths.schedules import step_decay, warmup_cosine
from sphereface_lib.training.config import TrainConfig

_ORDER_STREAM = 1  # the generator key of the data order (2 is augmentation)


def epoch_order(seed: int, epoch: int, count: int) -> torch.Tensor:
    """The order (count,) in which ``epoch`` visits the training images."""
    return torch.randperm(count, generator=derived_generator(seed, _ORDER_STREAM, epoch))


def learning_rate_at(config: TrainConfig, step: int, total_steps: int, warmup_steps: int) -> float:
    """The scheduled learning rate of the update after ``step`` updates."""
    if config.lr_schedule == "steps":
        return step_decay(step, config.learning_rate, config.lr_milestones)
    return warmup_cosine(step, total_steps, config.learning_rate, warmup_steps)


def lambda_at(config: TrainConfig, step: int) -> float:
    """The annealing weight of the batch trained after ``step`` updates (0: the first batch),
    for every margin head (angular, cosface, arcface).

    Counted as the official layer counts: it increments its iteration before computing lambda,
    so the batch after ``step`` updates has iteration ``step + 1`` (see
    :func:`~sphereface_lib.maths.margins.annealed_lambda`); the first batch gets 1000 / 1.12.
    Heads without a margin ignore it, so they get 0. ``lambda_base=0, lambda_min=0`` trains a
    margin head without annealing (pure A-Softmax, the CosFace and ArcFace papers' recipe).
    """
    if config.head in ("original", "modified"):
        return 0.0
    return annealed_lambda(
        step + 1, config.lambda_base, config.lambda_gamma, config.lambda_power, config.lambda_min
    )
