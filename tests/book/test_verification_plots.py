"""Verification figures draw one curve per head and both score histograms."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import torch

from sphereface_lib.analysis.verification import kfold_accuracy, official_kfold_accuracy, roc_auc
from sphereface_lib.book.face_experiments import Verification, verification_row
from sphereface_lib.book.verification_plots import plot_roc, plot_scores


def toy_result():
    scores = torch.tensor([0.9, 0.8, 0.1, 0.3, 0.7, 0.2])
    same = torch.tensor([True, True, False, False, True, False])
    fold = torch.tensor([1, 1, 1, 2, 2, 2])
    features = torch.stack([scores, 1 - scores], dim=1)  # any pair features will do here
    return Verification(
        scores=scores,
        same=same,
        fold=fold,
        official=official_kfold_accuracy(features, features.flip(0), same, fold),
        plain=kfold_accuracy(scores, same, fold),
        auc=roc_auc(scores, same),
    )


def test_plot_roc_draws_each_head_and_chance():
    figure, ax = plt.subplots()
    plot_roc(ax, {"original": toy_result(), "angular": toy_result()}, {"angular": "A"}, "t")
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["original, AUC 1.000", "A, AUC 1.000", "chance"]
    plt.close(figure)


def test_plot_scores_splits_same_and_different_pairs():
    figure, ax = plt.subplots()
    plot_scores(ax, toy_result(), "#009E73", "t", bins=4)
    same_bars, different_bars = ax.containers
    assert sum(bar.get_height() for bar in same_bars) == 3
    assert sum(bar.get_height() for bar in different_bars) == 3
    plt.close(figure)


def test_verification_row_in_percent():
    row = verification_row("A", "net", toy_result(), 0.5)
    assert row == ["A", "net", "100.00 ± 0.00", "100.00 / 100.00", "1.0000", "50.00"]
    assert verification_row("A", "net", toy_result(), None)[-1] == "–"
