"""Heads on normalised features with a fixed scale s: CosFace and ArcFace, for comparison.

CosFace: Wang et al., *CosFace: Large Margin Cosine Loss for Deep Face Recognition*, CVPR 2018
(arXiv 1801.09414), Eq. 4: target s (cos theta_y - m).
ArcFace: Deng et al., *ArcFace: Additive Angular Margin Loss for Deep Face Recognition*,
CVPR 2019 (arXiv 1801.07698), Eq. 3: target s cos(theta_y + m).
Unlike A-Softmax, the feature norm is replaced by s, so every logit is s cos theta_j.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from sphereface_lib.heads.target_margin import TargetMarginHead


def _check_positive(name: str, value: float, upper: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < upper:
        raise ValueError(f"{name} must be a number in (0, {upper}), got {value!r}")
    return float(value)


class NormalizedMarginHead(TargetMarginHead):
    """Features scaled to norm ``scale`` before the cosine logits; ``margin`` is additive."""

    def __init__(
        self, embedding_dim: int, num_classes: int, scale: float, margin: float, max_margin: float
    ) -> None:
        super().__init__(embedding_dim, num_classes)
        self.scale = _check_positive("scale", scale)
        self.margin = _check_positive("margin", margin, max_margin)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, scale={self.scale}, margin={self.margin}"

    def logits(
        self, features: torch.Tensor, labels: torch.Tensor | None, lam: float
    ) -> torch.Tensor:
        return super().logits(self.scale * F.normalize(features, dim=1), labels, lam)


class CosFaceHead(NormalizedMarginHead):
    """Large margin cosine loss: f(cos) = cos - m (CosFace Eq. 4)."""

    def __init__(
        self, embedding_dim: int, num_classes: int, scale: float = 30.0, margin: float = 0.35
    ) -> None:
        super().__init__(embedding_dim, num_classes, scale, margin, max_margin=2.0)

    def margin_cos(self, cos_theta: torch.Tensor) -> torch.Tensor:
        return cos_theta - self.margin


class ArcFaceHead(NormalizedMarginHead):
    """Additive angular margin: f(cos) = cos(theta + m) (ArcFace Eq. 3).

    Past theta = pi - m, cos(theta + m) would rise again; there, as in the ArcFace authors'
    code, the target continues linearly, cos theta - m sin(m), so f stays decreasing.
    """

    def __init__(
        self, embedding_dim: int, num_classes: int, scale: float = 30.0, margin: float = 0.5
    ) -> None:
        super().__init__(embedding_dim, num_classes, scale, margin, max_margin=math.pi / 2)

    def margin_cos(self, cos_theta: torch.Tensor) -> torch.Tensor:
        # The clamp keeps the gradient of the square root finite at cos theta = +-1.
        sin_theta = (1.0 - cos_theta * cos_theta).clamp_min(1e-12).sqrt()
        shifted = cos_theta * math.cos(self.margin) - sin_theta * math.sin(self.margin)
        fallback = cos_theta - self.margin * math.sin(self.margin)
        return torch.where(cos_theta > math.cos(math.pi - self.margin), shifted, fallback)
