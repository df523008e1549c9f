"""The mathematics of A-Softmax as pure functions of tensors and integers.

Liu et al., *SphereFace: Deep Hypersphere Embedding for Face Recognition*, CVPR 2017
(arXiv 1704.08063), Section 3.2 (Eqs. 6 and 7, arXiv v4 numbering) and the annealing
of the official Caffe code.

Legend: ``theta`` angles in radians in [0, pi]; ``cos_theta`` their cosines in [-1, 1];
``m`` the integer angular margin (m >= 1); any tensor shape, broadcast elementwise.
"""

from __future__ import annotations

import math

import torch


def check_margin(margin: object) -> int:
    """Return ``margin`` as an int, or raise ``ValueError`` if it is not an integer >= 1."""
    if isinstance(margin, bool) or not isinstance(margin, int | float):
        raise ValueError(
            f"margin must be an integer >= 1 (the paper uses m = 4), got {margin!r} "
            f"of type {type(margin).__name__}"
        )
    if not math.isfinite(margin) or margin != int(margin) or margin < 1:
        raise ValueError(
            f"margin must be an integer >= 1 (the paper uses m = 4), got {margin!r}: "
            "A-Softmax multiplies the angle by m, and psi(theta) is only monotonic for integer m"
        )
    return int(margin)


def cos_m_theta(cos_theta: torch.Tensor, m: int) -> torch.Tensor:
    """cos(m*theta) as the Chebyshev polynomial T_m(cos theta); no ``acos`` on the gradient path.

    T_0 = 1, T_1 = c, T_{n+1} = 2c T_n - T_{n-1}; the official code writes out m = 1..4.
    """
    m = check_margin(m)
    previous, current = torch.ones_like(cos_theta), cos_theta
    for _ in range(m - 1):
        previous, current = current, 2 * cos_theta * current - previous
    return current


def margin_interval(cos_theta: torch.Tensor, m: int) -> torch.Tensor:
    """k = floor(m*theta/pi) computed from cos theta: the number of j in 1..m with theta >= j*pi/m.

    Returned in the dtype of ``cos_theta`` (it multiplies a sign and a shift in Eq. 7).
    """
    m = check_margin(m)
    k = torch.zeros_like(cos_theta)
    for j in range(1, m + 1):
        # theta >= j*pi/m  <=>  cos theta <= cos(j*pi/m), since cos decreases on [0, pi].
        k = k + (cos_theta <= math.cos(j * math.pi / m)).to(cos_theta.dtype)
    return k


def psi_from_cos(cos_theta: torch.Tensor, m: int) -> torch.Tensor:
    """psi(theta) of Eq. 7 from cos theta, as the heads use it (differentiable in cos theta)."""
    k = margin_interval(cos_theta, m)
    sign = 1 - 2 * torch.remainder(k, 2)  # (-1)^k
    return sign * cos_m_theta(cos_theta, m) - 2 * k  # Eq. 7


def psi(theta: torch.Tensor, m: int) -> torch.Tensor:
    """psi(theta) = (-1)^k cos(m theta) - 2k, k = floor(m theta / pi), theta in [0, pi] (Eq. 7).

    The direct form, for plots and tests; the heads use :func:`psi_from_cos`.
    """
    m = check_margin(m)
    if not torch.is_tensor(theta):
        theta = torch.as_tensor(theta, dtype=torch.get_default_dtype())
    if theta.numel() and (theta.min() < 0 or theta.max() > math.pi):
        raise ValueError("psi is defined for theta in [0, pi]; got values outside that interval")
    # The angle is clamped so that k = m only at theta = pi, where float rounding of m*theta/pi
    # could otherwise push k past m.
    k = torch.clamp(torch.floor(m * theta / math.pi), max=m)
    sign = 1 - 2 * torch.remainder(k, 2)
    return sign * torch.cos(m * theta) - 2 * k  # Eq. 7


def annealed_lambda(
    iteration: int,
    base: float = 1000.0,
    gamma: float = 0.12,
    power: float = 1.0,
    lambda_min: float = 5.0,
) -> float:
    """lambda = max(lambda_min, base * (1 + gamma * iteration)^(-power)), the official annealing.

    ``iteration`` is the official layer's counter: it starts at 0 (``iteration: 0`` in
    train/code/sphereface_model.prototxt) and is incremented *before* lambda is computed
    (tools/caffe-sphereface/src/caffe/layers/margin_inner_product_layer.cpp, lines 111-117),
    so the first training batch sees iteration 1, lambda = 1000 / 1.12 = 892.86; see
    ``train.lambda_at`` for the mapping from the training loop's step. Defaults are those of
    the official prototxt (base 1000, gamma 0.12, power 1, lambda_min 5): lambda is above its
    floor up to iteration 1,658 and equal to it from iteration 1,659 on. The A-Softmax target
    logit is (lambda*|x|cos + |x|psi)/(1 + lambda), so lambda starts large (plain softmax) and
    decays towards the margin.
    """
    if iteration < 0:
        raise ValueError(f"iteration must be >= 0, got {iteration}")
    if base < 0 or lambda_min < 0:
        raise ValueError(
            f"base and lambda_min must be >= 0, got base={base}, lambda_min={lambda_min}"
        )
    return max(lambda_min, base * (1.0 + gamma * iteration) ** (-power))
