"""Architecture summaries and per-stage shapes, read off built SphereFace networks."""

import pytest
import torch

from sphereface_lib.nets import UNITS_PER_STAGE, SphereNet, build_net, count_parameters
from sphereface_lib.nets.summary import stage_shapes, stages, summarize


@pytest.mark.parametrize("depth", sorted(UNITS_PER_STAGE))
def test_summary_counts_agree_with_table_2(depth):
    summary = summarize(SphereNet(depth, embedding_dim=16, base_width=8))
    units = UNITS_PER_STAGE[depth]
    assert summary.depth == depth
    assert summary.conv_layers == depth == 4 + 2 * sum(units)  # the paper counts 3x3 convs
    assert summary.units_per_stage == units
    assert summary.stage_widths == (8, 16, 32, 64)
    assert summary.stage_strides == (2, 2, 2, 2)


def test_summary_of_sphere4_at_full_width():
    net = build_net("sphere4", 512)
    summary = summarize(net)
    assert summary.parameters == count_parameters(net)
    # Convolutions: output positions x (in_channels x 9) x out_channels; then fc5.
    expected = (
        56 * 48 * 3 * 9 * 64
        + 28 * 24 * 64 * 9 * 128
        + 14 * 12 * 128 * 9 * 256
        + 7 * 6 * 256 * 9 * 512
        + 512 * 7 * 6 * 512
    )
    assert summary.multiply_adds == expected


def test_stage_shapes_halve_the_map_at_every_stage():
    net = SphereNet(10, embedding_dim=5, base_width=8)
    net.train()
    shapes = stage_shapes(net, torch.zeros(2, 3, 112, 96))
    assert shapes == [
        ("input", (2, 3, 112, 96)),
        ("stage 1", (2, 8, 56, 48)),
        ("stage 2", (2, 16, 28, 24)),
        ("stage 3", (2, 32, 14, 12)),
        ("stage 4", (2, 64, 7, 6)),
        ("flattened", (2, 64 * 7 * 6)),
        ("features", (2, 5)),
    ]
    assert net.training  # mode restored
    assert not net.fc._forward_hooks  # hooks removed


def test_stages_group_each_stride_two_convolution_with_its_units():
    net = SphereNet(20, embedding_dim=4, in_channels=1, input_size=(28, 28), base_width=8)
    grouped = stages(net)
    assert [len(stage) for stage in grouped] == [2 + units for units in UNITS_PER_STAGE[20]]
    assert stage_shapes(net, torch.zeros(1, 1, 28, 28))[4] == ("stage 4", (1, 64, 2, 2))
