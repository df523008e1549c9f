"""What a finished run leaves in its folder, and reading it back.

- ``result.json``: configuration, metrics per epoch, timings, versions, hardware and the code's
  fingerprint (the provenance record); written last, its presence marks the run as finished;
- ``snapshots.pt``: features of ``snapshot_points`` test images and the class weights over
  training, for the animations (:mod:`~sphereface_lib.training.snapshots`);
- ``test_features.pt``: final features of the test set;
- ``model.pt``: the final network and head weights (every class, also for a sharded head).

Every file carries a checksum of its content and is written atomically
(:mod:`~sphereface_lib.common.integrity`); files are read with ``torch.load(weights_only=True)``
and checked, so a damaged one is an error that names it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sphereface_lib import __version__
from sphereface_lib.common import hardware
from sphereface_lib.common.integrity import (
    CorruptFileError,
    load_checked,
    read_json_checked,
    save_checked,
    write_json_checked,
)
from sphereface_lib.data.training_sets import TrainingData
from sphereface_lib.heads import MarginHead
from sphereface_lib.training import run_folder
from sphereface_lib.training.config import TrainConfig
from sphereface_lib.training.distributed import ShardedHead
from sphereface_lib.training.fingerprint import code_fingerprint
from sphereface_lib.training.model import build_model
from sphereface_lib.training.snapshots import Snapshots


@dataclass
class RunResult:
    """What a run produced; ``complete`` is False for a run stopped early (resume it)."""

    config: TrainConfig
    metrics: list[dict[str, float]]
    complete: bool
    run_dir: Path | None = None
    snapshots: Snapshots | None = None
    test_features: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    record: dict[str, Any] = field(default_factory=dict)
    stopped_at: int | None = None  # the updates done, for a run stopped early

    @property
    def final_test_accuracy(self) -> float:
        return self.metrics[-1]["test_accuracy"]

    def load_model(self) -> tuple[nn.Module, MarginHead | ShardedHead]:
        """The trained network and (unsharded) head, on the CPU, in eval mode."""
        if self.run_dir is None or not (self.run_dir / "model.pt").exists():
            raise FileNotFoundError("this result has no saved model (was the run complete?)")
        state = load_checked(self.run_dir / "model.pt", retrain_remedy(self.run_dir))
        config = self.config.replace(shard_head=False)  # checkpoints hold every class
        net, head = build_model(config, num_classes=state["head"]["weight"].shape[0])
        net.load_state_dict(state["net"])
        head.load_state_dict(state["head"])
        return net.eval(), head.eval()


def retrain_remedy(run_dir: Path) -> str:
    return (
        f"delete the folder {run_dir} (or train with force=True, --force on the command line) "
        "to train the run again"
    )


def run_record(
    config: TrainConfig,
    metrics: list[dict[str, float]],
    data: TrainingData,
    device: torch.device,
    world_size: int,
) -> dict[str, Any]:
    """The provenance record of a finished run (``result.json``)."""
    return {
        "library_version": __version__,
        "code_fingerprint": code_fingerprint(),
        "config": config.to_dict(),
        "device": device.type,
        "world_size": world_size,
        "hardware": hardware.describe(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "num_classes": data.num_classes,
        "train_images": len(data.train_labels),
        "test_images": len(data.test_labels),
        "metrics": metrics,
        "train_seconds": sum(m["train_seconds"] for m in metrics),
        "eval_seconds": sum(m["eval_seconds"] for m in metrics),
        "final_test_accuracy": metrics[-1]["test_accuracy"],
    }


def save_run(run_dir: Path, result: RunResult, model: dict[str, dict[str, torch.Tensor]]) -> None:
    """Write the files of a finished run (see the module docstring); ``model`` holds the
    state dicts of "net" and "head"."""
    save_checked(model, run_dir / "model.pt")
    if result.snapshots is not None:
        save_checked(result.snapshots.__dict__, run_dir / "snapshots.pt")
    save_checked(
        {"features": result.test_features, "labels": result.test_labels},
        run_dir / "test_features.pt",
    )
    # result.json last: its presence marks the run as complete for the cache.
    write_json_checked(result.record, run_dir / "result.json")


def finished_run(run_dir: Path, config: TrainConfig, reuse: bool = True) -> RunResult | None:
    """The finished run of ``config`` in ``run_dir`` (None if none, or if not ``reuse``).

    A finished run of another configuration there is an error, whatever ``reuse`` says.
    """
    record_path = run_dir / "result.json"
    if not record_path.exists():
        return None
    record = read_json_checked(record_path, retrain_remedy(run_dir))
    run_folder.check_same_configuration(record.get("config"), config, run_dir)
    return load_result(run_dir) if reuse else None


def load_result(run_dir: str | os.PathLike[str]) -> RunResult:
    """Read a finished run back from its folder (see the module docstring for the files).

    Every file is checked against its checksum: a damaged one raises
    :class:`~sphereface_lib.common.integrity.CorruptFileError`, naming the file and what to do.
    """
    run_dir = Path(run_dir)
    record_path = run_dir / "result.json"
    if not record_path.exists():
        raise FileNotFoundError(f"{run_dir} holds no finished run (no result.json)")
    remedy = retrain_remedy(run_dir)
    record = read_json_checked(record_path, remedy)
    try:
        config = TrainConfig.from_dict(record["config"])
        metrics = record["metrics"]
    except (KeyError, TypeError, ValueError) as error:
        raise CorruptFileError(
            f"{record_path} is not a run record this library can read ({error}); {remedy}"
        ) from None
    snapshots = None
    if (run_dir / "snapshots.pt").exists():
        snapshots = Snapshots(**load_checked(run_dir / "snapshots.pt", remedy))
    finals = load_checked(run_dir / "test_features.pt", remedy)
    return RunResult(
        config,
        metrics,
        complete=True,
        run_dir=run_dir,
        snapshots=snapshots,
        test_features=finals["features"],
        test_labels=finals["labels"],
        record=record,
    )
