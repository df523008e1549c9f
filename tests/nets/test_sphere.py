"""The SphereFace family: parameter counts (pinned and derived), layers, multiply-adds, errors
(shapes and gradients of every net: test_registry.py)."""

import pytest
import torch

from sphereface_lib.nets import (
    RELEASED_SPHERE64_UNITS,
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


def derived_parameters(
    depth: int, in_channels: int = 3, fc_inputs: int = 512 * 7 * 6, units_per_stage=None
) -> int:
    """Parameters from the paper's description: 3x3 convs with bias, channel-wise PReLU, fc5."""
    total, channels = 0, in_channels
    units_per_stage = units_per_stage or UNITS_PER_STAGE[depth]
    for width, units in zip(STAGE_WIDTHS, units_per_stage, strict=True):
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


def test_sphereface_64_as_in_the_paper_and_as_released():
    """make_spherenet.py, Table 2 and OpenSphere: (3, 8, 16, 3), 64 convolutions; the released
    sphereface_64_model.prototxt: conv1_1-1_7, conv2_1-2_15, conv3_1-3_33, conv4_1-4_7, that is
    (3, 7, 16, 3) units and 62 convolutions. Counts without the classifier (fc6)."""
    paper = build_net("sphere64", 512)
    released = build_net("sphere64_released", 512)
    assert RELEASED_SPHERE64_UNITS == (3, 7, 16, 3)
    convolutions_per_stage = [1 + 2 * units for units in RELEASED_SPHERE64_UNITS]
    assert convolutions_per_stage == [7, 15, 33, 7]  # the prototxt's last conv of each stage
    assert count_parameters(paper) == 48_200_512 == derived_parameters(64)
    assert (
        count_parameters(released)
        == 47_905_088
        == derived_parameters(64, units_per_stage=(3, 7, 16, 3))
    )
    one_unit_of_128 = 2 * (9 * 128 * 128 + 128 + 128)  # two convolutions and their PReLUs
    assert count_parameters(paper) - count_parameters(released) == one_unit_of_128
    assert sum(isinstance(m, torch.nn.Conv2d) for m in paper.modules()) == 64
    assert sum(isinstance(m, torch.nn.Conv2d) for m in released.modules()) == 62
    assert (paper.num_convolutions, released.num_convolutions) == (64, 62)
    with torch.no_grad():
        assert released(torch.zeros(1, 3, 112, 96)).shape == (1, 512)


def test_units_must_be_four_counts():
    from sphereface_lib.nets import SphereNet

    with pytest.raises(ValueError, match="units must give a count >= 0"):
        SphereNet(64, units=(3, 8, 16))
    with pytest.raises(ValueError, match="units must give a count >= 0"):
        SphereNet(64, units=(3, -1, 16, 3))


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
