"""The training loop: determinism, exact resume, checkpoints, snapshots and the run record;
output folders that are never overwritten, damaged files, bad settings, concurrent runs."""

import json
import math
import os
import subprocess
import sys

import pytest
import torch

from sphereface_lib.common.integrity import CorruptFileError
from sphereface_lib.data import DataFileError
from sphereface_lib.training import load_result, train
from sphereface_lib.training.checkpoints import CheckpointError
from sphereface_lib.training.config import preset
from sphereface_lib.training.run_folder import RunFolderError
from tests.common.test_integrity import flip_tensor_bytes

TIMING_FIELDS = {"train_seconds", "eval_seconds"}


def tiny(**overrides):
    """Seconds on a CPU: 384 training images of the synthetic set, 3 steps an epoch."""
    values = dict(
        dataset="synthetic",
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
def test_same_seed_gives_identical_runs(head, tmp_path):
    config = tiny(head=head)
    first = train(config, tmp_path / "a", progress=False)
    second = train(config, tmp_path / "b", progress=False)
    assert without_timings(first.metrics) == without_timings(second.metrics)
    assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    assert torch.equal(first.snapshots.features, second.snapshots.features)


def test_a_run_gives_the_same_numbers_whatever_threads_the_process_uses(tmp_path):
    """The run's own cpu_threads count, not the process's, so alone or in a pool is the same."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        alone = train(tiny(), tmp_path / "a", progress=False)
        assert torch.get_num_threads() == 2  # the process's setting is back
        torch.set_num_threads(1)
        pooled = train(tiny(), tmp_path / "b", progress=False)
    finally:
        torch.set_num_threads(before)
    assert without_timings(alone.metrics) == without_timings(pooled.metrics)
    assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    assert alone.record["hardware"]["cpu_threads"] == 1
    two = train(tiny(cpu_threads=2), tmp_path / "c", progress=False)
    assert two.record["hardware"]["cpu_threads"] == 2


def test_another_seed_gives_another_run(tmp_path):
    first = train(tiny(seed=0), tmp_path / "a", progress=False)
    second = train(tiny(seed=1), tmp_path / "b", progress=False)
    assert without_timings(first.metrics) != without_timings(second.metrics)


@pytest.mark.parametrize("stop_at", [1, 3, 4])  # mid-epoch, at an epoch boundary, mid-epoch 2
def test_resumed_run_ends_identical_to_an_uninterrupted_one(stop_at, tmp_path):
    config = tiny(head="angular")
    whole = train(config, tmp_path / "whole", progress=False)
    partial = train(config, tmp_path / "split", progress=False, stop_at_step=stop_at)
    assert not partial.complete
    assert (tmp_path / "split" / "checkpoint.pt").exists()
    resumed = train(config, tmp_path / "split", progress=False)
    assert resumed.complete
    assert without_timings(resumed.metrics) == without_timings(whole.metrics)
    assert_same_weights(weights(tmp_path / "whole"), weights(tmp_path / "split"))
    assert torch.equal(resumed.snapshots.features, whole.snapshots.features)
    assert not (tmp_path / "split" / "checkpoint.pt").exists()


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    train(tiny(), tmp_path, progress=False, stop_at_step=1)
    with pytest.raises(CheckpointError, match=r"different configuration \(fields \['margin'\]"):
        train(tiny(margin=3), tmp_path, progress=False)


def test_checkpoint_of_other_code_is_refused(tmp_path, monkeypatch):
    from sphereface_lib.training import checkpoints

    train(tiny(), tmp_path, progress=False, stop_at_step=1)
    monkeypatch.setattr(checkpoints, "code_fingerprint", lambda: "0" * 16)
    with pytest.raises(CheckpointError, match="written by other library code .*delete the file"):
        train(tiny(), tmp_path, progress=False)


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"\x00not a checkpoint")
    with pytest.raises(
        CheckpointError, match=r"checkpoint\.pt cannot be read .*damaged; delete it"
    ):
        train(tiny(), tmp_path, progress=False)


def test_run_record_and_snapshots(tmp_path):
    config = tiny(embedding_dim=3)
    result = train(config, tmp_path, progress=False)
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
    from sphereface_lib.training.snapshots import snapshot_steps

    steps = sorted(snapshot_steps(total_steps, frames))
    assert len(steps) == min(frames, total_steps)
    assert steps[0] >= 1 and steps[-1] == total_steps
    gaps = [b - a for a, b in zip([0, *steps], steps, strict=False)]
    assert max(gaps) - min(gaps) <= 1


@pytest.mark.data
def test_a_real_mnist_run_is_deterministic_and_scored_on_margin_free_logits(data_root, tmp_path):
    config = tiny(head="angular", dataset="mnist")
    result = train(config, tmp_path / "a", data_root, progress=False)
    again = train(config, tmp_path / "b", data_root, progress=False)
    assert without_timings(result.metrics) == without_timings(again.metrics)
    assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    net, head = result.load_model()
    from sphereface_lib.data import load_mnist, normalize_images

    test = load_mnist("test", data_root)
    with torch.no_grad():
        features = net(normalize_images(test.images[:200]))
        accuracy = (head(features).argmax(1) == test.labels[:200]).float().mean().item()
    assert accuracy == pytest.approx(result.final_test_accuracy, abs=1e-6)


def test_divergence_is_reported_and_checkpointed(tmp_path, monkeypatch):
    """A loss that becomes infinite in the second epoch (5th update) while the features are
    still finite, so the head's check of its input does not fire first: the loop stops at once
    and keeps the checkpoint of the end of the first epoch (step 3), not the corrupt state."""
    from sphereface_lib.training.head_runner import ReplicatedHead

    step_losses = ReplicatedHead.step_losses
    calls = []

    def diverging(runner, images, labels, lam, mine):
        loss, losses, correct = step_losses(runner, images, labels, lam, mine)
        calls.append(len(calls))
        if len(calls) == 5:
            return loss * math.inf, losses * math.inf, correct
        return loss, losses, correct

    monkeypatch.setattr(ReplicatedHead, "step_losses", diverging)
    with pytest.raises(FloatingPointError) as error:
        train(tiny(head="original"), tmp_path, progress=False)
    assert str(error.value) == (
        "the training loss became inf at step 5 (original d=2 seed=0); lower learning_rate or "
        f"raise lambda_min; the checkpoint of step 3 in {tmp_path / 'checkpoint.pt'} is kept"
    )
    assert len(calls) == 5  # no update after the divergence
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 3
    assert not (tmp_path / "result.json").exists()


def snapshot_of_files(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def test_a_finished_run_of_another_configuration_is_never_overwritten(tmp_path):
    train(tiny(), tmp_path, progress=False)
    before = snapshot_of_files(tmp_path)
    with pytest.raises(RunFolderError, match=r"finished run of another configuration \(margin: 4 "):
        train(tiny(margin=2), tmp_path, progress=False)
    with pytest.raises(RunFolderError, match="another configuration"):
        train(tiny(margin=2), tmp_path, progress=False, force=True)
    assert snapshot_of_files(tmp_path) == before


def test_the_same_configuration_reads_the_finished_run_back(tmp_path):
    first = train(tiny(), tmp_path, progress=False)
    written = (tmp_path / "result.json").stat().st_mtime_ns
    again = train(tiny(), tmp_path, progress=False)
    assert again.complete and again.record == first.record  # the same timings: not retrained
    assert (tmp_path / "result.json").stat().st_mtime_ns == written
    forced = train(tiny(), tmp_path, progress=False, force=True)
    assert (tmp_path / "result.json").stat().st_mtime_ns != written
    assert without_timings(forced.metrics) == without_timings(first.metrics)


def test_a_damaged_checkpoint_is_an_error_not_a_silent_resume(tmp_path):
    train(tiny(), tmp_path, progress=False, stop_at_step=2)
    flip_tensor_bytes(tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match=r"checkpoint\.pt is damaged: .*; delete it"):
        train(tiny(), tmp_path, progress=False)


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("result.json", truncate),
        ("test_features.pt", truncate),
        ("snapshots.pt", flip_tensor_bytes),
        ("model.pt", flip_tensor_bytes),
    ],
)
def test_a_damaged_result_file_is_an_error_naming_it(name, damage, tmp_path):
    train(tiny(), tmp_path, progress=False)
    damage(tmp_path / name)
    expected = rf"{name} (cannot be read|is damaged).*delete the folder .*--force"
    with pytest.raises(CorruptFileError, match=expected) as error:
        load_result(tmp_path).load_model()
    assert "\n" not in str(error.value)


def test_bad_settings_are_refused_before_a_folder_is_made(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(RunFolderError, match=r"output folder .*a-file is a file"):
        train(tiny(), tmp_path / "a-file", progress=False)
    with pytest.raises(RunFolderError, match=r"cannot be created: .*a-file is a file"):
        train(tiny(), tmp_path / "a-file" / "run", progress=False)
    with pytest.raises(ValueError, match="stop_at_step must be a positive number of updates"):
        train(tiny(), tmp_path / "run", progress=False, stop_at_step=-5)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="'cuda' was requested but CUDA is not available"):
            train(tiny(device="cuda"), tmp_path / "run", progress=False)
    with pytest.raises(DataFileError, match="is missing"):
        train(tiny(dataset="mnist"), tmp_path / "run" / "deeper", tmp_path / "no-data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    # A folder that cannot be written (simulated: the tests may run as root, who can write
    # anywhere): refused before the first step, not after an epoch.
    (tmp_path / "read-only").mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(RunFolderError, match=r"output folder .*read-only is not writable"):
        train(tiny(), tmp_path / "read-only", progress=False)
    with pytest.raises(RunFolderError, match=r"cannot be created: .* is not writable"):
        train(tiny(), tmp_path / "read-only" / "run", progress=False)


CONCURRENT_RUN = """
import json, sys
from sphereface_lib.training.cache import train_or_load
from sphereface_lib.training.config import preset
config = preset("smoke", dataset="synthetic", epochs=3, batch_size=32, train_limit=512,
                test_limit=100, snapshot_points=20, snapshot_frames=8, device="cpu")
result = train_or_load(config, sys.argv[1], progress=False)
print(json.dumps(result.record))
"""


def test_two_processes_asking_for_the_same_run_train_it_once(tmp_path):
    """As two notebooks on one cache would: one trains, the other waits and reads its result."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-c", CONCURRENT_RUN, str(tmp_path / "cache")]
    processes = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()[-2000:]
    records = [json.loads(stdout) for stdout, _ in outputs]
    assert records[0] == records[1]  # one run, read back by the other (same timings)
    waited = [b"waiting for another process" in stderr for _, stderr in outputs]
    assert sum(waited) == 1, [stderr.decode()[-500:] for _, stderr in outputs]
    (run_dir,) = (tmp_path / "cache").iterdir()
    assert sorted(p.name for p in run_dir.iterdir() if not p.name.startswith(".lock")) == [
        "model.pt", "result.json", "snapshots.pt", "test_features.pt"
    ]  # fmt: skip
