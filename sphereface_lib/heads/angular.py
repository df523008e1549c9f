"""The A-Softmax head (SphereFace): the target logit ||x|| psi(theta_y) (paper Eq. 7).

With the annealing of the official code the target is
(lambda ||x|| cos theta_y + ||x|| psi(theta_y)) / (1 + lambda); lambda = 0 is pure A-Softmax.
"""

from __future__ import annotations

import torch

from sphereface_lib.heads.target_margin import TargetMarginHead
from sphereface_lib.maths.margins import check_margin, psi_from_cos


class AngularSoftmaxHead(TargetMarginHead):
    """A-Softmax with integer margin m (default 4, the paper's choice)."""

    def __init__(self, embedding_dim: int, num_classes: int, margin: int = 4) -> None:
        super().__init__(embedding_dim, num_classes)
        self.margin = check_margin(margin)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, margin={self.margin}"

    def margin_cos(self, cos_theta: torch.Tensor) -> torch.Tensor:
        return psi_from_cos(cos_theta, self.margin)  # Eq. 7
