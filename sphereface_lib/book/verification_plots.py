"""Figures of face verification: ROC curves of several heads and the scores of one head."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sphereface_lib.book.face_experiments import Verification
from sphereface_lib.book.plots import HEAD_COLOURS

CHANCE_COLOUR = "#999999"  # also the colour of different-person pairs


def plot_roc(
    ax: Any, results: Mapping[str, Verification], labels: Mapping[str, str], title: str
) -> None:
    """ROC curve of each head's ``Verification`` (keys are head names), AUC in the legend."""
    for head, result in results.items():
        false_positive_rate, true_positive_rate, _ = result.roc()
        ax.plot(
            false_positive_rate.numpy(),
            true_positive_rate.numpy(),
            color=HEAD_COLOURS.get(head),
            label=f"{labels.get(head, head)}, AUC {result.auc:.3f}",
        )
    ax.plot([0, 1], [0, 1], color=CHANCE_COLOUR, linestyle=":", linewidth=1, label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title, fontsize=10)
    ax.set_aspect("equal")
    ax.legend(fontsize=9, loc="lower right")


def plot_scores(ax: Any, result: Verification, colour: str, title: str, bins: int = 40) -> None:
    """Histograms of the cosine scores of same-person and different-person pairs."""
    edges = np.linspace(-1.0, 1.0, bins + 1)
    scores = result.scores.numpy()
    same = result.same.numpy()
    ax.hist(scores[same], bins=edges, color=colour, alpha=0.8, label="same person")
    ax.hist(scores[~same], bins=edges, color=CHANCE_COLOUR, alpha=0.6, label="different people")
    ax.set_xlabel("cosine score of the pair")
    ax.set_ylabel("pairs")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9, loc="upper left")
