"""Classification heads: features (N, D) -> logits (N, C); cross-entropy goes on top.

``build_head(kind, embedding_dim, num_classes, **options)`` builds one by name.
"""

from __future__ import annotations

from typing import Any

from sphereface_lib.heads.angular import AngularSoftmaxHead
from sphereface_lib.heads.base import MarginHead
from sphereface_lib.heads.modified import ModifiedSoftmaxHead
from sphereface_lib.heads.normalized import ArcFaceHead, CosFaceHead
from sphereface_lib.heads.original import OriginalSoftmaxHead
from sphereface_lib.heads.target_margin import TargetMarginHead

HEADS: dict[str, type[MarginHead]] = {
    "original": OriginalSoftmaxHead,
    "modified": ModifiedSoftmaxHead,
    "angular": AngularSoftmaxHead,
    "cosface": CosFaceHead,
    "arcface": ArcFaceHead,
}


def build_head(kind: str, embedding_dim: int, num_classes: int, **options: Any) -> MarginHead:
    """Build the head called ``kind`` (see ``HEADS``); ``options`` go to its constructor."""
    if kind not in HEADS:
        raise ValueError(f"unknown head {kind!r}; choose one of {', '.join(HEADS)}")
    try:
        return HEADS[kind](embedding_dim, num_classes, **options)
    except TypeError as error:
        raise ValueError(
            f"head {kind!r} does not take options {sorted(options)}: {error}"
        ) from None


__all__ = [
    "HEADS",
    "AngularSoftmaxHead",
    "ArcFaceHead",
    "CosFaceHead",
    "MarginHead",
    "ModifiedSoftmaxHead",
    "OriginalSoftmaxHead",
    "TargetMarginHead",
    "build_head",
]
