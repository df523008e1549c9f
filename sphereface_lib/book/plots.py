"""Figures for the book: embeddings in 2-D and 3-D (animated by
:mod:`sphereface_lib.book.animation`), curves over training and class angles.

Ten classes get ten colours that stay distinguishable with colour-vision deficiencies (the
Okabe-Ito set plus two of Paul Tol's) *and* ten marker shapes, so no figure relies on hue alone.
Classes are named by the caller (digits, people); beyond ten, colours and markers pair anew.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sphereface_lib.book.pages import HEAD_NAMES

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
# The heads' names are those of the book's pages (one vocabulary, defined once there).
HEAD_LABELS = HEAD_NAMES
# Line styles of series that are not heads (e.g. variants of one head), with the class colours.
SERIES_LINES = ("-", "--", "-.", ":")


def _numpy(values: torch.Tensor | np.ndarray) -> np.ndarray:
    return values.detach().cpu().numpy() if torch.is_tensor(values) else np.asarray(values)


def _robust_limit(points: np.ndarray) -> float:
    """Half-width of a square view holding 99 % of the points (outliers would shrink the rest)."""
    return float(np.quantile(np.abs(points), 0.995)) * 1.1 + 1e-6


def class_style(index: int) -> tuple[str, str]:
    """Colour and marker of class ``index``: the first ten classes differ in both; beyond ten the
    markers shift against the colours, so a (colour, marker) pair repeats only after 100."""
    return CLASS_COLOURS[index % 10], CLASS_MARKERS[(index + index // 10) % 10]


def series_style(index: int) -> tuple[str, str, str]:
    """Colour, line style and marker of series ``index`` of a line plot whose series are not
    heads: the class palette, so that no figure needs a palette of its own."""
    return (
        CLASS_COLOURS[(index + 4) % 10],  # from the dark blue on: yellow makes a faint line
        SERIES_LINES[index % len(SERIES_LINES)],
        CLASS_MARKERS[index % 10],
    )


def _darker(colour: str, factor: float = 0.55) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    red, green, blue = to_rgb(colour)
    return red * factor, green * factor, blue * factor


def class_names_of(
    class_names: Sequence[str] | None,
    labels: torch.Tensor | np.ndarray,
    weights: torch.Tensor | np.ndarray | None = None,
) -> list[str]:
    """``class_names`` as a list, or "0", "1", ... for as many classes as there are class weights
    (or labels, without weights)."""
    if class_names is not None:
        return [str(name) for name in class_names]
    count = len(weights) if weights is not None else int(_numpy(labels).max()) + 1
    return [str(index) for index in range(count)]


# Marker area (points^2) of the embeddings: 5 pt across, about 5.5 px with its edge in a 4-inch
# figure shown 310 px wide, where the ten marker shapes can still be told apart.
POINT_SIZE = 24.0


class EmbeddingPanel:
    """The artists of one embedding plot, made once; :meth:`show` moves them to a new state.

    An animation calls :meth:`show` once a frame instead of redrawing the axes, and a static
    figure calls it once, so both look the same. ``labels``: (N,) class of each point.
    """

    def __init__(
        self,
        ax: Any,
        labels: torch.Tensor | np.ndarray,
        class_names: Sequence[str],
        point_size: float = POINT_SIZE,
    ) -> None:
        self.ax = ax
        self.labels = _numpy(labels)
        self.class_names = list(class_names)
        if self.labels.size and int(self.labels.max()) >= len(self.class_names):
            raise ValueError(
                f"labels go up to {int(self.labels.max())} but only {len(self.class_names)} "
                "class names were given; pass one name per class"
            )
        self.point_size = point_size
        self.masks = [self.labels == index for index in range(len(self.class_names))]

    def legend_handles(self) -> list[Any]:
        """One marker per class, in the plot's colour and shape, for a legend."""
        from matplotlib.lines import Line2D

        handles = []
        for index, name in enumerate(self.class_names):
            colour, marker = class_style(index)
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="",
                    marker=marker,
                    markersize=7.5,
                    markerfacecolor=colour,
                    markeredgecolor=_darker(colour),
                    markeredgewidth=0.6,
                    label=name,
                )
            )
        return handles

    def legend(self, title: str | None, **options: Any) -> Any:
        """The class legend to the right of the axes (``options`` go to ``Axes.legend``)."""
        placement = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)} | options
        return self.ax.legend(
            handles=self.legend_handles(),
            title=title,
            fontsize=9,
            title_fontsize=9,
            frameon=False,
            handletextpad=0.2,
            **placement,
        )

    def _scatter(
        self, index: int, *coordinates: list[float], faint: bool = False, **options: Any
    ) -> Any:
        colour, marker = class_style(index)
        return self.ax.scatter(
            *coordinates,
            s=self.point_size * (0.6 if faint else 1.0),
            c=colour,
            marker=marker,
            edgecolors="none" if faint else [_darker(colour)],
            linewidths=0.0 if faint else 0.5,
            alpha=0.25 if faint else 1.0,
            # Named, so that Axes.get_legend_handles_labels finds one entry per class.
            label=f"_{self.class_names[index]}" if faint else self.class_names[index],
            **options,
        )


class PlanarPanel(EmbeddingPanel):
    """2-D features (N, 2) by class, with the class-weight directions (C, 2) as rays from 0.

    The view is square around 0 and holds 99 % of the points of each state (the norms of the
    original softmax grow by orders of magnitude during training).
    """

    def __init__(
        self,
        ax: Any,
        labels: torch.Tensor | np.ndarray,
        class_names: Sequence[str],
        point_size: float = POINT_SIZE,
    ) -> None:
        from matplotlib.ticker import MaxNLocator

        super().__init__(ax, labels, class_names, point_size)
        self.points = [self._scatter(index, [], []) for index in range(len(self.class_names))]
        for collection in self.points:
            collection.set_zorder(2)
        # Each weight: a ray under the points (it runs along its own class) and a marker at its
        # tip above them.
        self.rays, self.tips = [], []
        for index in range(len(self.class_names)):
            colour, marker = class_style(index)
            (ray,) = ax.plot([], [], color=colour, linewidth=1.3, zorder=1.5)
            (tip,) = ax.plot(
                [],
                [],
                linestyle="",
                marker=marker,
                markersize=9,
                markerfacecolor=colour,
                markeredgecolor="black",
                markeredgewidth=0.8,
                zorder=4,
            )
            self.rays.append(ray)
            self.tips.append(tip)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=9, length=3, pad=2)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=4, symmetric=True))

    def show(
        self,
        features: torch.Tensor | np.ndarray,
        weights: torch.Tensor | np.ndarray | None = None,
    ) -> None:
        points = _numpy(features)
        limit = _robust_limit(points)
        for collection, mask in zip(self.points, self.masks, strict=True):
            collection.set_offsets(points[mask])
        if weights is not None:
            directions = _numpy(weights)
            directions = directions / np.linalg.norm(directions, axis=1, keepdims=True)
            ends = directions * limit * 0.92
            for index, (ray, tip) in enumerate(zip(self.rays, self.tips, strict=True)):
                if index < len(ends):
                    x, y = ends[index]
                    ray.set_data([0.0, x], [0.0, y])
                    tip.set_data([x], [y])
                else:  # a class without a weight: a digit the network never trained on
                    ray.set_data([], [])
                    tip.set_data([], [])
        self.ax.set_xlim(-limit, limit)
        self.ax.set_ylim(-limit, limit)


def sphere_view(elevation: float, azimuth: float) -> np.ndarray:
    """Unit vector (3,) from the centre towards the viewer of a 3-D axes (angles in degrees)."""
    up, around = np.radians(elevation), np.radians(azimuth)
    return np.array([np.cos(up) * np.cos(around), np.cos(up) * np.sin(around), np.sin(up)])


# The sphere fills most of its axes; the weight spikes reach SPIKE_LENGTH radii from the centre.
SPHERE_ZOOM = 1.24
SPIKE_LENGTH = 1.22


class SpherePanel(EmbeddingPanel):
    """3-D features (N, 3) divided by their norm, on a wire sphere seen in orthographic view.

    Points on the near half are drawn in full, those on the far half faint (matplotlib does not
    hide them); each class weight (C, 3) is a spike out of the sphere in its direction.
    """

    def __init__(
        self,
        ax: Any,
        labels: torch.Tensor | np.ndarray,
        class_names: Sequence[str],
        point_size: float = POINT_SIZE,
    ) -> None:
        super().__init__(ax, labels, class_names, point_size)
        ax.set_proj_type("ortho")
        ax.computed_zorder = False  # far points below the sphere's outline, near points above
        ax.set_axis_off()
        ax.set_xlim(-1.0, 1.0)
        ax.set_ylim(-1.0, 1.0)
        ax.set_zlim(-1.0, 1.0)
        ax.set_box_aspect((1, 1, 1), zoom=SPHERE_ZOOM)
        circle = np.linspace(0, 2 * np.pi, 97)
        grey = {"color": "#C8C8C8", "linewidth": 0.5, "zorder": 1}
        for longitude in np.radians(np.arange(0, 180, 30)):
            ax.plot(
                np.cos(longitude) * np.cos(circle),
                np.sin(longitude) * np.cos(circle),
                np.sin(circle),
                **grey,
            )
        for latitude in np.radians([-60, -30, 30, 60]):
            radius = np.cos(latitude)
            ax.plot(
                radius * np.cos(circle),
                radius * np.sin(circle),
                np.full_like(circle, np.sin(latitude)),
                **grey,
            )
        ax.plot(np.cos(circle), np.sin(circle), np.zeros_like(circle), color="#909090", lw=0.9)
        (self.outline,) = ax.plot([], [], [], color="#606060", linewidth=1.0, zorder=2)
        self.circle = circle
        count = len(self.class_names)
        # Near and far are split by hand, so matplotlib's depth shading is not wanted.
        self.far = [
            self._scatter(index, [], [], [], faint=True, depthshade=False) for index in range(count)
        ]
        self.near = [self._scatter(index, [], [], [], depthshade=False) for index in range(count)]
        for collection in self.far:
            collection.set_zorder(1.5)
        for collection in self.near:
            collection.set_zorder(3)
        self.spikes = []
        for index in range(count):
            colour, marker = class_style(index)
            (spike,) = ax.plot(
                [],
                [],
                [],
                color=colour,
                linewidth=2.0,
                marker=marker,
                markevery=[1],
                markersize=9,
                markeredgecolor="black",
                markeredgewidth=0.8,
            )
            self.spikes.append(spike)

    def show(
        self,
        features: torch.Tensor | np.ndarray,
        weights: torch.Tensor | np.ndarray | None = None,
        view: tuple[float, float] = (20.0, -60.0),
    ) -> None:
        """Points and weights at ``view`` = (elevation, azimuth) in degrees."""
        elevation, azimuth = view
        self.ax.view_init(elev=elevation, azim=azimuth)
        towards_viewer = sphere_view(elevation, azimuth)
        points = _numpy(features).astype(np.float64)
        points = points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
        near = points @ towards_viewer >= 0
        for far_points, near_points, mask in zip(self.far, self.near, self.masks, strict=True):
            far_points._offsets3d = tuple(points[mask & ~near].T)
            near_points._offsets3d = tuple(points[mask & near].T)
        # The outline: the great circle at right angles to the line of sight.
        first = np.cross(towards_viewer, [0.0, 0.0, 1.0] if abs(elevation) < 89 else [1, 0, 0])
        first /= np.linalg.norm(first)
        second = np.cross(towards_viewer, first)
        ring = np.outer(np.cos(self.circle), first) + np.outer(np.sin(self.circle), second)
        self.outline.set_data_3d(*ring.T)
        if weights is not None:
            directions = _numpy(weights).astype(np.float64)
            directions = directions / np.linalg.norm(directions, axis=1, keepdims=True)
            for spike in self.spikes[len(directions) :]:  # classes without a weight
                spike.set_data_3d([], [], [])
            for spike, direction in zip(self.spikes, directions, strict=False):
                spike.set_data_3d(*np.outer([1.0, SPIKE_LENGTH], direction).T)
                in_front = direction @ towards_viewer >= 0
                spike.set_alpha(1.0 if in_front else 0.35)
                spike.set_zorder(4 if in_front else 1.2)


def scatter_2d(
    ax: Any,
    features: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    weights: torch.Tensor | np.ndarray | None = None,
    title: str | None = None,
    legend: bool = True,
    point_size: float = POINT_SIZE,
    class_names: Sequence[str] | None = None,
    legend_title: str | None = "class",
) -> PlanarPanel:
    """2-D features (N, 2) by class (labels (N,)), with the class-weight directions (C, 2).

    ``class_names`` name the classes 0, 1, ... (default: their numbers); the legend, with
    ``legend_title``, goes to the right of the axes.
    """
    panel = PlanarPanel(ax, labels, class_names_of(class_names, labels, weights), point_size)
    panel.show(features, weights)
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        panel.legend(legend_title)
    return panel


def scatter_3d(
    ax: Any,
    features: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    weights: torch.Tensor | np.ndarray | None = None,
    title: str | None = None,
    legend: bool = True,
    point_size: float = POINT_SIZE,
    class_names: Sequence[str] | None = None,
    legend_title: str | None = "class",
    view: tuple[float, float] = (20.0, -60.0),
) -> SpherePanel:
    """3-D features (N, 3) on the unit sphere by class (labels (N,)), with the class-weight
    directions (C, 3), seen from ``view`` = (elevation, azimuth) in degrees; see
    :func:`scatter_2d` for the names and the legend."""
    panel = SpherePanel(ax, labels, class_names_of(class_names, labels, weights), point_size)
    panel.show(features, weights, view)
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        panel.legend(legend_title)
    return panel


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
    ax.legend(fontsize=9)


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
    legend: bool = True,
) -> None:
    """Per run (one x position each), the per-class angles of ``ClassAngles`` in degrees.

    Without ``legend`` the series keep their labels for a legend of the whole figure.

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
    if legend:
        ax.legend(fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
