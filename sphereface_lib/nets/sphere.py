"""The SphereFace residual networks (paper Table 2): 4, 10, 20, 36 and 64 layers.

Liu et al., CVPR 2017, Section 4.1 and Table 2: four stages of widths 64/128/256/512, each opened
by a stride-2 3x3 convolution, followed by residual units of two 3x3 convolutions; PReLU after
every convolution, no batch normalisation; a fully connected layer gives the 512-d feature.
Input: (N, 3, 112, 96) faces normalised with (pixel - 127.5) / 128.
"""

from __future__ import annotations

import torch
from torch import nn

# Residual units per stage for each depth (paper Table 2; the official generator
# train/code/make_spherenet.py writes [1, 2, 4, 1], [2, 4, 8, 2] and [3, 8, 16, 3] for 20, 36
# and 64 layers, as does OpenSphere's model/backbone/sfnet.py).
UNITS_PER_STAGE: dict[int, tuple[int, int, int, int]] = {
    4: (0, 0, 0, 0),
    10: (0, 1, 2, 0),
    20: (1, 2, 4, 1),
    36: (2, 4, 8, 2),
    64: (3, 8, 16, 3),
}
# The SphereFace-64 the official repository released
# (train/model_lib/Sphereface-64/sphereface_64_model.prototxt and _deploy.prototxt) has 7 units
# in its conv2_x stage (conv2_2 ... conv2_15), not 8: 62 convolutions and 47,905,088 parameters
# without the classifier, against 64 and 48,200,512 for (3, 8, 16, 3).
RELEASED_SPHERE64_UNITS: tuple[int, int, int, int] = (3, 7, 16, 3)
STAGE_WIDTHS = (64, 128, 256, 512)


def conv3x3(in_channels: int, out_channels: int, stride: int, init_std: float | None) -> nn.Conv2d:
    """3x3 convolution with bias 0 and Xavier weights, or N(0, init_std) weights when given.

    The official prototxt initialises stride-2 convolutions with Xavier and residual ones
    from N(0, 0.01).
    """
    conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1)
    if init_std is None:
        nn.init.xavier_uniform_(conv.weight)
    else:
        nn.init.normal_(conv.weight, std=init_std)
    nn.init.constant_(conv.bias, 0.0)  # type: ignore[arg-type]  # always built with a bias
    return conv


class ResidualUnit(nn.Module):
    """x + PReLU(conv(PReLU(conv(x)))), both 3x3 at constant width."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv3x3(channels, channels, 1, init_std=0.01),
            nn.PReLU(channels),
            conv3x3(channels, channels, 1, init_std=0.01),
            nn.PReLU(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SphereNet(nn.Module):
    """SphereFace-``depth``: images (N, C_in, H, W) -> features (N, embedding_dim)."""

    def __init__(
        self,
        depth: int = 20,
        embedding_dim: int = 512,
        in_channels: int = 3,
        input_size: tuple[int, int] = (112, 96),
        base_width: int = 64,
        units: tuple[int, int, int, int] | None = None,
    ) -> None:
        """``base_width`` 64 is the paper's; 32 (the ``_half`` nets) trains ~3x faster on a CPU.

        ``units``, residual units per stage, replaces Table 2's for ``depth`` (which then only
        names the net): ``RELEASED_SPHERE64_UNITS`` builds the released SphereFace-64.
        """
        super().__init__()
        if depth not in UNITS_PER_STAGE:
            raise ValueError(
                f"SphereFace depth must be one of {sorted(UNITS_PER_STAGE)} (paper Table 2), "
                f"got {depth!r}"
            )
        if units is None:
            units = UNITS_PER_STAGE[depth]
        elif len(units) != len(STAGE_WIDTHS) or not all(
            isinstance(count, int) and not isinstance(count, bool) and count >= 0 for count in units
        ):
            raise ValueError(
                f"units must give a count >= 0 of residual units for each of the "
                f"{len(STAGE_WIDTHS)} stages, e.g. (3, 8, 16, 3); got {units!r}"
            )
        self.depth = depth
        self.units = tuple(units)
        # 3x3 convolutions: one stride-2 per stage and two per residual unit.
        self.num_convolutions = len(STAGE_WIDTHS) + 2 * sum(self.units)
        self.input_size = input_size
        self.in_channels = in_channels
        layers: list[nn.Module] = []
        channels = in_channels
        height, width = input_size
        widths = [width * base_width // STAGE_WIDTHS[0] for width in STAGE_WIDTHS]
        for width_out, count in zip(widths, self.units, strict=True):
            layers += [conv3x3(channels, width_out, 2, init_std=None), nn.PReLU(width_out)]
            layers += [ResidualUnit(width_out) for _ in range(count)]
            channels = width_out
            height, width = (height + 1) // 2, (width + 1) // 2
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(channels * height * width, embedding_dim)  # "fc5"
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.constant_(self.fc.bias, 0.0)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1:] != (self.in_channels, *self.input_size):
            raise ValueError(
                f"SphereFace-{self.depth} expects images of shape (N, {self.in_channels}, "
                f"{self.input_size[0]}, {self.input_size[1]}), got {tuple(images.shape)}"
            )
        return self.fc(self.body(images).flatten(1))
