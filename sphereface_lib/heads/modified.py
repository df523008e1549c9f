"""The modified softmax head: ||W_j|| = 1 and no bias, so logits are ||x|| cos(theta_j) (Eq. 5)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sphereface_lib.heads.base import MarginHead


class ModifiedSoftmaxHead(MarginHead):
    """Cosine logits scaled by the feature norm; ``labels`` and ``lam`` change nothing."""

    def normalized_weight(self) -> torch.Tensor:
        """(C, D) rows of unit length, computed in forward so the parameter itself is untouched."""
        return F.normalize(self.weight, dim=1)

    def logits(
        self, features: torch.Tensor, labels: torch.Tensor | None, lam: float
    ) -> torch.Tensor:
        return features @ self.normalized_weight().T  # ||x|| cos theta_j, Eq. 5
