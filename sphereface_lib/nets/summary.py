"""What a SphereFace network is made of, read off the built module: layers, stages and shapes.

The stages are those of the paper's Table 2 (Liu et al., CVPR 2017): each opens with a stride-2
3x3 convolution, followed by residual units at constant width.
Legend: N images, C channels, H x W feature map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from sphereface_lib.nets import count_multiply_adds, count_parameters
from sphereface_lib.nets.sphere import ResidualUnit, SphereNet


def stages(net: SphereNet) -> list[list[nn.Module]]:
    """The layers of ``net.body`` grouped into stages, each starting at a stride-2 convolution."""
    grouped: list[list[nn.Module]] = []
    for layer in net.body:
        if isinstance(layer, nn.Conv2d) and layer.stride != (1, 1):
            grouped.append([])
        if not grouped:
            raise ValueError("the network body does not start with a strided convolution")
        grouped[-1].append(layer)
    return grouped


@dataclass(frozen=True)
class ArchitectureSummary:
    """One row of the architecture table: counts taken from the module itself."""

    depth: int
    conv_layers: int  # every 3x3 convolution: the depth the paper names a network by
    stage_widths: tuple[int, ...]  # output channels of each stage
    stage_strides: tuple[int, ...]  # stride of each stage's first convolution
    units_per_stage: tuple[int, ...]  # residual units (two convolutions each) per stage
    parameters: int
    multiply_adds: int  # one forward pass of one image


def summarize(net: SphereNet) -> ArchitectureSummary:
    """Count the layers, widths, strides, units, parameters and multiply-adds of ``net``."""
    grouped = stages(net)
    first_convs = [stage[0] for stage in grouped]
    assert all(isinstance(conv, nn.Conv2d) for conv in first_convs)
    return ArchitectureSummary(
        depth=net.depth,
        conv_layers=sum(isinstance(layer, nn.Conv2d) for layer in net.modules()),
        stage_widths=tuple(int(conv.out_channels) for conv in first_convs),  # type: ignore[arg-type]
        stage_strides=tuple(int(conv.stride[0]) for conv in first_convs),  # type: ignore[index]
        units_per_stage=tuple(
            sum(isinstance(layer, ResidualUnit) for layer in stage) for stage in grouped
        ),
        parameters=count_parameters(net),
        multiply_adds=count_multiply_adds(net, (net.in_channels, *net.input_size)),
    )


@torch.no_grad()
def stage_shapes(net: SphereNet, images: torch.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of the input, every stage's output, the flattened map and the features.

    Recorded with forward hooks on the last layer of each stage and on the final linear layer;
    images: (N, C, H, W). The net runs in eval mode and its mode is restored.
    """
    shapes: list[tuple[str, tuple[int, ...]]] = [("input", tuple(images.shape))]

    def recorder(name: str) -> Callable[[nn.Module, tuple[torch.Tensor, ...], torch.Tensor], None]:
        def hook(_layer: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            if name == "features":  # the linear layer: show what it reads, too
                shapes.append(("flattened", tuple(inputs[0].shape)))
            shapes.append((name, tuple(output.shape)))

        return hook

    handles = [
        stage[-1].register_forward_hook(recorder(f"stage {index}"))
        for index, stage in enumerate(stages(net), start=1)
    ]
    handles.append(net.fc.register_forward_hook(recorder("features")))
    was_training = net.training
    net.eval()
    try:
        net(images)
    finally:
        net.train(was_training)
        for handle in handles:
            handle.remove()
    return shapes
