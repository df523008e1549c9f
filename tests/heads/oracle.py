"""An independent, naive float64 implementation of the three heads: a loop and ``math.acos``."""

from __future__ import annotations

import math

import torch

from tests.maths.oracle import psi_loop


def naive_logits(
    features: torch.Tensor,
    weight: torch.Tensor,
    kind: str,
    labels: torch.Tensor | None = None,
    margin: int = 4,
    lam: float = 0.0,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    x = features.double().tolist()
    w = weight.double().tolist()
    out = torch.zeros(len(x), len(w), dtype=torch.float64)
    for i, xi in enumerate(x):
        x_norm = math.sqrt(sum(v * v for v in xi))
        for j, wj in enumerate(w):
            dot = sum(a * b for a, b in zip(xi, wj, strict=True))
            if kind == "original":
                out[i, j] = dot + (0.0 if bias is None else float(bias[j]))
                continue
            w_norm = math.sqrt(sum(v * v for v in wj))
            cos = max(-1.0, min(1.0, dot / (w_norm * x_norm)))
            if kind == "angular" and labels is not None and j == int(labels[i]):
                theta = math.acos(cos)
                out[i, j] = (lam * x_norm * cos + x_norm * psi_loop(theta, margin)) / (1 + lam)
            else:
                out[i, j] = x_norm * cos
    return out


def naive_normalized_logits(
    features: torch.Tensor,
    weight: torch.Tensor,
    kind: str,
    labels: torch.Tensor | None,
    scale: float,
    margin: float,
    lam: float = 0.0,
) -> torch.Tensor:
    """CosFace (s(cos - m)) and ArcFace (s cos(theta + m)) written out with ``math.acos``."""
    x = features.double().tolist()
    w = weight.double().tolist()
    out = torch.zeros(len(x), len(w), dtype=torch.float64)
    for i, xi in enumerate(x):
        x_norm = math.sqrt(sum(v * v for v in xi))
        for j, wj in enumerate(w):
            w_norm = math.sqrt(sum(v * v for v in wj))
            cos = max(
                -1.0, min(1.0, sum(a * b for a, b in zip(xi, wj, strict=True)) / (w_norm * x_norm))
            )
            value = cos
            if labels is not None and j == int(labels[i]):
                theta = math.acos(cos)
                if kind == "cosface":
                    target = cos - margin
                elif theta + margin <= math.pi:
                    target = math.cos(theta + margin)
                else:
                    target = cos - margin * math.sin(margin)
                value = (lam * cos + target) / (1 + lam)
            out[i, j] = scale * value
    return out
