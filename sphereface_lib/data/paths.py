"""Where data lives: an explicit argument, else ``SPHEREFACE_DATA``, else the user's cache."""

from __future__ import annotations

import os
from pathlib import Path

from sphereface_lib.data.errors import DataFileError

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
        return _folder_or_error(Path(root).expanduser())
    from_env = os.environ.get(DATA_ENV)
    if from_env:
        return _folder_or_error(Path(from_env).expanduser())
    return _folder_or_error(default_cache_root() / "data")


def _folder_or_error(path: Path) -> Path:
    """``path``, unless it (or the nearest part of it that exists) is not a folder."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == path else f"lies under {existing}, which is a file"
        raise DataFileError(
            f"the data root {path} {where}, not a folder; set {DATA_ENV} (or pass --data-root) "
            "to a folder that holds mnist/ and faces/"
        )
    return path


def unreadable(path: Path, error: OSError) -> DataFileError:
    """The error for a data file that exists but cannot be opened (permissions, a folder)."""
    return DataFileError(
        f"{path} cannot be read ({error.strerror or error}); make it readable (e.g. chmod u+r), "
        f"or point {DATA_ENV} at a readable copy of the data"
    )
