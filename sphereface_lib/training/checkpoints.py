"""Checkpoints: the whole state of a run between two updates, so that it can resume.

The loop writes ``checkpoint.pt`` at the end of every epoch, on Ctrl-C or SIGTERM and at
``stop_at_step``, and removes it when the run is finished. A checkpoint carries the run's
configuration and the fingerprint of the code that wrote it
(:mod:`~sphereface_lib.training.fingerprint`); one of another configuration or other code is
refused rather than resumed, and a damaged one is an error, never silently skipped. The file is
checksummed and written atomically (:mod:`~sphereface_lib.common.integrity`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphereface_lib.common.integrity import CorruptFileError, load_checked, save_checked
from sphereface_lib.training.config import TrainConfig
from sphereface_lib.training.fingerprint import code_fingerprint

CHECKPOINT_NAME = "checkpoint.pt"


class CheckpointError(ValueError):
    """A checkpoint cannot be used for this run; the message says why and what to do."""


def save_checkpoint(path: Path, config: TrainConfig, state: dict[str, Any]) -> None:
    """Write ``state`` (net, head, optimizer, step, ...) with the configuration and the code's
    fingerprint."""
    save_checked({"code": code_fingerprint(), "config": config.to_dict(), **state}, path)


def load_checkpoint(path: Path, config: TrainConfig) -> dict[str, Any] | None:
    """The state saved in ``path`` for ``config`` (None if there is no file)."""
    if not path.exists():
        return None
    try:
        state = load_checked(path, "delete it to start the run afresh")
    except CorruptFileError as error:
        raise CheckpointError(str(error)) from None
    if state.get("code") != code_fingerprint():
        raise CheckpointError(
            f"{path} was written by other library code (fingerprint {state.get('code')}, this "
            f"code's is {code_fingerprint()}); resuming would mix the two, so delete the file to "
            "start the run afresh"
        )
    saved, asked = state.get("config", {}), config.to_dict()
    if saved != asked:
        changed = sorted(key for key in set(saved) | set(asked) if saved.get(key) != asked.get(key))
        raise CheckpointError(
            f"{path} belongs to a run with a different configuration (fields {changed} differ); "
            "use another output folder, or delete the checkpoint to start this run afresh"
        )
    return state
