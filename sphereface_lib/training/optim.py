"""The optimiser's parameter groups: one uniform group, or the official code's bias treatment.

The official SphereFace prototxts (train/code/sphereface_model.prototxt for SphereFace-20,
train/model_lib/Sphereface-64/sphereface_64_model.prototxt, and the generator
train/code/make_spherenet.py, ``conv_prelu``) give every convolution two ``param`` blocks:

- the weights: ``lr_mult: 1, decay_mult: 1``;
- the bias of a stride-2 convolution (conv1_1, conv2_1, conv3_1, conv4_1) and of fc5:
  ``lr_mult: 2, decay_mult: 0``;
- the bias of a convolution inside a residual unit (conv1_2, conv1_3, ...): ``lr_mult: 0,
  decay_mult: 0`` with ``bias_filler { type: "constant" value: 0 }``, so it stays at zero.

PReLU layers and the A-Softmax layer fc6 name no ``param`` block or ``lr_mult: 1,
decay_mult: 1``: Caffe's defaults, learning rate x1 with weight decay, as every weight here.
In Caffe an update is ``lr * lr_mult`` times the gradient plus ``weight_decay * decay_mult``
times the weight, so a group below carries ``lr_mult`` (the training loop multiplies the
scheduled rate by it, see :func:`set_learning_rate`) and its own ``weight_decay``.

Legend: a group is a dict as ``torch.optim.SGD`` takes it: ``params`` plus options.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from sphereface_lib.heads import MarginHead
from sphereface_lib.nets.sphere import ResidualUnit
from sphereface_lib.training.config import TrainConfig

# The learning-rate multipliers of the official prototxts (see the module docstring).
OFFICIAL_BIAS_LR_MULT = 2.0
FROZEN_LR_MULT = 0.0


def frozen_residual_biases(net: nn.Module) -> list[torch.Tensor]:
    """The biases of the convolutions inside residual units, which the official code freezes."""
    return [
        layer.bias
        for unit in net.modules()
        if isinstance(unit, ResidualUnit)
        for layer in unit.modules()
        if isinstance(layer, nn.Conv2d) and layer.bias is not None
    ]


def _is_bias(module: nn.Module, name: str) -> bool:
    # Biases of convolutions, fully connected layers and heads (the original head's b); the
    # shift of a normalisation layer (mnist_small's batch norm) is not one in Caffe's sense.
    return name == "bias" and isinstance(module, nn.Conv2d | nn.Linear | MarginHead)


def _split(module: nn.Module, frozen: set[int]) -> tuple[list[nn.Parameter], ...]:
    """(weights, biases, frozen) of ``module``, each in ``module.parameters()`` order."""
    weights: list[nn.Parameter] = []
    biases: list[nn.Parameter] = []
    frozen_here: list[nn.Parameter] = []
    for owner in module.modules():
        for name, parameter in owner.named_parameters(recurse=False):
            if id(parameter) in frozen:
                frozen_here.append(parameter)
            elif _is_bias(owner, name):
                biases.append(parameter)
            else:
                weights.append(parameter)
    return weights, biases, frozen_here


def parameter_groups(net: nn.Module, head: nn.Module, config: TrainConfig) -> list[dict[str, Any]]:
    """The parameter groups of ``config.bias_treatment`` for ``torch.optim.SGD``.

    ``"uniform"``: one group, every parameter at the scheduled rate with ``weight_decay``.
    ``"official"``: weights (lr x1, ``weight_decay``); biases of stride-2 convolutions, fully
    connected layers and heads (lr x2, no decay); biases of the residual units' convolutions
    (lr x0, no decay: frozen at their initial zero). Empty groups are left out.

    The network's groups come first and the head's last, so that positions
    ``>= len(list(net.parameters()))`` in the optimiser's state are the head's, as the
    training loop's sharded-head checkpoints expect.
    """
    if config.bias_treatment == "uniform":
        return [{"params": [*net.parameters(), *head.parameters()], "lr_mult": 1.0}]
    if config.bias_treatment != "official":
        raise ValueError(
            f"bias_treatment must be 'uniform' or 'official', got {config.bias_treatment!r}"
        )
    frozen = {id(parameter) for parameter in frozen_residual_biases(net)}
    groups: list[dict[str, Any]] = []
    for module in (net, head):
        weights, biases, frozen_here = _split(module, frozen)
        groups += [
            {"params": weights, "lr_mult": 1.0, "weight_decay": config.weight_decay},
            {"params": biases, "lr_mult": OFFICIAL_BIAS_LR_MULT, "weight_decay": 0.0},
            {"params": frozen_here, "lr_mult": FROZEN_LR_MULT, "weight_decay": 0.0},
        ]
    return [group for group in groups if group["params"]]


def build_optimizer(net: nn.Module, head: nn.Module, config: TrainConfig) -> torch.optim.SGD:
    """SGD with Nesterov momentum over :func:`parameter_groups`.

    Parameters of a group with ``lr_mult`` 0 are also set to ``requires_grad=False``: as in
    Caffe, which computes no gradient for a ``lr_mult: 0`` parameter, they then take no part in
    backward or in gradient clipping, and SGD skips them.
    """
    groups = parameter_groups(net, head, config)
    for group in groups:
        if group["lr_mult"] == 0.0:
            for parameter in group["params"]:
                parameter.requires_grad_(False)
    return torch.optim.SGD(
        groups,
        lr=config.learning_rate,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        nesterov=True,
    )


def set_learning_rate(optimizer: torch.optim.Optimizer, learning_rate: float) -> None:
    """Set every group's rate to ``learning_rate`` times its ``lr_mult`` (1 when absent)."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate * group.get("lr_mult", 1.0)


def clip_gradient_norm(
    net: nn.Module, head: nn.Module, max_norm: float, over_ranks: Callable[[float], float]
) -> None:
    """Scale the gradients of ``net`` and ``head`` so that their global norm is at most
    ``max_norm``; ``over_ranks`` completes the head's sum of squares where it is sharded."""
    net_grads = [p.grad for p in net.parameters() if p.grad is not None]
    head_grads = [p.grad for p in head.parameters() if p.grad is not None]
    net_square, head_square = (
        float(sum(g.double().square().sum() for g in grads)) for grads in (net_grads, head_grads)
    )
    total = math.sqrt(net_square + over_ranks(head_square))
    if total > max_norm:
        for grad in net_grads + head_grads:
            grad.mul_(max_norm / (total + 1e-6))
