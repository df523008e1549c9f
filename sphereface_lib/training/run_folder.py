"""The output folder of a run: checked before anything is written, locked while a run uses it.

- A path that is a file, lies under a file, or cannot be written is refused before any
  folder is created or any step trained.
- A folder holding a finished run of another configuration is refused, naming the fields
  that differ; nothing finished is ever overwritten by another configuration.
- Two processes asking for the same folder take turns through a lock file (``.lock`` inside
  it): one trains, the other waits and then reads the finished result.
- A folder that this call created and that is still empty when the call fails is removed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from sphereface_lib.training.config import TrainConfig
from sphereface_lib.training.distributed import Distributed

LOCK_NAME = ".lock"


class RunFolderError(ValueError):
    """An output folder cannot be used for this run; the message says why and what to do."""


def check_output_folder(path: str | os.PathLike[str]) -> None:
    """Raise :class:`RunFolderError` unless ``path`` is, or can become, a writable folder."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise RunFolderError(
                f"output folder {path} is a file; give a folder (new, or holding this run) "
                "as the output"
            )
        if not os.access(path, os.W_OK | os.X_OK):
            raise RunFolderError(
                f"output folder {path} is not writable; make it writable or choose another "
                "output folder"
            )
        return
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise RunFolderError(
            f"output folder {path} cannot be created: {ancestor} is a file; choose a path "
            "under a folder"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise RunFolderError(
            f"output folder {path} cannot be created: {ancestor} is not writable; choose "
            "another output folder"
        )


def configuration_differences(saved: dict[str, Any], config: TrainConfig) -> list[str]:
    """``"name: saved -> asked"`` for every field in which ``saved`` differs from ``config``."""
    asked = config.to_dict()
    names = sorted(set(saved) | set(asked))
    return [
        f"{name}: {saved.get(name)!r} there, {asked.get(name)!r} asked"
        for name in names
        if saved.get(name) != asked.get(name)
    ]


def check_same_configuration(saved: object, config: TrainConfig, run_dir: Path) -> None:
    """Refuse a folder whose finished run has another configuration than ``config``."""
    try:
        if not isinstance(saved, dict):
            raise TypeError("no configuration in its result.json")
        normalised = TrainConfig.from_dict(saved).to_dict()
    except (TypeError, ValueError) as error:
        raise RunFolderError(
            f"{run_dir} holds a finished run whose configuration this library cannot read "
            f"({error}); choose another output folder"
        ) from None
    differences = configuration_differences(normalised, config)
    if differences:
        raise RunFolderError(
            f"{run_dir} holds a finished run of another configuration ({'; '.join(differences)});"
            " choose another output folder, or delete this one to replace that run"
        )


def _create(run_dir: Path) -> Path | None:
    """Create ``run_dir`` and its missing parents; return the topmost folder created."""
    if run_dir.is_dir():
        return None
    topmost = run_dir
    while not topmost.parent.exists():
        topmost = topmost.parent
    run_dir.mkdir(parents=True, exist_ok=True)
    return topmost


def _remove_if_unused(created: Path, run_dir: Path) -> None:
    """Remove the folders from ``created`` down to ``run_dir`` if they hold only the lock."""
    try:
        if any(entry.name != LOCK_NAME for entry in run_dir.iterdir()):
            return
        (run_dir / LOCK_NAME).unlink(missing_ok=True)
        folder = run_dir
        while True:
            folder.rmdir()
            if folder == created:
                return
            folder = folder.parent
    except OSError:  # another process started using it meanwhile: leave it
        return


@contextmanager
def locked(run_dir: Path, context: Distributed | None = None) -> Iterator[None]:
    """Create ``run_dir`` and hold its lock (the main process only) for the block.

    Waiting for another process is announced on one line. If the block fails and the folder
    was created here and holds nothing else, it is removed again.
    """
    context = context or Distributed()
    created = _create(run_dir)
    lock = FileLock(run_dir / LOCK_NAME) if context.is_main else None
    try:
        if lock is not None:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                print(
                    f"waiting for another process that is training the run in {run_dir}",
                    file=sys.stderr,
                    flush=True,
                )
                lock.acquire()
        context.barrier()
        yield
    except BaseException:
        if lock is not None:
            lock.release()
            lock = None
        if created is not None and context.is_main:
            _remove_if_unused(created, run_dir)
        raise
    finally:
        if lock is not None:
            lock.release()
