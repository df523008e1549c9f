"""The training loop: determinism, exact resume, checkpoints, snapshots and the run record."""

import json

import pytest
import torch

from sphereface_lib.config import preset
from sphereface_lib.train import CheckpointError, load_result, train

TIMING_FIELDS = {"train_seconds", "eval_seconds"}


def tiny(**overrides):
    """Seconds on a CPU: 384 training images, 3 steps an epoch."""
    values = dict(
        epochs=2,
        batch_size=128,
        train_limit=384,
        test_limit=200,
        snapshot_points=50,
        snapshot_frames=4,
        device="cpu",
    )
    return preset("smoke", **{**values, **overrides})


def without_timings(metrics):
    return [{k: v for k, v in row.items() if k not in TIMING_FIELDS} for row in metrics]


def weights(run_dir):
    return torch.load(run_dir / "model.pt", weights_only=True)


def assert_same_weights(a, b):
    for part in ("net", "head"):
        assert a[part].keys() == b[part].keys()
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key}"


@pytest.mark.parametrize("head", ["original", "modified", "angular"])
def test_same_seed_gives_identical_runs(head, data_root, tmp_path):
    config = tiny(head=head)
    first = train(config, tmp_path / "a", data_root, progress=False)
    second = train(config, tmp_path / "b", data_root, progress=False)
    assert without_timings(first.metrics) == without_timings(second.metrics)
    assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    assert torch.equal(first.snapshots.features, second.snapshots.features)


def test_another_seed_gives_another_run(data_root, tmp_path):
    first = train(tiny(seed=0), tmp_path / "a", data_root, progress=False)
    second = train(tiny(seed=1), tmp_path / "b", data_root, progress=False)
    assert without_timings(first.metrics) != without_timings(second.metrics)


@pytest.mark.parametrize("stop_at", [1, 3, 4])  # mid-epoch, at an epoch boundary, mid-epoch 2
def test_resumed_run_ends_identical_to_an_uninterrupted_one(stop_at, data_root, tmp_path):
    config = tiny(head="angular")
    whole = train(config, tmp_path / "whole", data_root, progress=False)
    partial = train(config, tmp_path / "split", data_root, progress=False, stop_at_step=stop_at)
    assert not partial.complete
    assert (tmp_path / "split" / "checkpoint.pt").exists()
    resumed = train(config, tmp_path / "split", data_root, progress=False)
    assert resumed.complete
    assert without_timings(resumed.metrics) == without_timings(whole.metrics)
    assert_same_weights(weights(tmp_path / "whole"), weights(tmp_path / "split"))
    assert torch.equal(resumed.snapshots.features, whole.snapshots.features)
    assert not (tmp_path / "split" / "checkpoint.pt").exists()


def test_checkpoint_of_another_configuration_is_refused(data_root, tmp_path):
    train(tiny(), tmp_path, data_root, progress=False, stop_at_step=1)
    with pytest.raises(CheckpointError, match=r"different configuration \(fields \['margin'\]"):
        train(tiny(margin=3), tmp_path, data_root, progress=False)


def test_corrupt_checkpoint_is_a_clear_error(data_root, tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"\x00not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read as a checkpoint.*Delete it"):
        train(tiny(), tmp_path, data_root, progress=False)


def test_run_record_and_snapshots(data_root, tmp_path):
    config = tiny(embedding_dim=3)
    result = train(config, tmp_path, data_root, progress=False)
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["config"] == config.to_dict()
    assert record["library_version"] and record["hardware"]["torch"] == torch.__version__
    assert [row["epoch"] for row in record["metrics"]] == [1.0, 2.0]
    assert record["train_images"] == 384 and record["test_images"] == 200
    # Frames: before training, then 4 spread over the 6 steps; 50 points of 3 dimensions and
    # 10 class weights.
    assert result.snapshots.features.shape == (5, 50, 3)
    assert result.snapshots.weights.shape == (5, 10, 3)
    assert result.snapshots.steps.tolist() == [0, 2, 3, 5, 6]
    assert result.test_features.shape == (200, 3)
    loaded = load_result(tmp_path)
    assert loaded.metrics == result.metrics
    assert torch.equal(loaded.test_features, result.test_features)
    net, head = loaded.load_model()
    assert head.weight.shape == (10, 3)


@pytest.mark.parametrize(("total_steps", "frames"), [(469 * 7, 48), (469 * 2, 48), (32, 8), (5, 8)])
def test_snapshot_frames_are_spread_over_the_whole_run(total_steps, frames):
    """The frame count does not depend on the epochs; the last frame is the trained state."""
    from sphereface_lib.train import _snapshot_steps

    steps = sorted(_snapshot_steps(total_steps, frames))
    assert len(steps) == min(frames, total_steps)
    assert steps[0] >= 1 and steps[-1] == total_steps
    gaps = [b - a for a, b in zip([0, *steps], steps, strict=False)]
    assert max(gaps) - min(gaps) <= 1


def test_test_accuracy_is_computed_on_margin_free_logits(data_root, tmp_path):
    result = train(tiny(head="angular"), tmp_path, data_root, progress=False)
    net, head = result.load_model()
    from sphereface_lib.data import load_mnist, normalize_images

    test = load_mnist("test", data_root)
    with torch.no_grad():
        features = net(normalize_images(test.images[:200]))
        accuracy = (head(features).argmax(1) == test.labels[:200]).float().mean().item()
    assert accuracy == pytest.approx(result.final_test_accuracy, abs=1e-6)


def test_divergence_is_reported_and_checkpointed(data_root, tmp_path):
    config = tiny(head="original", learning_rate=1e6, warmup_epochs=0.0)
    with pytest.raises((FloatingPointError, ValueError), match="(loss became|NaN or infinity)"):
        train(config, tmp_path, data_root, progress=False)
