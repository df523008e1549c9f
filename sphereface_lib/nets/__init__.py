"""Embedding networks: images -> features (N, embedding_dim); ``build_net`` builds one by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from sphereface_lib.nets.mnist import MnistConvNet, mnist_sphere20
from sphereface_lib.nets.sphere import (
    RELEASED_SPHERE64_UNITS,
    STAGE_WIDTHS,
    UNITS_PER_STAGE,
    SphereNet,
)

NETS: dict[str, Callable[[int], nn.Module]] = {
    "mnist_small": MnistConvNet,
    "mnist_sphere20": mnist_sphere20,
    **{f"sphere{depth}": partial(SphereNet, depth) for depth in UNITS_PER_STAGE},
    # The SphereFace-64 of the official release: 7 units in conv2_x, 62 convolutions.
    "sphere64_released": partial(SphereNet, 64, units=RELEASED_SPHERE64_UNITS),
    # Half-width variants (32/64/128/256 channels) for training on a CPU.
    **{f"sphere{depth}_half": partial(SphereNet, depth, base_width=32) for depth in (4, 10, 20)},
}
# The input each network expects: (channels, height, width).
NET_INPUTS: dict[str, tuple[int, int, int]] = {
    name: (1, 28, 28) if name.startswith("mnist") else (3, 112, 96) for name in NETS
}


def build_net(name: str, embedding_dim: int) -> nn.Module:
    """Build the network called ``name`` (see ``NETS``) with ``embedding_dim`` output features."""
    if name not in NETS:
        raise ValueError(f"unknown network {name!r}; choose one of {', '.join(NETS)}")
    if isinstance(embedding_dim, bool) or not isinstance(embedding_dim, int) or embedding_dim < 1:
        raise ValueError(f"embedding_dim must be a positive integer, got {embedding_dim!r}")
    return NETS[name](embedding_dim)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_multiply_adds(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-adds of one forward pass of a single input of ``input_shape`` (C, H, W).

    Counts convolutions and linear layers, which dominate; activations are left out.
    """
    total = 0

    def hook(layer: nn.Module, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            kernel = layer.weight[0].numel()  # in_channels/groups * kh * kw
            total += output[0].numel() * kernel
        elif isinstance(layer, nn.Linear):
            total += layer.in_features * layer.out_features

    handles = [
        layer.register_forward_hook(hook)
        for layer in module.modules()
        if isinstance(layer, nn.Conv2d | nn.Linear)
    ]
    try:
        was_training = module.training
        module.eval()
        with torch.no_grad():
            module(torch.zeros(1, *input_shape))
        module.train(was_training)
    finally:
        for handle in handles:
            handle.remove()
    return total


__all__ = [
    "NETS",
    "NET_INPUTS",
    "RELEASED_SPHERE64_UNITS",
    "STAGE_WIDTHS",
    "UNITS_PER_STAGE",
    "MnistConvNet",
    "SphereNet",
    "build_net",
    "count_multiply_adds",
    "count_parameters",
    "mnist_sphere20",
]
