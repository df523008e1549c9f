"""Chapter 7's runs and the verification of digits the network never saw."""

import torch

from sphereface_lib.book.chapters import open_set_settings
from sphereface_lib.book.face_experiments import LAMBDA_FLOOR_FRACTION
from sphereface_lib.book.open_set import (
    OPEN_SET_TRAIN_IMAGES,
    open_set_config,
    open_set_configs,
    verify_unseen_digits,
)
from sphereface_lib.data.training_sets import load_training_data
from sphereface_lib.maths.margins import annealed_lambda
from sphereface_lib.training import train


def test_the_runs_cover_heads_dimensions_and_seeds_and_reach_the_lambda_floor():
    settings = open_set_settings("full")
    configs = open_set_configs(settings, device="cpu")
    assert len(configs) == 5 * 2 * 3
    assert {c.dataset for c in configs} == {"mnist_open"}
    angular = [c for c in configs if c.head == "angular"]
    assert sorted({c.margin for c in angular}) == [2, 3, 4]
    config = open_set_config(settings, "angular", 4, 2, 0, device="cpu")
    steps = -(-OPEN_SET_TRAIN_IMAGES // config.batch_size) * config.epochs
    floor = round(LAMBDA_FLOOR_FRACTION * steps)
    lam = annealed_lambda(
        floor + 1, config.lambda_base, config.lambda_gamma, config.lambda_power, config.lambda_min
    )
    assert lam == config.lambda_min


def test_the_training_count_is_the_mnist_readme_s(data_root):
    data = load_training_data("mnist_open", data_root)
    assert len(data.train_labels) == OPEN_SET_TRAIN_IMAGES
    assert data.num_classes == 6 and int(data.train_labels.max()) == 5
    assert int(data.test_labels.max()) == 5


def test_unseen_digits_are_verified_in_class_disjoint_folds(data_root, tmp_path):
    settings = open_set_settings("smoke", pairs_per_fold=40)
    config = open_set_config(settings, "angular", 4, 2, 0, device="cpu").replace(
        train_limit=256, test_limit=64, epochs=1, snapshot_points=0
    )
    run = train(config, tmp_path / "run", data_root=data_root, progress=False)
    result = verify_unseen_digits(run, settings, data_root, device="cpu")
    assert set(result.held_out_labels.unique().tolist()) == {6, 7, 8, 9}
    assert result.held_out_features.shape == (len(result.held_out_labels), 2)
    assert result.official.folds == (1, 2) and result.plain.folds == (1, 2)
    assert all(0 <= a <= 1 for a in result.official.accuracies + result.plain.accuracies)
    assert result.closed_set_accuracy == run.final_test_accuracy
    assert torch.isfinite(result.held_out_features).all()
