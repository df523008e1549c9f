"""The modified softmax head: ||W_j|| = 1 and no bias, so logits are ||x|| cos(theta_j) (Eq. 5)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sphereface_lib.heads.base import MarginHead

WEIGHT_NORM_EPS = 1e-12  # as F.normalize: a zero weight row gives zero logits, not NaN


class ModifiedSoftmaxHead(MarginHead):
    """Cosine logits scaled by the feature norm; ``labels`` and ``lam`` change nothing."""

    def normalized_weight(self) -> torch.Tensor:
        """(C, D) rows of unit length (for plots); forward never changes the parameter itself."""
        return F.normalize(self.weight, dim=1)

    def logits(
        self, features: torch.Tensor, labels: torch.Tensor | None, lam: float
    ) -> torch.Tensor:
        # (x W^T) / ||W_j|| equals x (W_j / ||W_j||)^T but divides the (N, C) product instead of
        # normalising the (C, D) weight: less work when D > N, as for 512-d face features.
        # A product, not a quotient: mul saves its inputs, not its output, so margin heads may
        # add to the returned logits in place.
        inverse_norm = 1.0 / self.weight.norm(dim=1).clamp_min(WEIGHT_NORM_EPS)
        return (features @ self.weight.T) * inverse_norm  # ||x|| cos theta_j, Eq. 5
