"""Resumable HTTP downloads from a list of sources, tried in order.

A file is fetched into ``<name>.partial`` beside its destination and renamed into place only once
it is complete and accepted (its SHA-256 matches, or the caller's check passes). An interrupted
transfer is resumed with an HTTP ``Range`` request, in the same run when the connection drops and
in the next run otherwise, but only from the source the partial bytes came from (recorded in
``<name>.partial.source``): two mirrors may serve different archives of the same data.

``SPHEREFACE_MIRROR`` replaces every public source by ``<mirror>/<file name>`` (several mirrors:
separate them by spaces), for offline mirrors and for the tests; ``file://`` URLs work too.
"""

from __future__ import annotations

import http.client
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from tqdm import tqdm

from sphereface_lib.data.errors import DataFileError
from sphereface_lib.data.idx import sha256_of

MIRROR_ENV = "SPHEREFACE_MIRROR"
TIMEOUT_SECONDS = 60  # per connection attempt and per read: a stalled server is given up on
ATTEMPTS_PER_SOURCE = 5  # reconnections to one source, as long as each one brings new bytes
_CHUNK = 1 << 20
_USER_AGENT = "sphereface-lib (python urllib; https://arxiv.org/abs/1704.08063 companion)"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class RemoteFile:
    """A file of a data set and where it is published."""

    name: str  # the file name; also its name under a SPHEREFACE_MIRROR
    urls: tuple[str, ...]  # public sources, tried in order
    sha256: str | None = None  # of the whole file, when it is pinned; else the caller checks


def sources(remote: RemoteFile) -> list[str]:
    """The URLs to try for ``remote``: ``$SPHEREFACE_MIRROR/<name>`` when set, else its own."""
    mirrors = os.environ.get(MIRROR_ENV, "").split()
    if mirrors:
        return [f"{mirror.rstrip('/')}/{remote.name}" for mirror in mirrors]
    return list(remote.urls)


class _Incomplete(OSError):
    """The connection ended before the promised number of bytes arrived."""


def _partial_paths(destination: Path) -> tuple[Path, Path]:
    partial = destination.with_name(destination.name + ".partial")
    return partial, destination.with_name(destination.name + ".partial.source")


def _unsatisfied_total(value: str | None) -> int | None:
    """The file size in a 416 answer's ``Content-Range: bytes */<size>``."""
    match = re.fullmatch(r"bytes \*/(\d+)", (value or "").strip())
    return int(match.group(1)) if match else None


@dataclass
class _Received:
    bytes: int = 0


def _transfer(url: str, partial: Path, received: _Received, progress: bool) -> None:
    """Append the rest of ``url`` to ``partial``, or rewrite it when the server cannot resume."""
    offset = partial.stat().st_size if partial.exists() else 0
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urlopen(Request(url, headers=headers), timeout=TIMEOUT_SECONDS)
    except HTTPError as error:
        if error.code != 416 or not offset:
            raise
        # Range not satisfiable: the partial file is complete already, or longer than the file.
        if _unsatisfied_total(error.headers.get("Content-Range")) == offset:
            return
        partial.unlink()
        raise _Incomplete(f"the partial file is longer than {url}; starting again") from None
    with response:
        append = offset > 0 and response.status == 206
        if append:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
            append = match is not None and int(match.group(1)) == offset
        start = offset if append else 0  # a plain 200 answer is the whole file again
        length = response.headers.get("Content-Length")
        total = start + int(length) if length is not None else None
        with (
            open(partial, "ab" if append else "wb") as stream,
            tqdm(
                total=total,
                initial=start,
                unit="B",
                unit_scale=True,
                desc=partial.name.removesuffix(".partial"),
                disable=not progress,
                file=sys.stderr,
            ) as bar,
        ):
            while block := response.read(_CHUNK):
                stream.write(block)
                received.bytes += len(block)
                bar.update(len(block))
    size = partial.stat().st_size
    if total is not None and size < total:
        raise _Incomplete(f"the connection closed after {size:,} of {total:,} bytes")


def download(url: str, destination: Path, progress: bool = True) -> Path:
    """Fetch ``url`` into ``destination``'s ``.partial`` file, resuming; return that file.

    Reconnects (with a Range request) while each attempt brings new bytes, at most
    :data:`ATTEMPTS_PER_SOURCE` times; then raises the last error.
    """
    partial, source = _partial_paths(destination)
    if partial.exists() and (not source.exists() or source.read_text().strip() != url):
        partial.unlink()  # bytes of another (or an unknown) source: they may not fit together
    partial.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(url + "\n")
    for attempt in range(1, ATTEMPTS_PER_SOURCE + 1):
        received = _Received()
        try:
            _transfer(url, partial, received, progress)
            return partial
        except (OSError, http.client.HTTPException) as error:
            retry = received.bytes > 0 or isinstance(error, _Incomplete)
            if attempt == ATTEMPTS_PER_SOURCE or not retry:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _reason(error: BaseException) -> str:
    if isinstance(error, HTTPError):
        return f"HTTP {error.code} {error.reason}"
    text = str(getattr(error, "reason", None) or error) or type(error).__name__
    return " ".join(text.split())


def fetch(
    remote: RemoteFile,
    folder: Path,
    accept: Callable[[Path], None] | None = None,
    progress: bool = True,
    urls: Sequence[str] | None = None,
    fix: str = "",
) -> Path:
    """Download ``remote`` into ``folder``, trying its sources in order; return the file.

    A download is accepted when its SHA-256 is ``remote.sha256`` (if set) and ``accept(path)``
    returns; a :class:`DataFileError` from either discards it and the next source is tried.
    ``urls`` replaces :func:`sources` (tests). A file already in ``folder`` is checked the same
    way and returned when it passes. When no source serves it, the error ends with ``fix``.
    """
    destination = folder / remote.name
    failures = []
    if destination.exists():  # left by an earlier run: checked like a fresh download
        try:
            _check(remote, destination, accept)
            return destination
        except DataFileError as error:
            failures.append(f"{destination} (an earlier download): refused, {error}")
            destination.unlink()
    candidates = list(urls) if urls is not None else sources(remote)
    for url in candidates:
        try:
            partial = download(url, destination, progress)
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"{url}: {_reason(error)}")
            continue
        try:
            _check(remote, partial, accept)
        except DataFileError as error:
            failures.append(f"{url}: refused, {error}")
            for path in _partial_paths(destination):
                path.unlink(missing_ok=True)
            continue
        partial.replace(destination)  # atomic: the final name only ever holds an accepted file
        _partial_paths(destination)[1].unlink(missing_ok=True)
        return destination
    raise DataFileError(
        f"could not fetch {remote.name} from any of its {len(candidates)} source(s) "
        f"({'; '.join(failures) or 'none given'})" + (f"; {fix}" if fix else "")
    )


def _check(remote: RemoteFile, path: Path, accept: Callable[[Path], None] | None) -> None:
    if remote.sha256 is not None:
        actual = sha256_of(path)
        if actual != remote.sha256:
            raise DataFileError(f"SHA-256 {actual}, expected {remote.sha256}")
    if accept is not None:
        accept(path)
