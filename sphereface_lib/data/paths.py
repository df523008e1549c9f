"""Where data lives: an explicit argument, else ``SPHEREFACE_DATA``, else the user's cache."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "SPHEREFACE_DATA"


def default_cache_root() -> Path:
    """``$XDG_CACHE_HOME/sphereface`` (``~/.cache/sphereface`` when unset)."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "sphereface"


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``root`` if given, else ``$SPHEREFACE_DATA``, else ``<cache>/data``.

    Under it, MNIST lives in ``mnist/`` and face sets in ``faces/``.
    """
    if root is not None and str(root) != "":
        return Path(root).expanduser()
    from_env = os.environ.get(DATA_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return default_cache_root() / "data"
