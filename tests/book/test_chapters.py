"""Each chapter's settings: the profile's values where a parameter is None, the given ones
otherwise; one MNIST grid for the landing page, chapters 2, 3 and 5 and the script."""

import pytest

from sphereface_lib.book import beyond, chapters
from sphereface_lib.book.chapters import (
    FULL_EPOCHS,
    MNIST_SEEDS,
    beyond_settings,
    embeddings_settings,
    faces_settings,
    formulations_settings,
    grid,
    intro_settings,
    mnist_accuracy_settings,
    mnist_grid,
    nets_settings,
)
from sphereface_lib.training.config import preset


def test_grid_nests_heads_then_dimensions_then_seeds_with_the_full_epochs():
    configs = grid("full", ["original", "angular"], [2, 3], [0, 1], margin=3)
    assert [(c.head, c.embedding_dim, c.seed) for c in configs] == [
        (head, dim, seed) for head in ("original", "angular") for dim in (2, 3) for seed in (0, 1)
    ]
    assert [c.epochs for c in configs[:4]] == [FULL_EPOCHS[2]] * 2 + [FULL_EPOCHS[3]] * 2
    assert {c.margin for c in configs} == {3}
    smoke = grid("smoke", ["modified"], [2], [5])
    assert smoke[0].epochs == preset("smoke").epochs and smoke[0].train_limit is not None


@pytest.mark.parametrize("profile", ["smoke", "full"])
def test_the_mnist_grid_is_one_grid_for_every_chapter(profile):
    table = set(mnist_grid(profile))
    assert len(table) == 3 * 2 * len(MNIST_SEEDS[profile])
    assert set(mnist_accuracy_settings(profile).configs) == table
    assert set(intro_settings(profile).configs) == {c for c in table if c.embedding_dim == 2}
    shown = set(embeddings_settings(profile, seed=0).configs)
    assert shown == {c for c in table if c.seed == 0}
    assert beyond.chapter_2_configs(profile) == table


def test_none_takes_the_profile_value_and_a_given_value_wins():
    assert mnist_accuracy_settings("smoke").seeds == MNIST_SEEDS["smoke"]
    assert mnist_accuracy_settings("full", seeds=[7]).seeds == (7,)
    assert intro_settings("full").seeds == MNIST_SEEDS["full"]
    assert formulations_settings("smoke").grid_points < formulations_settings("full").grid_points
    assert formulations_settings("full", grid_points=11).grid_points == 11
    assert nets_settings("smoke").demo_epochs == chapters.DEMO_EPOCHS["smoke"]
    assert nets_settings("full", demo_epochs=3).demo_epochs == 3
    assert faces_settings("full").lfw_pairs_per_class == chapters.LFW_PAIRS_PER_CLASS["full"]
    assert faces_settings("smoke", lfw_pairs_per_class=9).lfw_pairs_per_class == 9
    assert beyond_settings("full").seeds == chapters.BEYOND_DEFAULTS["full"]["seeds"]


@pytest.mark.parametrize(
    "settings",
    [
        intro_settings,
        formulations_settings,
        mnist_accuracy_settings,
        embeddings_settings,
        nets_settings,
        beyond_settings,
        faces_settings,
    ],
)
def test_an_unknown_profile_is_a_one_line_error(settings):
    with pytest.raises(ValueError, match="unknown profile 'fast'; choose one of smoke, full"):
        settings("fast")
