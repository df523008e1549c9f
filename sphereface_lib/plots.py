"""Figures for the book: embeddings in 2-D and 3-D, their animation over training, and curves.

Ten classes get ten colours that stay distinguishable with colour-vision deficiencies (the
Okabe-Ito set plus two of Paul Tol's) *and* ten marker shapes, so no figure relies on hue alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

# Okabe & Ito (2008) eight colours, then Tol's wine and grey for classes 8 and 9.
CLASS_COLOURS = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
    "#882255",
    "#999999",
)
CLASS_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">")
# Lines for the heads, in the order original, modified, angular, cosface, arcface.
HEAD_COLOURS = {
    "original": "#0072B2",
    "modified": "#E69F00",
    "angular": "#009E73",
    "cosface": "#CC79A7",
    "arcface": "#D55E00",
}
HEAD_LABELS = {
    "original": "original softmax",
    "modified": "modified softmax",
    "angular": "A-Softmax",
    "cosface": "CosFace",
    "arcface": "ArcFace",
}


def _numpy(values: torch.Tensor | np.ndarray) -> np.ndarray:
    return values.detach().cpu().numpy() if torch.is_tensor(values) else np.asarray(values)


def _robust_limit(points: np.ndarray) -> float:
    """Half-width of a square view holding 99 % of the points (outliers would shrink the rest)."""
    return float(np.quantile(np.abs(points), 0.995)) * 1.1 + 1e-6


def scatter_2d(
    ax: Any,
    features: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    weights: torch.Tensor | np.ndarray | None = None,
    title: str | None = None,
    legend: bool = True,
    point_size: float = 4.0,
) -> None:
    """2-D features (N, 2) by class, with the class-weight directions (C, 2) as rays from 0."""
    points, classes = _numpy(features), _numpy(labels)
    limit = _robust_limit(points)
    for label in range(10):
        chosen = points[classes == label]
        ax.scatter(
            chosen[:, 0],
            chosen[:, 1],
            s=point_size,
            c=CLASS_COLOURS[label],
            marker=CLASS_MARKERS[label],
            linewidths=0,
            alpha=0.7,
            label=str(label),
            rasterized=True,
        )
    if weights is not None:
        directions = _numpy(weights)
        directions = directions / np.linalg.norm(directions, axis=1, keepdims=True)
        for label, (x, y) in enumerate(directions):
            ax.plot([0, x * limit], [0, y * limit], color=CLASS_COLOURS[label], linewidth=1.2)
            ax.plot([0, x * limit], [0, y * limit], color="white", linewidth=0.4, linestyle=":")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(
            title="digit",
            markerscale=2.5,
            fontsize=7,
            title_fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
        )


def scatter_3d(
    ax: Any,
    features: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    weights: torch.Tensor | np.ndarray | None = None,
    title: str | None = None,
    legend: bool = True,
    point_size: float = 3.0,
) -> None:
    """3-D features (N, 3) projected onto the unit sphere, with class-weight directions (C, 3)."""
    points = _numpy(features)
    points = points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
    classes = _numpy(labels)
    u, v = np.mgrid[0 : 2 * np.pi : 24j, 0 : np.pi : 12j]
    ax.plot_wireframe(
        np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="#CCCCCC", linewidth=0.3
    )
    for label in range(10):
        chosen = points[classes == label]
        ax.scatter(
            chosen[:, 0],
            chosen[:, 1],
            chosen[:, 2],
            s=point_size,
            c=CLASS_COLOURS[label],
            marker=CLASS_MARKERS[label],
            linewidths=0,
            depthshade=False,
            label=str(label),
        )
    if weights is not None:
        directions = _numpy(weights)
        directions = directions / np.linalg.norm(directions, axis=1, keepdims=True) * 1.25
        for label, (x, y, z) in enumerate(directions):
            ax.plot([0, x], [0, y], [0, z], color=CLASS_COLOURS[label], linewidth=1.5)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_zlim(-1, 1)
    ax.set_box_aspect((1, 1, 1))
    ax.set_xlabel("x / |x|", fontsize=8, labelpad=-8)
    ax.set_ylabel("y / |x|", fontsize=8, labelpad=-8)
    ax.set_zlabel("z / |x|", fontsize=8, labelpad=-8)
    ax.tick_params(labelsize=0, length=0)
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(
            title="digit",
            markerscale=2.5,
            fontsize=7,
            title_fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
        )


def scatter_embedding(
    ax: Any, features: Any, labels: Any, weights: Any = None, **options: Any
) -> None:
    """2-D or 3-D scatter, by the feature dimension."""
    dimension = features.shape[1]
    if dimension == 2:
        scatter_2d(ax, features, labels, weights, **options)
    elif dimension == 3:
        scatter_3d(ax, features, labels, weights, **options)
    else:
        raise ValueError(f"can draw 2-D or 3-D features only, got dimension {dimension}")


def new_embedding_axes(dimension: int, size: float = 4.2, dpi: int = 80) -> tuple[Any, Any]:
    """A figure and axes (3-D projection when ``dimension`` is 3) for one embedding plot."""
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(size * 1.25, size), dpi=dpi)
    ax = figure.add_subplot(projection="3d" if dimension == 3 else None)
    return figure, ax


def animate_embeddings(
    snapshots: Any,
    path: str | os.PathLike[str],
    title: str,
    fps: int = 4,
    max_frames: int = 40,
    dpi: int = 72,
) -> Path:
    """Write the snapshots (``Snapshots``: features (S, P, D), weights (S, C, D)) as a GIF.

    The last frame is held for a second so the final state can be read.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = len(snapshots.steps)
    frames = sorted({round(i) for i in np.linspace(0, count - 1, min(count, max_frames))})
    frames += [frames[-1]] * fps  # hold the final frame
    dimension = snapshots.features.shape[2]
    figure, ax = new_embedding_axes(dimension, dpi=dpi)

    def draw(index: int) -> None:
        ax.clear()
        epoch = float(snapshots.epochs[index])
        scatter_embedding(
            ax,
            snapshots.features[index],
            snapshots.labels,
            snapshots.weights[index],
            title=f"{title}\nepoch {epoch:.2f}",
        )
        if dimension == 3:
            ax.view_init(elev=20, azim=30 + 2 * index)

    animation = FuncAnimation(figure, draw, frames=frames, interval=1000 // fps)
    animation.save(path, writer=PillowWriter(fps=fps))
    plt.close(figure)
    return path


def plot_metric(
    ax: Any,
    runs_by_head: dict[str, Sequence[Any]],
    metric: str,
    ylabel: str,
    labels: dict[str, str] | None = None,
) -> None:
    """Per head, the mean of ``metric`` over seeds against epoch, with the min-max band.

    ``labels`` names the heads in the legend (default ``HEAD_LABELS``); one run per head draws
    its curve without a band.
    """
    labels = {**HEAD_LABELS, **(labels or {})}
    for head, runs in runs_by_head.items():
        epochs = np.array([row["epoch"] for row in runs[0].metrics])
        values = np.array([[row[metric] for row in run.metrics] for run in runs])
        colour = HEAD_COLOURS.get(head)
        ax.plot(
            epochs,
            values.mean(0),
            marker="o",
            markersize=3,
            color=colour,
            label=labels.get(head, head),
        )
        if len(runs) > 1:
            ax.fill_between(
                epochs, values.min(0), values.max(0), color=colour, alpha=0.2, linewidth=0
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


# Series of plot_class_angles: (field of ClassAngles, divisor, label, colour, marker).
ANGLE_SERIES = (
    ("intra", 1.0, "feature to own weight (intra)", "#0072B2", "o"),
    ("to_other_weight", 1.0, "feature to nearest other weight", "#D55E00", "s"),
    ("between_weights", 4.0, "nearest other weight / 4 (bound for intra)", "#009E73", "^"),
)


def plot_class_angles(
    ax: Any,
    names: Sequence[str],
    stats: Sequence[Any],
    title: str | None = None,
    xlabel: str | None = None,
) -> None:
    """Per run (one x position each), the per-class angles of ``ClassAngles`` in degrees.

    Small dots are the C classes, the line joins their means. Where the blue dots lie below the
    green ones, a class is tighter than a quarter of the angle to its nearest rival weight, which
    is enough for every intra-class angle to be smaller than every inter-class one.
    """
    if len(names) != len(stats):
        raise ValueError(f"{len(names)} names for {len(stats)} sets of class angles")
    positions = np.arange(len(names), dtype=float)
    for offset, (name, divisor, label, colour, marker) in zip(
        (-0.15, 0.0, 0.15), ANGLE_SERIES, strict=True
    ):
        values = np.stack([_numpy(getattr(s, name)) for s in stats]) * (180 / np.pi) / divisor
        for position, row in zip(positions, values, strict=True):
            ax.scatter(
                np.full(len(row), position + offset),
                row,
                s=9,
                color=colour,
                marker=marker,
                alpha=0.45,
                linewidths=0,
            )
        ax.plot(
            positions + offset,
            np.nanmean(values, axis=1),
            color=colour,
            marker=marker,
            markersize=6,
            label=label,
        )
    quantile = stats[0].quantile if stats else 1.0
    ax.set_xticks(positions, list(names))
    if xlabel:
        ax.set_xlabel(xlabel)
    what = "max" if quantile == 1.0 else f"{quantile:.0%} / {1 - quantile:.0%} quantile"
    ax.set_ylabel(f"angle in degrees ({what})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)


def final_embeddings_figure(
    snapshots: Sequence[Any], titles: Sequence[str], columns: int = 3, size: float = 3.9
) -> Any:
    """The last frame of each run's ``Snapshots`` (2-D or 3-D), in rows of ``columns`` panels.

    The legend goes with the last panel; unused panels of the last row are hidden.
    """
    import matplotlib.pyplot as plt

    if len(snapshots) != len(titles) or not snapshots:
        raise ValueError(f"need one title per run and at least one run, got {len(titles)} titles")
    columns = min(columns, len(snapshots))
    rows = -(-len(snapshots) // columns)
    dimension = snapshots[0].features.shape[2]
    figure = plt.figure(figsize=(size * columns + 0.8, size * rows))
    for index, (frames, title) in enumerate(zip(snapshots, titles, strict=True)):
        ax = figure.add_subplot(
            rows, columns, index + 1, projection="3d" if dimension == 3 else None
        )
        scatter_embedding(
            ax,
            frames.features[-1],
            frames.labels,
            frames.weights[-1],
            title=title,
            legend=index == len(snapshots) - 1,
        )
    figure.tight_layout()
    return figure
