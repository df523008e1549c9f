"""Embeddings over training as GIFs: one frame per snapshot, sized to be read in the book.

The book shows three animations side by side (original softmax | modified softmax | A-Softmax),
each about 310 px wide on a 1280-px screen. Figures are laid out in inches and points and
rendered at ``width_px``, so on screen a font of ``pt`` points is
``pt / 72 * displayed_px / FIGURE_WIDTH`` pixels tall, whatever ``width_px`` is: 9.7 px for the
smallest text (9 pt) at 310 px. 3-D views turn a full circle over the animation.

:func:`embedding_animation` returns the GIF as bytes, so that a notebook can carry it in its
own output (``IPython.display.Image(data=..., format="gif")``); :func:`embedding_figure` draws
one state with the same look, for static figures.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sphereface_lib.book.plots import (
    EmbeddingPanel,
    PlanarPanel,
    SpherePanel,
    _numpy,
    class_names_of,
)

FIGURE_WIDTH = 4.0  # inches; text sizes below are chosen for this width shown at ~310 px
TITLE_POINTS = 11.0
LABEL_POINTS = 10.0  # the epoch line
LEGEND_POINTS = 9.0  # legend entries and title, and the 2-D tick labels
# Vertical layout in inches: title and epoch lines, the square plot, the legend rows.
HEADER_HEIGHT = 0.52
PLOT_HEIGHT = 3.4
LEGEND_ROW_HEIGHT = 0.165
LEGEND_PADDING = 0.06


def legend_columns(class_names: Sequence[str]) -> int:
    """Columns of the legend below the plot: as many entries as fit in the figure's width, then
    spread over the rows evenly (ten digits: two rows of five)."""
    longest = max((len(name) for name in class_names), default=1)
    # Marker, gap and column spacing, then about 0.6 em a character, in inches.
    entry_width = 0.38 + longest * LEGEND_POINTS * 0.6 / 72
    fitting = max(1, min(len(class_names), int((FIGURE_WIDTH - 0.1) / entry_width)))
    rows = math.ceil(len(class_names) / fitting)
    return math.ceil(len(class_names) / rows)


def epoch_label(epoch: float, total: float, decimals: int = 1) -> str:
    """'epoch 2.4 of 7': where a frame lies in training (``total`` epochs in all)."""
    whole = f"{total:.0f}" if abs(total - round(total)) < 1e-6 else f"{total:.{decimals}f}"
    return f"epoch {epoch:.{decimals}f} of {whole}"


def epoch_decimals(epochs: Sequence[float] | np.ndarray) -> int:
    """1, or 2 where one decimal would give two frames the same epoch (many frames per epoch)."""
    one = [f"{epoch:.1f}" for epoch in epochs]
    return 1 if len(set(one)) == len(one) else 2


def view_azimuths(frames: int, start: float = -60.0) -> np.ndarray:
    """Azimuth of each frame in degrees: a full circle over ``frames``, 360/frames per frame,
    so the loop from the last frame back to the first continues the turn."""
    return start + 360.0 * np.arange(frames) / frames


@dataclass
class EmbeddingFrames:
    """A figure laid out for one embedding, whose :meth:`draw` shows any snapshot in it."""

    figure: Any
    panel: EmbeddingPanel
    title: Any
    label: Any
    snapshots: Any
    elevation: float
    azimuths: np.ndarray

    def draw(self, index: int, label: str | None = None) -> None:
        """Show snapshot ``index`` (frame ``index`` of the turn in 3-D); ``label`` replaces the
        epoch line."""
        snapshots = self.snapshots
        features, weights = snapshots.features[index], snapshots.weights[index]
        if isinstance(self.panel, SpherePanel):
            view = (self.elevation, float(self.azimuths[index % len(self.azimuths)]))
            self.panel.show(features, weights, view)
        elif isinstance(self.panel, PlanarPanel):
            self.panel.show(features, weights)
        epochs = _numpy(snapshots.epochs)
        text = epoch_label(float(epochs[index]), float(epochs[-1]), epoch_decimals(epochs))
        self.label.set_text(label or text)

    def pixels(self) -> np.ndarray:
        """The rendered figure, (H, W, 3) uint8."""
        self.figure.canvas.draw()
        return np.asarray(self.figure.canvas.buffer_rgba())[..., :3].copy()


def embedding_frames(
    snapshots: Any,
    title: str,
    class_names: Sequence[str] | None = None,
    legend_title: str | None = "class",
    width_px: int = 400,
    elevation: float = 20.0,
    start_azimuth: float = -60.0,
    pyplot: bool = False,
) -> EmbeddingFrames:
    """The figure of :func:`embedding_animation`, ready to draw any of the ``snapshots``.

    ``snapshots``: a ``Snapshots`` (features (S, P, D) with D = 2 or 3, weights (S, C, D),
    labels (P,), epochs (S,)). ``pyplot`` makes the figure through pyplot (for notebooks),
    otherwise it is a bare Agg figure that nothing else holds on to.
    """
    from matplotlib.figure import Figure

    features = snapshots.features
    dimension = int(features.shape[2])
    if dimension not in (2, 3):
        raise ValueError(f"can animate 2-D or 3-D features only, got dimension {dimension}")
    names = class_names_of(class_names, snapshots.labels, snapshots.weights[0])
    columns = legend_columns(names)
    rows = math.ceil(len(names) / columns) + (1 if legend_title else 0)
    legend_height = rows * LEGEND_ROW_HEIGHT + LEGEND_PADDING
    height = HEADER_HEIGHT + PLOT_HEIGHT + legend_height
    size = (FIGURE_WIDTH, height)
    if pyplot:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=size, dpi=width_px / FIGURE_WIDTH)
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        figure = Figure(figsize=size, dpi=width_px / FIGURE_WIDTH)
        FigureCanvasAgg(figure)
    figure.patch.set_facecolor("white")

    def box(
        left: float, bottom: float, width: float, top: float
    ) -> tuple[float, float, float, float]:
        """Figure fractions of a rectangle given in inches."""
        return (left / FIGURE_WIDTH, bottom / height, width / FIGURE_WIDTH, (top - bottom) / height)

    plot_bottom = legend_height
    if dimension == 2:
        # Room for the tick labels on the left and below.
        ax = figure.add_axes(box(0.52, plot_bottom + 0.28, 3.22, plot_bottom + PLOT_HEIGHT - 0.06))
        panel: EmbeddingPanel = PlanarPanel(ax, snapshots.labels, names)
    else:
        # The axes reach into the margins above and below, so the weight spikes are not cut.
        ax = figure.add_axes(
            box(0.0, plot_bottom - 0.15, FIGURE_WIDTH, plot_bottom + PLOT_HEIGHT + 0.15),
            projection="3d",
        )
        panel = SpherePanel(ax, snapshots.labels, names)
    title_text = figure.text(
        0.5,
        1 - 0.06 / height,
        title,
        ha="center",
        va="top",
        fontsize=TITLE_POINTS,
        fontweight="bold",
    )
    label_text = figure.text(
        0.5, 1 - 0.30 / height, "", ha="center", va="top", fontsize=LABEL_POINTS, color="#333333"
    )
    # matplotlib fills a legend column by column; this order reads row by row (0 1 2 3 4 / 5 ...).
    handles = panel.legend_handles()
    handles = [handles[k] for column in range(columns) for k in range(column, len(names), columns)]
    figure.legend(
        handles=handles,
        title=legend_title,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.02 / height),
        ncols=columns,
        fontsize=LEGEND_POINTS,
        title_fontsize=LEGEND_POINTS,
        frameon=False,
        handletextpad=0.1,
        columnspacing=1.0,
        borderaxespad=0.0,
        borderpad=0.0,
        labelspacing=0.25,
    )
    count = len(snapshots.features)
    return EmbeddingFrames(
        figure,
        panel,
        title_text,
        label_text,
        snapshots,
        elevation,
        view_azimuths(count, start_azimuth),
    )


def frame_durations(count: int, frame_seconds: float, hold_seconds: float) -> list[int]:
    """Milliseconds each frame shows: ``frame_seconds``, the last ``hold_seconds`` (to read it).

    GIF delays are counted in hundredths of a second, and browsers show delays under 0.02 s
    as 0.1 s, so both are rounded to 10 ms and at least 20 ms.
    """

    def milliseconds(seconds: float) -> int:
        return max(20, 10 * round(seconds * 100))

    return [milliseconds(frame_seconds)] * (count - 1) + [milliseconds(hold_seconds)]


def encode_gif(frames: Sequence[np.ndarray], durations: Sequence[int], colours: int = 96) -> bytes:
    """Frames (H, W, 3) uint8 as one looping GIF with one adaptive palette of ``colours``.

    One palette for all frames keeps the colours from flickering; Pillow's ``optimize`` then
    writes each frame as the rectangle that changed, with unchanged pixels transparent.
    """
    from PIL import Image

    if len(frames) != len(durations) or not frames:
        raise ValueError(f"need one duration per frame, got {len(durations)} for {len(frames)}")
    images = [Image.fromarray(frame) for frame in frames]
    # The palette from a few frames spread over the animation, stacked into one image.
    sample = frames[:: max(1, len(frames) // 6)]
    stacked = Image.fromarray(np.concatenate(sample, axis=0))
    palette = stacked.quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    paletted = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in images]
    buffer = io.BytesIO()
    paletted[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=paletted[1:],
        duration=list(durations),
        loop=0,
        optimize=True,
    )
    return buffer.getvalue()


def embedding_animation(
    snapshots: Any,
    title: str,
    class_names: Sequence[str] | None = None,
    legend_title: str | None = "class",
    path: str | os.PathLike[str] | None = None,
    width_px: int = 400,
    frame_seconds: float = 0.18,
    hold_seconds: float = 1.5,
    elevation: float = 20.0,
    colours: int = 96,
) -> bytes:
    """The GIF of ``snapshots`` (one frame each, the epoch on every frame), also written to
    ``path`` when given.

    ``snapshots``: a ``Snapshots`` of 2-D or 3-D features (see :func:`embedding_frames`).
    Frames show for ``frame_seconds``, the last for ``hold_seconds``: 48 snapshots and the
    initial state run about 10 s. 3-D views turn a full circle at ``elevation`` degrees.
    """
    frames = embedding_frames(snapshots, title, class_names, legend_title, width_px, elevation)
    count = len(snapshots.features)
    pictures = []
    for index in range(count):
        frames.draw(index)
        pictures.append(frames.pixels())
    data = encode_gif(pictures, frame_durations(count, frame_seconds, hold_seconds), colours)
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return data


def embedding_figure(
    snapshots: Any,
    title: str,
    class_names: Sequence[str] | None = None,
    legend_title: str | None = "class",
    index: int = -1,
    label: str | None = None,
    width_px: int = 400,
    elevation: float = 20.0,
    azimuth: float = -60.0,
) -> Any:
    """Snapshot ``index`` (default: the trained state) as a pyplot figure with the look of the
    animation; ``label`` replaces the epoch line (e.g. with the test accuracy)."""
    frames = embedding_frames(
        snapshots, title, class_names, legend_title, width_px, elevation, azimuth, pyplot=True
    )
    frames.azimuths = np.full(len(snapshots.features), azimuth)
    frames.draw(index % len(snapshots.features), label)
    return frames.figure


def embedding_still(
    features: Any,
    labels: Any,
    weights: Any,
    title: str,
    class_names: Sequence[str] | None = None,
    legend_title: str | None = "class",
    label: str | None = None,
    width_px: int = 400,
    azimuth: float = -60.0,
) -> Any:
    """One embedding drawn like an animation frame (a pyplot figure): features (P, D) with
    D = 2 or 3, their labels (P,) and the class weights (C, D) — e.g. a trained network's
    features of a set of images rather than a run's snapshots."""
    import torch

    from sphereface_lib.training import Snapshots

    features = torch.as_tensor(features)
    still = Snapshots(
        steps=torch.zeros(1),
        epochs=torch.zeros(1),
        features=features.unsqueeze(0),
        weights=torch.as_tensor(weights).unsqueeze(0),
        labels=torch.as_tensor(labels),
    )
    return embedding_figure(
        still, title, class_names, legend_title, label=label, width_px=width_px, azimuth=azimuth
    )


def embedding_grid(
    snapshots: Sequence[Any],
    titles: Sequence[str],
    labels: Sequence[str] | None = None,
    columns: int = 3,
    class_names: Sequence[str] | None = None,
    legend_title: str | None = "class",
    width_px: int = 400,
    gap_px: int = 12,
) -> bytes:
    """The trained state of several runs side by side, as one PNG: each tile is the last frame
    of a run's ``Snapshots`` with the look of its animation, ``titles`` and ``labels`` (the line
    under the title, e.g. the test accuracy) one per run, in rows of ``columns`` tiles."""
    from PIL import Image

    if not snapshots or len(titles) != len(snapshots):
        raise ValueError(f"need one title per run and at least one run, got {len(titles)} titles")
    if labels is not None and len(labels) != len(snapshots):
        raise ValueError(f"need one label per run, got {len(labels)} for {len(snapshots)} runs")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    tiles = []
    for index, (frames, title) in enumerate(zip(snapshots, titles, strict=True)):
        layout = embedding_frames(frames, title, class_names, legend_title, width_px)
        layout.draw(len(frames.features) - 1, None if labels is None else labels[index])
        tiles.append(layout.pixels())
    columns = min(columns, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    height = max(tile.shape[0] for tile in tiles)
    width = max(tile.shape[1] for tile in tiles)
    canvas = np.full(
        (rows * height + (rows - 1) * gap_px, columns * width + (columns - 1) * gap_px, 3),
        255,
        dtype=np.uint8,
    )
    for index, tile in enumerate(tiles):
        top = (index // columns) * (height + gap_px)
        left = (index % columns) * (width + gap_px)
        canvas[top : top + tile.shape[0], left : left + tile.shape[1]] = tile
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
