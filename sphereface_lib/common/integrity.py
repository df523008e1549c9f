"""The files a run leaves behind: written atomically, checked against a checksum when read.

Each payload (``checkpoint.pt``, ``model.pt``, ``snapshots.pt``, ``test_features.pt`` and the
face caches, all dictionaries; ``result.json``) carries the SHA-256 of its content under the key
``sha256``. The digest covers every tensor's dtype, shape and bytes and every other value, so a
flipped byte inside a tensor, which ``torch.load`` does not notice, is caught on reading. Files
written before checksums existed have no such key and are read as they are.

Every write goes to a hidden file whose name is unique to the process, is flushed to disk, and
then replaces the target in one step: a reader sees the old file or the new one, never half of
one, and two processes writing the same file never trip over each other's temporary file.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

CHECKSUM_KEY = "sha256"
PARTIAL_SUFFIX = ".partial"


class CorruptFileError(ValueError):
    """A file cannot be read, or its content does not match its checksum; says what to do."""


class FileWriteError(OSError):
    """A file could not be written (no space, no permission); the message names it."""


def _feed(digest: Any, value: object) -> None:
    """Add ``value`` to ``digest``: tensors by dtype, shape and bytes, containers in order."""
    if torch.is_tensor(value):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    elif isinstance(value, dict):
        digest.update(f"dict {len(value)};".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, list | tuple):
        digest.update(f"{type(value).__name__} {len(value)};".encode())
        for item in value:
            _feed(digest, item)
    elif value is None or isinstance(value, bool | int | float | str):
        digest.update(f"{type(value).__name__} {value!r};".encode())
    else:
        raise TypeError(f"cannot checksum a value of type {type(value).__name__}")


def content_digest(payload: object) -> str:
    """The SHA-256 (hex) of a payload of tensors, containers and plain values."""
    digest = hashlib.sha256()
    _feed(digest, payload)
    return digest.hexdigest()


def write_atomically(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then put it in place in one step."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    try:
        with open(partial, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise FileWriteError(
            error.errno,
            f"cannot write {path} ({error.strerror or error}); free some space or make the "
            "folder writable, or choose another output folder",
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def remove_partial_files(folder: str | os.PathLike[str]) -> None:
    """Delete the temporary files of writes that a killed process left in ``folder``.

    Only safe while no other process writes there (the run's lock is held).
    """
    for leftover in Path(folder).glob(f".*{PARTIAL_SUFFIX}"):
        leftover.unlink(missing_ok=True)


def save_checked(payload: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """``torch.save`` a dictionary with its checksum, atomically."""
    if CHECKSUM_KEY in payload:
        raise ValueError(f"a payload to save may not have a key named {CHECKSUM_KEY!r}")
    checked = {**payload, CHECKSUM_KEY: content_digest(payload)}
    write_atomically(path, lambda stream: torch.save(checked, stream))


def _first_line(error: BaseException, limit: int = 100) -> str:
    line = (str(error).strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def load_checked(path: str | os.PathLike[str], remedy: str) -> dict[str, Any]:
    """A dictionary saved by :func:`save_checked`, on the CPU, after checking its checksum.

    ``remedy`` (what the user should do) ends the message of a :class:`CorruptFileError`.
    """
    path = Path(path)
    if not path.is_file():
        raise CorruptFileError(f"{path} is missing; {remedy}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged zip or pickle fails in many different ways
        raise CorruptFileError(
            f"{path} cannot be read ({type(error).__name__}: {_first_line(error)}); it is "
            f"truncated or damaged; {remedy}"
        ) from None
    if not isinstance(payload, dict):
        raise CorruptFileError(f"{path} does not hold what this library writes there; {remedy}")
    return _verified(payload, content_digest, path, remedy)


def _verified(
    payload: dict[str, Any], digest: Callable[[Any], str], path: Path, remedy: str
) -> dict[str, Any]:
    expected = payload.pop(CHECKSUM_KEY, None)
    if expected is None:  # written before files carried checksums
        return payload
    actual = digest(payload)
    if actual != expected:
        raise CorruptFileError(
            f"{path} is damaged: its content has SHA-256 {actual[:16]}..., it was written with "
            f"{str(expected)[:16]}...; {remedy}"
        )
    return payload


def _json_digest(record: object) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def write_json_checked(record: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``record`` as indented JSON with its checksum as the last key, atomically."""
    if CHECKSUM_KEY in record:
        raise ValueError(f"a record to write may not have a key named {CHECKSUM_KEY!r}")
    text = json.dumps({**record, CHECKSUM_KEY: _json_digest(record)}, indent=2) + "\n"
    write_atomically(path, lambda stream: stream.write(text.encode()))


def read_json_checked(path: str | os.PathLike[str], remedy: str) -> dict[str, Any]:
    """A record written by :func:`write_json_checked`, after checking its checksum."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorruptFileError(f"{path} is missing; {remedy}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorruptFileError(
            f"{path} cannot be read as JSON ({_first_line(error)}); it is truncated or "
            f"damaged; {remedy}"
        ) from None
    if not isinstance(record, dict):
        raise CorruptFileError(f"{path} does not hold a run record; {remedy}")
    return _verified(record, _json_digest, path, remedy)
