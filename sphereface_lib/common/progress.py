"""Progress bars that stay on the terminal, never on a page of the book.

A book build runs each chapter in a Jupyter kernel, which captures what the kernel writes to
stdout and stderr (down to the file descriptors) into the notebook: every refresh of a bar would
become an output block on the page. ``scripts/build_book.py`` therefore sets
``SPHEREFACE_PROGRESS_LOG`` to a file that it echoes to its own terminal while the chapter runs,
and the bars are written there. Without the variable (a terminal, or Jupyter used by hand) they
go to stderr as usual.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import IO, Any

from tqdm import tqdm

PROGRESS_LOG_ENV = "SPHEREFACE_PROGRESS_LOG"
_streams: dict[str, IO[str]] = {}


def progress_stream() -> IO[str]:
    """Where progress goes: the file named by ``$SPHEREFACE_PROGRESS_LOG``, else stderr."""
    path = os.environ.get(PROGRESS_LOG_ENV)
    if not path:
        return sys.stderr
    if path not in _streams:
        _streams[path] = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (kept open)
    return _streams[path]


def progress_bar(
    iterable: Iterable[Any] | None = None, *, enabled: bool = True, **options: Any
) -> tqdm:
    """A tqdm bar on :func:`progress_stream` (disabled when ``enabled`` is false)."""
    options.setdefault("mininterval", 1.0)
    return tqdm(iterable, file=progress_stream(), disable=not enabled, **options)
