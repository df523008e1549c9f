"""Face-run configurations, the lambda schedule, verification and cost estimates."""

import math

import pytest
import torch
from torch import nn

from sphereface_lib.analysis.verification import (
    PROTOCOLS,
    KFoldResult,
    kfold_accuracy,
    official_kfold_accuracy,
)
from sphereface_lib.book.face_experiments import (
    LAMBDA_FLOOR_FRACTION,
    SUMMARY_COLUMNS,
    VERIFICATION_COLUMNS,
    Verification,
    face_config,
    face_net,
    floor_reaching_gamma,
    fold_rows,
    summary_row,
    training_flops,
    training_hours,
    verification_columns,
    verification_row,
    verify,
)
from sphereface_lib.data import PairTensors
from sphereface_lib.maths.margins import annealed_lambda
from sphereface_lib.training.config import TrainConfig


@pytest.mark.parametrize("power", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("floor_step", [10, 225.6, 1658])
def test_lambda_reaches_its_floor_at_the_chosen_step(power, floor_step):
    gamma = floor_reaching_gamma(floor_step, base=1000.0, power=power, lambda_min=5.0)
    at_floor = 1000.0 * (1 + gamma * floor_step) ** -power
    assert at_floor == pytest.approx(5.0)
    before = annealed_lambda(int(floor_step * 0.9), gamma=gamma, power=power)
    assert before > 5.0
    assert annealed_lambda(int(floor_step) + 1, gamma=gamma, power=power) == 5.0


def test_the_official_gamma_reaches_the_floor_at_step_1658():
    assert floor_reaching_gamma(199 / 0.12) == pytest.approx(TrainConfig().lambda_gamma)
    with pytest.raises(ValueError, match="positive"):
        floor_reaching_gamma(0)
    with pytest.raises(ValueError, match="lambda_min < base"):
        floor_reaching_gamma(10, base=5.0, lambda_min=5.0)


def test_face_net_is_the_cpu_sized_net_on_the_cpu():
    assert face_net("cpu") == "sphere4_half"
    if torch.cuda.is_available():
        assert face_net("cuda") == "sphere20"


def test_face_config_with_an_explicit_gamma_needs_no_data():
    config = face_config("full", "lfw", "angular", device="cpu", lambda_gamma=0.5)
    assert (config.dataset, config.net, config.embedding_dim) == ("lfw", "sphere4_half", 512)
    assert config.lambda_gamma == 0.5 and config.snapshot_points == 0
    with pytest.raises(ValueError, match="no face settings"):
        face_config("full", "mnist", "angular")


def test_face_config_anneals_lambda_to_its_floor_within_the_run(faces_root):
    config = face_config("full", "att", "angular", device="cpu", data_root=faces_root)
    steps = math.ceil(240 / config.batch_size) * config.epochs  # 30 subjects x 8 images
    floor_step = LAMBDA_FLOOR_FRACTION * steps
    assert config.lambda_gamma == pytest.approx(199 / floor_step, rel=1e-5)


class Identity(nn.Module):
    """(N, C, H, W) -> (N, C*H*W); mirroring leaves symmetric images unchanged."""

    def forward(self, images):
        return images.flatten(1)


def test_verify_separates_identical_from_orthogonal_images():
    images = torch.zeros(4, 1, 2, 2)
    images[0, 0, 0] = images[1, 0, 0] = 1.0  # rows are mirror-symmetric
    images[2, 0, 1] = images[3, 0, 0] = 1.0
    pairs = PairTensors(
        images=images,
        first=torch.tensor([0, 2, 0, 1]),
        second=torch.tensor([1, 2, 2, 2]),
        same=torch.tensor([True, True, False, False]),
        fold=torch.tensor([1, 2, 1, 2]),
    )
    result = verify(Identity(), pairs)
    torch.testing.assert_close(result.scores, torch.tensor([1.0, 1.0, 0.0, 0.0]))
    assert result.plain.mean == 1.0 and result.auc == 1.0
    assert result.kfold is result.plain and result.protocol("plain") is result.plain
    features = images.flatten(1).repeat(1, 2)  # the image and its (identical) mirror
    assert result.official == official_kfold_accuracy(
        features[pairs.first], features[pairs.second], pairs.same, pairs.fold
    )
    assert result.plain == kfold_accuracy(result.scores, pairs.same, pairs.fold)
    false_positive_rate, true_positive_rate, _ = result.roc()
    assert true_positive_rate[-1] == 1.0 and false_positive_rate[-1] == 1.0


def test_training_cost_arithmetic():
    assert training_flops(10, 3, 4) == 6 * 10 * 3 * 4
    assert training_hours(10**9, 1000, 100, 0.6) == pytest.approx(6e14 / 0.6e12 / 3600)
    with pytest.raises(ValueError, match="positive"):
        training_hours(1, 1, 1, 0)


def kfold(accuracies):
    return KFoldResult(
        folds=tuple(range(1, len(accuracies) + 1)),
        accuracies=tuple(accuracies),
        thresholds=(0.0,) * len(accuracies),
        mean=sum(accuracies) / len(accuracies),
        std=0.01,
        standard_error=0.005,
    )


def test_verification_rows_for_one_or_both_protocols():
    result = Verification(
        scores=torch.zeros(2),
        same=torch.tensor([True, False]),
        fold=torch.tensor([1, 2]),
        official=kfold([0.99, 0.97]),
        plain=kfold([0.96, 0.94]),
        auc=0.995,
    )
    assert len(VERIFICATION_COLUMNS) == 6
    assert verification_row("A-Softmax", "sphere20", result, 0.9) == [
        "A-Softmax", "sphere20", "95.00 ± 1.00", "96.00 / 94.00", "0.9950", "90.00",
    ]  # fmt: skip
    columns = verification_columns(PROTOCOLS)
    assert columns[2:6] == (
        "verification accuracy, official protocol (%)",
        "verification accuracy, plain protocol (%)",
        "per fold, official protocol (%)",
        "per fold, plain protocol (%)",
    )
    row = verification_row("A-Softmax", "sphere20", result, None, PROTOCOLS)
    assert len(row) == len(columns)
    assert row[2:] == [
        "98.00 ± 1.00", "95.00 ± 1.00", "99.00 / 97.00", "96.00 / 94.00", "0.9950", "–",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="unknown protocol 'lfw'"):
        verification_columns(("lfw",))


def test_summary_and_fold_rows_put_the_official_protocol_first():
    result = Verification(
        scores=torch.zeros(2),
        same=torch.tensor([True, False]),
        fold=torch.tensor([1, 2]),
        official=kfold([0.99, 0.97]),
        plain=kfold([0.96, 0.94]),
        auc=0.995,
    )
    assert SUMMARY_COLUMNS[1:3] == ("official protocol (%)", "plain protocol (%)")
    assert summary_row("A-Softmax (m=4)", result, 0.9) == [
        "A-Softmax (m=4)", "98.00 ± 1.00", "95.00 ± 1.00", "0.9950", "90.00",
    ]  # fmt: skip
    assert summary_row("x", result, None)[-1] == "–"
    rows, columns = fold_rows({"angular": result}, {"angular": "A-Softmax (m=4)"})
    assert columns == ["head", "fold 1", "fold 2"]
    assert rows == [["A-Softmax (m=4)", "99.00", "97.00"]]
    rows, _ = fold_rows({"angular": result}, {}, protocol="plain")
    assert rows == [["angular", "96.00", "94.00"]]
