"""The original softmax head: logits W x + b (paper Eqs. 1-4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sphereface_lib.heads.base import MarginHead


class OriginalSoftmaxHead(MarginHead):
    """Unconstrained weights with a bias; ``labels`` and ``lam`` change nothing."""

    def __init__(self, embedding_dim: int, num_classes: int) -> None:
        super().__init__(embedding_dim, num_classes)
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def logits(
        self, features: torch.Tensor, labels: torch.Tensor | None, lam: float
    ) -> torch.Tensor:
        return F.linear(features, self.weight, self.bias)  # W_j^T x + b_j (Eqs. 1-4)
