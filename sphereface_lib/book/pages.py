"""How the book's pages show results: figure sizes and fonts, glued values, names and units.

Every chapter uses these, so that the pages read alike (STYLE.md, "How a page of the book
reads"): figures are sized for the column they sit in, so that no text renders below 9 px on a
1280-px screen; values computed in a hidden cell reach the prose through MyST-NB's ``glue``; the
heads carry one name each, and accuracy is always a percentage.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from sphereface_lib.training.config import TrainConfig

# At 1280 px, sphinx-book-theme's text column is 688 px wide and a full-width area 136 % of
# it (936 px). Figures are drawn at DPI pixels per inch and shown at most at their own size,
# so a figure of COLUMN_INCHES (or FULL_WIDTH_INCHES, in a full-width cell) is never shrunk
# and a font of MIN_FONT_POINTS renders at 9 / 72 * 100 = 12.5 px.
DPI = 100
COLUMN_INCHES = 6.8
FULL_WIDTH_INCHES = 9.3
MIN_FONT_POINTS = 9.0

BOOK_STYLE: dict[Any, Any] = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10,
    "figure.titlesize": 12,
    "axes.grid": False,
}

HEAD_NAMES = {
    "original": "original softmax",
    "modified": "modified softmax",
    "angular": "A-Softmax",
    "cosface": "CosFace",
    "arcface": "ArcFace",
}


def use_book_style() -> None:
    """Matplotlib defaults of the book: 100 dpi, no font below :data:`MIN_FONT_POINTS`."""
    import matplotlib as mpl

    mpl.rcParams.update(BOOK_STYLE)


def head_name(head: str, margin: float | None = None) -> str:
    """The one name of a head in the book: "A-Softmax (m=4)", "CosFace (m=0.35)", ..."""
    if head not in HEAD_NAMES:
        raise ValueError(f"unknown head {head!r}; choose one of {', '.join(HEAD_NAMES)}")
    if margin is None or head in ("original", "modified"):
        return HEAD_NAMES[head]
    return f"{HEAD_NAMES[head]} (m={margin:g})"


def run_label(config: TrainConfig) -> str:
    """The name of the head of a run, with its margin (the angular or the additive one)."""
    if config.head == "angular":
        return head_name("angular", config.margin)
    if config.head in ("cosface", "arcface"):
        return head_name(config.head, config.additive_margin)
    return head_name(config.head)


def join_names(names: list[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``, for sentences generated from results."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def percent(fraction: float, digits: int = 2) -> str:
    """An accuracy as the book writes it: ``0.99171`` -> ``"99.17"`` (the unit is in the header)."""
    return f"{100 * fraction:.{digits}f}"


def glue_value(name: str, value: Any) -> None:
    """Make ``value`` available to the prose as ``{glue:text}`name```, without showing it here."""
    from myst_nb import glue

    glue(name, value, display=False)


def glue_markdown(name: str, text: str) -> None:
    """Make a Markdown sentence (code, math, emphasis) available as ``{glue:md}`name```."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(name, Markdown(text), display=False)


def glue_figure(name: str, figure: Any) -> None:
    """Hand a Matplotlib figure to a ``{glue:figure}`` directive (numbered, captioned, with alt
    text) and close it, so that it appears only where the prose places it."""
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(name, figure, display=False)
    plt.close(figure)


def glue_animation(
    name: str,
    snapshots: Any,
    title: str,
    legend_title: str = "digit",
    class_names: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> None:
    """Glue the GIF of ``snapshots`` (:mod:`sphereface_lib.book.animation`) for a
    ``{glue:figure}``; the executed notebook carries the animation inside it (and ``path`` gets
    a copy, if given)."""
    from sphereface_lib.book.animation import embedding_animation

    gif = embedding_animation(
        snapshots, title, class_names=class_names, legend_title=legend_title, path=path
    )
    glue_image(name, gif, "gif")


def glue_image(name: str, data: bytes, image_format: str) -> None:
    """Glue an encoded image (a GIF animation: ``image_format="gif"``) kept inside the notebook."""
    from IPython.display import Image
    from myst_nb import glue

    glue(name, Image(data=data, format=image_format), display=False)
