"""The SphereFace family: shapes, parameter counts (pinned and derived), gradients, errors."""

import pytest
import torch

from sphereface_lib.nets import (
    STAGE_WIDTHS,
    UNITS_PER_STAGE,
    build_net,
    count_multiply_adds,
    count_parameters,
)

# Pinned: a change to the architecture must be deliberate.
PINNED_PARAMETERS = {
    4: 12_562_496,
    10: 15_219_264,
    20: 22_670_656,
    36: 32_778_816,
    64: 48_200_512,
}


def derived_parameters(depth: int, in_channels: int = 3, fc_inputs: int = 512 * 7 * 6) -> int:
    """Parameters from the paper's description: 3x3 convs with bias, channel-wise PReLU, fc5."""
    total, channels = 0, in_channels
    for width, units in zip(STAGE_WIDTHS, UNITS_PER_STAGE[depth], strict=True):
        total += 9 * channels * width + width + width  # stride-2 conv, its bias, its PReLU
        total += units * 2 * (9 * width * width + width + width)
        channels = width
    return total + fc_inputs * 512 + 512


@pytest.mark.parametrize("depth", sorted(PINNED_PARAMETERS))
def test_parameter_counts(depth):
    net = build_net(f"sphere{depth}", 512)
    assert count_parameters(net) == PINNED_PARAMETERS[depth] == derived_parameters(depth)


@pytest.mark.parametrize("depth", [4, 10, 20, 36, 64])
def test_layer_count_matches_the_name(depth):
    net = build_net(f"sphere{depth}", 512)
    convs = sum(isinstance(m, torch.nn.Conv2d) for m in net.modules())
    assert convs == depth  # the paper counts convolutional layers (4 stride-2 + 2 per unit)


@pytest.mark.parametrize("depth", [4, 20])
def test_forward_shape_and_every_parameter_gets_a_gradient(depth):
    torch.manual_seed(0)
    net = build_net(f"sphere{depth}", 512)
    features = net(torch.randn(2, 3, 112, 96))
    assert features.shape == (2, 512)
    features.square().sum().backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("depth", [10, 36, 64])
def test_forward_shape_of_the_deeper_nets(depth):
    net = build_net(f"sphere{depth}", 512)
    with torch.no_grad():
        assert net(torch.randn(1, 3, 112, 96)).shape == (1, 512)


def test_multiply_adds_of_sphereface_20():
    # Convolutions at 56x48, 28x24, 14x12, 7x6 plus fc5, counted by hand.
    expected = 0
    channels, (height, width) = 3, (112, 96)
    for stage_width, units in zip(STAGE_WIDTHS, UNITS_PER_STAGE[20], strict=True):
        height, width = (height + 1) // 2, (width + 1) // 2
        expected += height * width * stage_width * 9 * channels
        expected += units * 2 * height * width * stage_width * 9 * stage_width
        channels = stage_width
    expected += 512 * 7 * 6 * 512
    assert count_multiply_adds(build_net("sphere20", 512), (3, 112, 96)) == expected


def test_wrong_input_shape_is_a_value_error():
    with pytest.raises(ValueError, match=r"expects images of shape \(N, 3, 112, 96\)"):
        build_net("sphere4", 512)(torch.randn(1, 3, 64, 64))


def test_unknown_depth_or_net_is_a_value_error():
    from sphereface_lib.nets import SphereNet

    with pytest.raises(ValueError, match="depth must be one of"):
        SphereNet(depth=18)
    with pytest.raises(ValueError, match="unknown network"):
        build_net("resnet50", 2)
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer"):
        build_net("sphere20", 0)
