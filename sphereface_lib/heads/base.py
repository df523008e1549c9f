"""What every classification head shares: the class weights and the checks on its inputs.

Contract: ``head(features, labels=None, lam=0.0) -> logits``; cross-entropy goes on top.
Legend: N samples, D = ``embedding_dim``, C = ``num_classes``.

Precision: a head computes the cosine, psi and the logits in the dtype of its weight (float32
unless the head was converted, e.g. with ``.double()``), whatever the autocast state. Features
of another floating dtype (bfloat16 or float16 from a network under autocast, float64) are cast
to it, and gradients flow back in the features' own dtype. Under bf16 autocast the cosine of a
bf16 matrix product has about three significant digits, and psi(theta) with m = 4 multiplies
that error near the interval boundaries; the backbone may run in bf16, the head does not.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn


class MarginHead(nn.Module):
    """Base class: ``.weight`` of shape (C, D) and input validation; subclasses compute logits."""

    def __init__(self, embedding_dim: int, num_classes: int) -> None:
        super().__init__()
        for name, value in (("embedding_dim", embedding_dim), ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2 to classify, got {num_classes}")
        self.embedding_dim = embedding_dim
        self.num_classes = num_classes
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_dim))
        # Xavier-uniform, as the reference implementations initialise the last layer.
        bound = math.sqrt(6.0 / (num_classes + embedding_dim))
        nn.init.uniform_(self.weight, -bound, bound)

    def extra_repr(self) -> str:
        return f"embedding_dim={self.embedding_dim}, num_classes={self.num_classes}"

    def check_inputs(
        self, features: torch.Tensor, labels: torch.Tensor | None, lam: object
    ) -> float:
        """Raise ``ValueError`` with a readable message for inputs the head cannot use.

        features: (N, D) floating point; labels: (N,) integer in [0, C); lam: a real number
        >= 0 (a Python or NumPy number, or a 0-d tensor), returned as a float.
        """
        if not torch.is_tensor(features) or features.dim() != 2:
            shape = tuple(features.shape) if torch.is_tensor(features) else type(features)
            raise ValueError(
                f"features must be a 2-D tensor of shape (N, {self.embedding_dim}), got {shape}"
            )
        if features.shape[1] != self.embedding_dim:
            raise ValueError(
                f"features have dimension {features.shape[1]} but this head was built for "
                f"embedding_dim={self.embedding_dim}; build the head with "
                f"embedding_dim={features.shape[1]} or fix the network's last layer"
            )
        if not features.is_floating_point():
            raise ValueError(f"features must be floating point, got {features.dtype}")
        if not bool(torch.isfinite(features).all()):
            raise ValueError(
                "features contain NaN or infinity; the network upstream diverged "
                "(lower the learning rate, or resume from an earlier checkpoint)"
            )
        value = _real_scalar(lam)
        if value is None or not math.isfinite(value) or value < 0:
            raise ValueError(
                f"lam must be a finite real number >= 0 (a Python or NumPy number, or a 0-d "
                f"tensor), got {lam!r}"
            )
        if labels is None:
            return value
        if not torch.is_tensor(labels) or labels.dim() != 1 or labels.shape[0] != len(features):
            shape = tuple(labels.shape) if torch.is_tensor(labels) else type(labels)
            raise ValueError(
                f"labels must be a 1-D tensor of length N={len(features)} (one per feature row), "
                f"got {shape}"
            )
        if labels.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
            raise ValueError(f"labels must be an integer tensor, got {labels.dtype}")
        if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise ValueError(
                f"labels must lie in [0, {self.num_classes - 1}] for num_classes="
                f"{self.num_classes}; got values from {int(labels.min())} to {int(labels.max())}"
            )
        return value

    def forward(
        self, features: torch.Tensor, labels: torch.Tensor | None = None, lam: object = 0.0
    ) -> torch.Tensor:
        """features: (N, D), labels: (N,) or None -> logits (N, C) in the weight's dtype.

        Features are cast to the weight's dtype and autocast is off inside (module docstring).
        """
        value = self.check_inputs(features, labels, lam)
        device_type = features.device.type
        if torch.amp.is_autocast_available(device_type) and torch.is_autocast_enabled(device_type):
            with torch.autocast(device_type, enabled=False):
                return self.logits(features.to(self.weight.dtype), labels, value)
        return self.logits(features.to(self.weight.dtype), labels, value)

    def logits(
        self, features: torch.Tensor, labels: torch.Tensor | None, lam: float
    ) -> torch.Tensor:
        raise NotImplementedError


def _real_scalar(value: object) -> float | None:
    """``value`` as a float if it is one real number (not a bool), else None."""
    if torch.is_tensor(value):
        if value.dim() != 0 or value.is_complex() or value.dtype == torch.bool:
            return None
        return float(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)
