"""Shared by the margin heads: replace the target logit's cos(theta_y) by a margin function.

With labels, the target logit becomes ||x|| (lambda cos theta_y + f(cos theta_y)) / (1 + lambda),
the annealed form of the official SphereFace code (lambda = 0: the pure margin f); every other
logit stays ||x|| cos theta_j. Subclasses define f in :meth:`margin_cos`.
"""

from __future__ import annotations

import torch

from sphereface_lib.heads.cosine import cosine_logits_with_target
from sphereface_lib.heads.modified import ModifiedSoftmaxHead

# Below this feature norm the angle is undefined; dividing by it keeps gradients finite.
NORM_EPS = 1e-12


class TargetMarginHead(ModifiedSoftmaxHead):
    """A cosine head whose target logit carries a margin; subclasses implement ``margin_cos``."""

    def margin_cos(self, cos_theta: torch.Tensor) -> torch.Tensor:
        """cos theta_y (N,) -> the margin function f(cos theta_y) (N,)."""
        raise NotImplementedError

    def logits(
        self, features: torch.Tensor, labels: torch.Tensor | None, lam: float
    ) -> torch.Tensor:
        if labels is None:
            return super().logits(features, labels, lam)
        labels = labels.long()
        cosine_logits, target_logit = cosine_logits_with_target(features, self.weight, labels)
        norm = features.norm(dim=1).clamp_min(NORM_EPS)
        cos_y = (target_logit / norm).clamp(-1.0, 1.0)
        target = (lam * cos_y + self.margin_cos(cos_y)) / (1.0 + lam)
        # Adding ||x|| (target - cos) rather than overwriting keeps the exact cosine logit when
        # the target equals cos theta (m = 1, lambda = 0), and costs O(N), not O(NC).
        correction = norm * (target - cos_y)
        # In place: backward does not need the logits, and a copy of (N, C) would cost time.
        return cosine_logits.scatter_add_(1, labels[:, None], correction[:, None])
