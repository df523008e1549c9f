"""Features of a few test images and the class weights, recorded over training for the
animations: a frame before the first update, then ``snapshot_frames`` evenly spaced in updates.

Legend: S frames, P recorded test images (``snapshot_points``), C classes, D feature dimension.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Snapshots:
    """Features over training: steps (S,), features (S, P, D), weights (S, C, D), labels (P,)."""

    steps: torch.Tensor
    epochs: torch.Tensor
    features: torch.Tensor
    weights: torch.Tensor
    labels: torch.Tensor


def snapshot_steps(total_steps: int, frames: int) -> set[int]:
    """Steps (1-based, after the update) at which a frame is recorded: ``frames`` evenly spaced
    over the run, the last at its end (fewer when the run has fewer steps than frames)."""
    return {-(-(i + 1) * total_steps // frames) for i in range(frames)}  # ceil, in integers


@dataclass
class Frames:
    """The frames recorded so far, as lists of tensors (the form a checkpoint stores)."""

    steps: list[torch.Tensor] = field(default_factory=list)
    features: list[torch.Tensor] = field(default_factory=list)
    weights: list[torch.Tensor] = field(default_factory=list)

    def add(self, step: int, features: torch.Tensor, weights: torch.Tensor) -> None:
        """Record features (P, D) and class weights (C, D), on the CPU, after ``step`` updates."""
        self.steps.append(torch.tensor(step))
        self.features.append(features.cpu())
        self.weights.append(weights.float().cpu().clone())

    def state_dict(self) -> dict[str, list[torch.Tensor]]:
        return {"steps": self.steps, "features": self.features, "weights": self.weights}

    @classmethod
    def from_state_dict(cls, state: dict[str, list[torch.Tensor]]) -> Frames:
        return cls(state["steps"], state["features"], state["weights"])

    def snapshots(self, steps_per_epoch: int, labels: torch.Tensor) -> Snapshots | None:
        """The frames as stacked tensors (None if none was recorded); ``labels`` (P,)."""
        if not self.steps:
            return None
        steps = torch.stack(self.steps)
        return Snapshots(
            steps=steps,
            epochs=steps.double() / steps_per_epoch,
            features=torch.stack(self.features),
            weights=torch.stack(self.weights),
            labels=labels.clone(),
        )
