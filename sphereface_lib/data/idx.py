"""Reading and checking IDX files (the MNIST format), plain or gzip-compressed.

IDX: big-endian header ``0x00 0x00 <dtype> <ndim>``, then ``ndim`` uint32 sizes, then the data.
MNIST images use magic 2051 (uint8, 3-D), labels 2049 (uint8, 1-D).
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from sphereface_lib.data.errors import DataFileError
from sphereface_lib.data.paths import unreadable

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except (PermissionError, IsADirectoryError) as error:
        raise unreadable(path, error) from None
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str, expected_size: int | None, fix: str) -> None:
    """Raise :class:`DataFileError` naming the file, the digest found and expected, and ``fix``."""
    actual = sha256_of(path)
    if actual == expected:
        return
    size = path.stat().st_size
    detail = f"{size:,} bytes"
    if expected_size is not None and size != expected_size:
        state = "truncated" if size < expected_size else "longer than expected"
        detail = f"{size:,} bytes, expected {expected_size:,}: the file is {state}"
    raise DataFileError(
        f"{path.name} has SHA-256 {actual}, expected {expected} ({detail}). "
        f"The file is corrupt or not the canonical one; {fix}"
    )


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Decode an IDX file (``.gz`` or raw) into a uint8 array, with readable errors."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as stream:
            raw = stream.read()
    except FileNotFoundError:
        raise DataFileError(f"{path} does not exist") from None
    except (PermissionError, IsADirectoryError) as error:
        raise unreadable(path, error) from None
    except (OSError, EOFError, zlib.error) as error:
        raise DataFileError(
            f"{path.name} cannot be decompressed ({error}); it is truncated or not a gzip file. "
            "Delete it and download it again."
        ) from None
    if len(raw) < 4:
        raise DataFileError(f"{path.name} is only {len(raw)} bytes long: not an IDX file")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise DataFileError(
            f"{path.name} starts with magic number {magic}, expected {expected_magic} "
            f"({'images' if expected_magic == IMAGES_MAGIC else 'labels'}); it is not the "
            "right IDX file (images and labels swapped?) or it is corrupt"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"{path.name} is truncated inside its header ({len(raw)} bytes)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected_bytes = header + int(np.prod(shape))
    if len(raw) != expected_bytes:
        raise DataFileError(
            f"{path.name} holds {len(raw):,} bytes after decompression but its header "
            f"(shape {shape}) needs {expected_bytes:,}: the file is truncated or corrupt. "
            "Delete it and download it again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
