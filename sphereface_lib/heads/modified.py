"""The modified softmax head: ||W_j|| = 1 and no bias, so logits are ||x|| cos(theta_j) (Eq. 5)."""

from __future__ import annotations

import torch

from sphereface_lib.heads.base import MarginHead
from sphereface_lib.heads.cosine import cosine_logits


class ModifiedSoftmaxHead(MarginHead):
    """Cosine logits scaled by the feature norm; ``labels`` and ``lam`` change nothing."""

    def logits(
        self, features: torch.Tensor, labels: torch.Tensor | None, lam: float
    ) -> torch.Tensor:
        # (x W^T) / ||W_j|| rather than x (W_j / ||W_j||)^T: it scales the (N, C) product
        # instead of the (C, D) weight, less work when D > N, as for 512-d face features.
        return cosine_logits(features, self.weight)  # ||x|| cos theta_j, Eq. 5
