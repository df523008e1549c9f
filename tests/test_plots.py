"""Figures of the beyond chapter: class angles per run, final embeddings in a grid."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from sphereface_lib.angles import class_angles
from sphereface_lib.plots import final_embeddings_figure, plot_class_angles
from sphereface_lib.train import Snapshots


def test_lines_are_class_means_in_degrees():
    weights = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    degrees = torch.tensor([10.0, -20.0, 80.0, 100.0, 130.0, 170.0])
    radians = degrees.double().deg2rad()
    features = torch.stack([radians.cos(), radians.sin()], dim=1)
    stats = class_angles(features, torch.tensor([0, 0, 1, 1, 1, 2]), weights)
    figure, ax = plt.subplots()
    plot_class_angles(ax, ["a", "b"], [stats, stats], xlabel="run")
    intra, to_other, quarter = ax.get_lines()
    # intra per class: 20, 40, 10 degrees; nearest weights 90 apart, so a quarter is 22.5.
    np.testing.assert_allclose(intra.get_ydata(), [70 / 3, 70 / 3])
    np.testing.assert_allclose(quarter.get_ydata(), [22.5, 22.5])
    np.testing.assert_allclose(
        to_other.get_ydata(), [math.degrees(stats.to_other_weight.mean().item())] * 2
    )
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["a", "b"]
    plt.close(figure)


def test_names_and_stats_must_pair_up():
    figure, ax = plt.subplots()
    with pytest.raises(ValueError, match="2 names for 1 sets"):
        plot_class_angles(ax, ["a", "b"], [None])
    plt.close(figure)


def toy_snapshots(dimension):
    generator = torch.Generator().manual_seed(dimension)
    return Snapshots(
        steps=torch.tensor([0, 5]),
        epochs=torch.tensor([0.0, 1.0]),
        features=torch.randn(2, 30, dimension, generator=generator),
        weights=torch.randn(2, 10, dimension, generator=generator),
        labels=torch.arange(30) % 10,
    )


@pytest.mark.parametrize(("count", "columns", "shape"), [(5, 3, (2, 3)), (2, 3, (1, 2))])
def test_final_embeddings_fill_rows_of_panels(count, columns, shape):
    figure = final_embeddings_figure(
        [toy_snapshots(2)] * count, [f"run {i}" for i in range(count)], columns=columns
    )
    axes = figure.get_axes()
    assert len(axes) == count
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == shape
    assert [ax.get_title() for ax in axes] == [f"run {i}" for i in range(count)]
    assert axes[-1].get_legend() is not None and axes[0].get_legend() is None
    plt.close(figure)


def test_final_embeddings_need_a_title_per_run():
    with pytest.raises(ValueError, match="one title per run"):
        final_embeddings_figure([toy_snapshots(3)], [])
