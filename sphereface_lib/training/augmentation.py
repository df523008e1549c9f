"""Random changes to the training images of a step, drawn from a generator seeded by
(seed, step), so that a resumed run draws exactly what the uninterrupted run drew.

Digits are shifted by whole pixels; faces are flipped left to right, as SphereFace's training
does (Liu et al., CVPR 2017, Section 4.1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sphereface_lib.common.seeding import derived_generator
from sphereface_lib.data.faces import random_horizontal_flip

SHIFT_PIXELS = 2
_AUGMENTATION_STREAM = 2  # the generator key of augmentation (1 is the data order)


def shift_images(images: torch.Tensor, generator: torch.Generator, pixels: int) -> torch.Tensor:
    """Translate each image (N, 1, H, W) by a random whole-pixel offset in [-pixels, pixels]."""
    count, _, height, width = images.shape
    background = float(images.amin())
    padded = F.pad(images, (pixels, pixels, pixels, pixels), value=background)
    offsets = torch.randint(0, 2 * pixels + 1, (2, count), generator=generator).to(images.device)
    rows = torch.arange(height, device=images.device)[None, :] + offsets[0][:, None]
    cols = torch.arange(width, device=images.device)[None, :] + offsets[1][:, None]
    batch = torch.arange(count, device=images.device)[:, None, None]
    return padded[batch, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def augment(images: torch.Tensor, kind: str, seed: int, step: int) -> torch.Tensor:
    """The images (N, C, H, W) of the global batch of ``step``, changed as ``kind`` says
    ("shift" or "flip"); drawn for the whole global batch, so every rank sees what one
    process would."""
    generator = derived_generator(seed, _AUGMENTATION_STREAM, step)
    if kind == "shift":
        return shift_images(images, generator, SHIFT_PIXELS)
    return random_horizontal_flip(images, 0.5, generator)
