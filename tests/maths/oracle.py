"""The one psi oracle of the tests: the paper's formula in plain Python, a loop's worth of code
that shares nothing with the library (no Chebyshev form, no tensors)."""

from __future__ import annotations

import math


def psi_loop(theta: float, m: int) -> float:
    """psi(theta) = (-1)^k cos(m theta) - 2k on [k pi / m, (k + 1) pi / m] (the paper's Eq. 7)."""
    k = min(m, math.floor(m * theta / math.pi))
    return (-1) ** k * math.cos(m * theta) - 2 * k
