"""Fault injection: runs interrupted by SIGINT, SIGTERM and SIGKILL at several points resume
bit-identical to an uninterrupted run; SIGINT and SIGTERM end with one line, no traceback.

Each interrupted run is the command line in a subprocess whose code sends the signal to
itself at a chosen point: inside ``optimizer.step()`` (mid-update), during the evaluation at
the end of an epoch, or between writing a checkpoint and putting it in place.
"""

import os
import re
import signal
import subprocess
import sys
import threading

import pytest
import torch

from sphereface_lib.training import train
from sphereface_lib.training.interrupts import StopSignals, TrainingInterrupted
from tests.training.test_train import assert_same_weights, tiny, weights, without_timings

EPOCHS = 3  # 3 updates an epoch: 9 in all, checkpoints after updates 3 and 6

DRIVER = """
import os, signal, sys
import torch
from sphereface_lib import cli
from sphereface_lib.common import integrity
from sphereface_lib.training import loop as training

kind, point, occurrence = sys.argv[1], sys.argv[2], int(sys.argv[3])
calls = {"count": 0}


def fire():
    calls["count"] += 1
    if calls["count"] == occurrence:
        os.kill(os.getpid(), getattr(signal, kind))


def wrap(owner, name, before=None):
    original = getattr(owner, name)

    def wrapped(*args, **kwargs):
        if before is None or before(*args, **kwargs):
            fire()
        return original(*args, **kwargs)

    setattr(owner, name, wrapped)


if point == "update":  # inside optimizer.step(), before the parameters change
    wrap(torch.optim.SGD, "step")
elif point == "evaluate":  # the test-set evaluation at the end of an epoch
    wrap(training.Run, "end_epoch")
elif point == "save":  # the checkpoint is written, not yet in place
    wrap(integrity.os, "replace", lambda source, target: str(target).endswith("checkpoint.pt"))
sys.exit(cli.main(sys.argv[4:]))
"""


def cli_arguments(output):
    return [
        "train", "--profile", "smoke", "--dataset", "synthetic", "--epochs", str(EPOCHS),
        "--batch-size", "128",
        "--train-limit", "384", "--test-limit", "200", "--snapshot-points", "50",
        "--snapshot-frames", "4", "--device", "cpu", "--no-progress",
        "--output", str(output),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uninterrupted")
    result = train(tiny(epochs=EPOCHS), folder, progress=False)
    return result, folder


def interrupt(output, kind, point, occurrence):
    command = [sys.executable, "-c", DRIVER, kind, point, str(occurrence)]
    return subprocess.run(
        [*command, *cli_arguments(output)], capture_output=True, text=True, timeout=300
    )


# (signal, point, occurrence, the step whose checkpoint is on disk afterwards)
CASES = [
    ("SIGINT", "update", 2, 2),  # mid-update in epoch 1: stops after update 2
    ("SIGINT", "evaluate", 1, 3),  # during the evaluation of epoch 1
    ("SIGTERM", "update", 5, 5),  # mid-update in epoch 2
    ("SIGTERM", "save", 2, 6),  # while the checkpoint of epoch 2 is being put in place
    ("SIGKILL", "update", 2, None),  # before any checkpoint: the resume starts afresh
    ("SIGKILL", "update", 5, 3),  # the checkpoint of epoch 1 is what remains
    ("SIGKILL", "save", 2, 3),  # killed between writing a checkpoint and putting it in place
]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "point", "occurrence", "saved_step"), CASES)
def test_an_interrupted_run_resumes_bit_identical(
    kind, point, occurrence, saved_step, uninterrupted, tmp_path
):
    output = tmp_path / "run"
    finished = interrupt(output, kind, point, occurrence)
    if kind == "SIGKILL":
        assert finished.returncode == -signal.SIGKILL
    else:
        number = getattr(signal, kind)
        assert finished.returncode == 128 + number, finished.stderr[-2000:]
        assert "Traceback" not in finished.stderr
        last = finished.stderr.strip().splitlines()[-1]
        assert re.fullmatch(
            rf"interrupted by {kind} at step {saved_step}/9 \(.*\); checkpoint saved to "
            r".*checkpoint\.pt\. Run the same command \(or call\) again to resume\.",
            last,
        ), last
    if saved_step is None:
        assert not (output / "checkpoint.pt").exists()
    else:
        state = torch.load(output / "checkpoint.pt", weights_only=True)
        assert state["step"] == saved_step
    if kind == "SIGKILL" and point == "save":
        assert list(output.glob(".checkpoint.pt.*.partial")), "the kill left a partial write"

    reference, reference_folder = uninterrupted
    resumed = train(tiny(epochs=EPOCHS), output, progress=False)
    assert without_timings(resumed.metrics) == without_timings(reference.metrics)
    assert_same_weights(weights(output), weights(reference_folder))
    assert torch.equal(resumed.snapshots.features, reference.snapshots.features)
    assert torch.equal(resumed.test_features, reference.test_features)
    assert not list(output.glob("*.partial")) and not list(output.glob(".*.partial"))


@pytest.mark.data
def test_in_a_kernel_an_interrupt_stops_at_a_step_and_the_process_lives_on(
    data_root, tmp_path, monkeypatch
):
    """As a Jupyter kernel's interrupt: SIGINT in the middle of an update, in this process (on
    the real MNIST)."""
    from sphereface_lib.training import loop as training

    original = training.Run.train_step

    def interrupted_step(run):
        if run.step == 1:
            os.kill(os.getpid(), signal.SIGINT)  # handled before the update is done
        return original(run)

    monkeypatch.setattr(training.Run, "train_step", interrupted_step)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(TrainingInterrupted, match=r"SIGINT at step 2/6 .*checkpoint saved") as e:
        train(tiny(dataset="mnist"), tmp_path, data_root, progress=False)
    assert isinstance(e.value, KeyboardInterrupt) and e.value.exit_code == 130
    assert signal.getsignal(signal.SIGINT) is before  # the kernel's own handling is back
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 2


def test_an_interrupt_before_the_first_update_leaves_no_folder(tmp_path, monkeypatch):
    from sphereface_lib.training import loop as training

    monkeypatch.setattr(
        training.Run, "record_frame", lambda run: os.kill(os.getpid(), signal.SIGTERM)
    )
    monkeypatch.setattr(training.Run, "train_step", lambda run: pytest.fail("an update ran"))
    with pytest.raises(TrainingInterrupted, match="SIGTERM at step 0/6 .*nothing was saved"):
        train(tiny(), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_stop_signals_only_record_the_request():
    with StopSignals() as signals:
        os.kill(os.getpid(), signal.SIGTERM)
        assert signals.requested == signal.SIGTERM
    assert signals.requested == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_stop_signals_outside_the_main_thread_change_nothing():
    seen = []

    def use():
        with StopSignals() as signals:
            seen.append(signals.requested)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert seen == [None] and signal.getsignal(signal.SIGINT) is signal.default_int_handler
