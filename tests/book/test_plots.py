"""Figures: embeddings in 2-D and 3-D by class, class angles per run, the palette."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from sphereface_lib.analysis.angles import class_angles
from sphereface_lib.book.pages import HEAD_NAMES
from sphereface_lib.book.plots import (
    CLASS_COLOURS,
    HEAD_COLOURS,
    HEAD_LABELS,
    class_style,
    plot_class_angles,
    scatter_2d,
    scatter_3d,
    series_style,
)


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


def test_classes_differ_in_colour_and_marker():
    styles = [class_style(index) for index in range(100)]
    assert len(set(styles)) == 100
    first_ten = styles[:10]
    assert len({colour for colour, _ in first_ten}) == len({m for _, m in first_ten}) == 10


def six_classes(dimension):
    generator = torch.Generator().manual_seed(6)
    features = torch.randn(36, dimension, generator=generator)
    weights = torch.randn(6, dimension, generator=generator)
    return features, torch.arange(36) % 6, weights


@pytest.mark.parametrize("scatter", [scatter_2d, scatter_3d])
def test_scatter_names_six_classes_in_its_legend(scatter):
    features, labels, weights = six_classes(2 if scatter is scatter_2d else 3)
    names = ["Ariel", "Colin", "Donald", "George", "Tony", "Hugo"]
    figure = plt.figure()
    ax = figure.add_subplot(projection="3d" if scatter is scatter_3d else None)
    scatter(ax, features, labels, weights, class_names=names, legend_title="person")
    legend = ax.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == names
    assert legend.get_title().get_text() == "person"
    assert ax.get_legend_handles_labels()[1] == names  # for a legend made by the caller
    plt.close(figure)


def test_2d_points_go_to_their_class_and_rays_point_along_the_weights():
    features, labels, weights = six_classes(2)
    figure, ax = plt.subplots()
    panel = scatter_2d(ax, features, labels, weights, legend=False)
    for index, collection in enumerate(panel.points):
        np.testing.assert_allclose(collection.get_offsets(), features[labels == index].numpy())
    for tip, weight in zip(panel.tips, weights, strict=True):
        end = np.array([tip.get_xdata()[0], tip.get_ydata()[0]])
        np.testing.assert_allclose(end / np.linalg.norm(end), (weight / weight.norm()).numpy())
    assert ax.get_legend() is None
    plt.close(figure)


def test_3d_points_lie_on_the_unit_sphere():
    features, labels, weights = six_classes(3)
    figure = plt.figure()
    panel = scatter_3d(figure.add_subplot(projection="3d"), features * 7, labels, weights)
    shown = np.concatenate(
        [np.transpose(c._offsets3d) for c in panel.near + panel.far if len(c._offsets3d[0])]
    )
    assert len(shown) == len(features)
    np.testing.assert_allclose(np.linalg.norm(shown, axis=1), 1.0, rtol=1e-6)
    plt.close(figure)


def test_one_palette_and_one_vocabulary():
    """Head names are the pages' names; series colours come from the class palette."""
    assert HEAD_LABELS is HEAD_NAMES and set(HEAD_COLOURS) == set(HEAD_NAMES)
    styles = [series_style(index) for index in range(4)]
    assert len(set(styles)) == 4
    assert {colour for colour, _, _ in styles} <= set(CLASS_COLOURS)
    assert len({line for _, line, _ in styles}) == 4


def test_class_angles_without_a_legend_keep_their_labels_for_the_figure():
    weights = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    features = torch.tensor([[1.0, 0.1], [0.1, 1.0]])
    stats = class_angles(features, torch.tensor([0, 1]), weights)
    figure, ax = plt.subplots()
    plot_class_angles(ax, ["a"], [stats], legend=False)
    assert ax.get_legend() is None
    assert len(ax.get_legend_handles_labels()[1]) == 3
    plt.close(figure)
