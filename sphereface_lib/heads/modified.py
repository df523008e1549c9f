"""The modified softmax head: ||W_j|| = 1 and no bias, so logits are ||x|| cos(theta_j) (Eq. 3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sphereface_lib.heads.base import MarginHead

# Below this feature norm the angle is undefined; dividing by it keeps gradients finite.
NORM_EPS = 1e-12


class ModifiedSoftmaxHead(MarginHead):
    """Cosine logits scaled by the feature norm; subclasses change the target logit only.

    A subclass overrides :meth:`target_cos`, the margin-carrying replacement of cos(theta_y).
    """

    def normalized_weight(self) -> torch.Tensor:
        """(C, D) rows of unit length, computed in forward so the parameter itself is untouched."""
        return F.normalize(self.weight, dim=1)

    def target_cos(self, cos_theta: torch.Tensor, lam: float) -> torch.Tensor:
        """cos theta_y: (N,) -> the value that replaces it in the target logit (identity here)."""
        return cos_theta

    def logits(
        self, features: torch.Tensor, labels: torch.Tensor | None, lam: float
    ) -> torch.Tensor:
        cosine_logits = features @ self.normalized_weight().T  # ||x|| cos theta_j, Eq. 3
        if labels is None:
            return cosine_logits
        labels = labels.long()
        norm = features.norm(dim=1).clamp_min(NORM_EPS)
        cos_y = (cosine_logits.gather(1, labels[:, None])[:, 0] / norm).clamp(-1.0, 1.0)
        # Adding ||x|| (target - cos) rather than overwriting keeps the exact modified-softmax
        # logit when the target equals cos theta (m = 1, lambda = 0), and costs O(N), not O(NC).
        correction = norm * (self.target_cos(cos_y, lam) - cos_y)
        return cosine_logits.scatter_add(1, labels[:, None], correction[:, None])
