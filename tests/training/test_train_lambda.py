"""The lambda of each training batch, counted as the official margin layer counts.

The official MarginInnerProduct layer starts its counter at ``iteration: 0``
(train/code/sphereface_model.prototxt, layer fc6) and increments it *before* computing lambda
(tools/caffe-sphereface/src/caffe/layers/margin_inner_product_layer.cpp, lines 111-117;
``Forward_gpu`` in the .cu file does the same), so the n-th training batch (n = 1, 2, ...) uses
lambda = max(lambda_min, base * (1 + gamma * n)^-power).
"""

import pytest

from sphereface_lib.heads import AngularSoftmaxHead
from sphereface_lib.training import lambda_at, train
from sphereface_lib.training.config import preset

# The fc6 layer of the official prototxts: base 1000, gamma 0.12, power 1, lambda_min 5.
BASE, GAMMA, POWER, LAMBDA_MIN = 1000.0, 0.12, 1.0, 5.0


def official_lambda(iteration: int) -> float:
    """The official formula (margin_inner_product_layer.cpp, lines 116-117)."""
    return max(LAMBDA_MIN, BASE * (1.0 + GAMMA * iteration) ** (-POWER))


def official_iteration_of_batch(batch: int) -> int:
    """The layer's counter when the n-th batch (from 1) is forwarded: 0, then += 1, then lambda."""
    counter = 0  # iteration: 0
    for _ in range(batch):
        counter += 1  # iter_ += 1, before lambda is computed
    return counter


@pytest.mark.parametrize("batch", [1, 2, 1000, 1658, 1659, 1660])
def test_lambda_of_the_nth_batch_is_the_official_layers(batch):
    config = preset("casia")
    assert (config.lambda_base, config.lambda_gamma) == (BASE, GAMMA)
    assert (config.lambda_power, config.lambda_min) == (POWER, LAMBDA_MIN)
    updates_before = batch - 1  # the training loop's step when it trains the n-th batch
    expected = official_lambda(official_iteration_of_batch(batch))
    assert lambda_at(config, updates_before) == pytest.approx(expected, rel=1e-15, abs=0.0)


def test_pinned_values_of_the_official_schedule():
    # Written out, so that the book's numbers can be checked against them.
    config = preset("casia")
    assert lambda_at(config, 0) == pytest.approx(1000 / 1.12)  # 892.857...
    assert lambda_at(config, 0) == pytest.approx(892.857142857, abs=1e-9)
    assert lambda_at(config, 1) == pytest.approx(806.451612903, abs=1e-9)  # 1000 / 1.24
    assert lambda_at(config, 999) == pytest.approx(8.264462810, abs=1e-9)  # 1000 / 121
    assert lambda_at(config, 1657) == pytest.approx(5.001000200, abs=1e-9)  # batch 1,658
    assert lambda_at(config, 1658) == LAMBDA_MIN  # batch 1,659: the first at the floor
    assert lambda_at(config, 1659) == LAMBDA_MIN  # batch 1,660


def test_heads_without_a_margin_get_zero():
    for head in ("original", "modified"):
        assert lambda_at(preset("full", head=head), 0) == 0.0


def test_the_training_loop_passes_the_official_lambda_to_the_head(tmp_path, monkeypatch):
    seen: list[float] = []
    forward = AngularSoftmaxHead.forward

    def recording_forward(self, features, labels=None, lam=0.0):
        if self.training and labels is not None:
            seen.append(lam)
        return forward(self, features, labels, lam)

    monkeypatch.setattr(AngularSoftmaxHead, "forward", recording_forward)
    config = preset(
        "smoke",
        dataset="synthetic",
        head="angular",
        max_steps=3,
        batch_size=64,
        train_limit=256,
        test_limit=64,
        snapshot_points=0,
        device="cpu",
    )
    result = train(config, tmp_path, progress=False)
    training_lambdas = seen[:3]  # the three training batches, before the evaluation
    assert training_lambdas == [official_lambda(n) for n in (1, 2, 3)]
    assert result.metrics[-1]["lambda"] == official_lambda(3)  # the last batch trained
