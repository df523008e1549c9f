"""Learning-rate schedules as pure functions of the step number (no scheduler state to save)."""

from __future__ import annotations

import math


def warmup_cosine(step: int, total_steps: int, peak: float, warmup_steps: int) -> float:
    """Linear warm-up from peak/10 to ``peak`` over ``warmup_steps``, then cosine decay to zero."""
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    if step < warmup_steps:
        return peak * (0.1 + 0.9 * step / warmup_steps)
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return peak * 0.5 * (1.0 + math.cos(math.pi * progress))


def step_decay(step: int, peak: float, milestones: tuple[int, ...], factor: float = 0.1) -> float:
    """``peak`` multiplied by ``factor`` at every milestone passed (the official SphereFace
    solver: 0.1, divided by 10 at 16k and 24k iterations).

    ``step`` counts the updates done before this one (0 for the first), as Caffe's solver
    counter does: ``Solver::Step`` increments ``iter_`` after ``ApplyUpdate``, and the
    ``multistep`` policy compares ``iter_ >= stepvalue``. (The margin layer's lambda counter is
    one ahead of it; see ``train.lambda_at``.)
    """
    return peak * factor ** sum(step >= milestone for milestone in milestones)
