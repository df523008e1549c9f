"""The one seeding helper, called at the top of every notebook and script."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a CPU generator seeded likewise."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds legacy global-state users too
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def derived_generator(*keys: int) -> torch.Generator:
    """A CPU generator seeded by a tuple of integers (e.g. seed, epoch).

    Randomness drawn from (seed, epoch) or (seed, step) rather than from one running stream makes
    a resumed run draw exactly what the uninterrupted run would have drawn.
    """
    value = 0
    for key in keys:
        value = (value * 1_000_003 + int(key)) % (2**63 - 1)
    return torch.Generator().manual_seed(value)
