"""Train-or-load: a finished run is found again by the hash of its full configuration.

The notebooks train through this, so rebuilding the book retrains only what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from sphereface_lib.data.paths import default_cache_root
from sphereface_lib.training.config import TrainConfig
from sphereface_lib.training.fingerprint import code_fingerprint
from sphereface_lib.training.loop import train
from sphereface_lib.training.model import resolve_device
from sphereface_lib.training.records import RunResult, load_result

CACHE_ENV = "SPHEREFACE_CACHE"


def runs_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``cache_dir`` if given, else ``$SPHEREFACE_CACHE``, else ``<user cache>/runs``."""
    if cache_dir is not None and str(cache_dir) != "":
        return Path(cache_dir).expanduser()
    from_env = os.environ.get(CACHE_ENV)
    return Path(from_env).expanduser() if from_env else default_cache_root() / "runs"


def run_key(config: TrainConfig) -> str:
    """A short hash of everything that determines the result: the configuration, the device
    type and the library code that computes a run (:mod:`~sphereface_lib.training.fingerprint`)."""
    identity = {
        "config": {**config.to_dict(), "device": resolve_device(config.device).type},
        "code": code_fingerprint(),
    }
    blob = json.dumps(identity, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def run_dir_for(config: TrainConfig, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    margin = f"-m{config.margin}" if config.head == "angular" else ""
    name = f"{config.head}{margin}-d{config.embedding_dim}-seed{config.seed}-{run_key(config)}"
    return runs_root(cache_dir) / name


def train_or_load(
    config: TrainConfig,
    cache_dir: str | os.PathLike[str] | None = None,
    data_root: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> RunResult:
    """The finished run of ``config`` from the cache, training (or resuming) it when missing.

    Damaged cache files are errors that name the file (never silently used); two processes
    asking for the same run take turns, so it is trained once (see :func:`~.train.train`).
    """
    run_dir = run_dir_for(config, cache_dir)
    if (run_dir / "result.json").exists():
        return load_result(run_dir)
    return train(config, run_dir, data_root=data_root, progress=progress)
