"""A file server on 127.0.0.1 with byte ranges, and archives laid out like the public ones.

The download tests fetch from here, never from the internet. The server answers ``Range:
bytes=N-`` with 206 (or 416 past the end) unless told to ignore ranges, can drop a connection
after a given number of bytes once, and records every request.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
import threading
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

_RANGE = re.compile(r"bytes=(\d+)-")


class LoopbackServer:
    """``files`` maps a URL path (``/lfw-deepfunneled.tgz``) to the bytes served there."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header or None)
        self.cut_after: dict[str, int] = {}  # path -> bytes sent before the next answer drops
        self.ignore_range: set[str] = set()  # paths answered in full (200) whatever the range
        self.url = ""

    def url_of(self, path: str) -> str:
        return self.url + path


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        owner = self.server.owner
        wanted = self.headers.get("Range")
        owner.requests.append((self.path, wanted))
        body = owner.files.get(self.path)
        if body is None:
            self.send_error(404, "not on this mirror")
            return
        match = _RANGE.fullmatch(wanted or "")
        start = int(match.group(1)) if match and self.path not in owner.ignore_range else 0
        if start >= len(body) > 0:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if start:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        cut = owner.cut_after.pop(self.path, None)
        self.wfile.write(payload if cut is None else payload[:cut])
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # keep the test output clean


class _Server(ThreadingHTTPServer):
    owner: LoopbackServer


@contextmanager
def serving() -> Iterator[LoopbackServer]:
    """A :class:`LoopbackServer` running in a thread for the duration of the block."""
    owner = LoopbackServer()
    server = _Server(("127.0.0.1", 0), _Handler)
    server.owner = owner
    owner.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield owner
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def jpeg(seed: int) -> bytes:
    """A small distinct JPEG (8x8 RGB noise)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "JPEG")
    return buffer.getvalue()


def pgm(seed: int) -> bytes:
    """A small distinct binary PGM (P5), the AT&T format."""
    pixels = np.random.default_rng(seed).integers(0, 256, (7, 6), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, "PPM")
    return buffer.getvalue()


def tar_gz(files: Mapping[str, bytes], level: int = 6) -> bytes:
    """A .tgz with a directory entry before each folder's files, as ``tar czf`` writes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as bundle:
        folders: set[str] = set()
        for name, contents in files.items():
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                if folder not in folders:
                    folders.add(folder)
                    entry = tarfile.TarInfo(folder)
                    entry.type, entry.mode = tarfile.DIRTYPE, 0o755
                    bundle.addfile(entry)
            entry = tarfile.TarInfo(name)
            entry.size = len(contents)
            bundle.addfile(entry, io.BytesIO(contents))
    return gzip.compress(raw.getvalue(), compresslevel=level, mtime=0)


def zip_of(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, contents in files.items():
            bundle.writestr(name, contents)
    return buffer.getvalue()


def checksums_of(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(contents).hexdigest() for name, contents in files.items()}


def folder_files(folder: Path) -> dict[str, bytes]:
    """{relative POSIX path: bytes} of every file under ``folder``."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def public_layout(data_root: Path) -> dict[str, bytes]:
    """The files of a mirror of a data root, laid out as the public sources publish them.

    ``lfw-deepfunneled.tgz`` (``lfw-deepfunneled/<person>/<image>``), ``pairs.txt``,
    ``att_faces.zip`` (``README``, ``s1/1.pgm`` ..) and the four MNIST files. The LFW archive
    here is stored without compression (its content, not its name, tells the format).
    """
    lfw = data_root / "faces" / "lfw-deepfunneled"
    att = data_root / "faces" / "att_faces"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as bundle:
        for path in sorted(lfw.glob("*/*.jpg")):
            bundle.add(path, f"lfw-deepfunneled/{path.relative_to(lfw).as_posix()}")
    att_files = {"README": (att / "README.original.txt").read_bytes()}
    att_files.update(
        {p.relative_to(att).as_posix(): p.read_bytes() for p in sorted(att.glob("s*/*.pgm"))}
    )
    files = {
        "lfw-deepfunneled.tgz": raw.getvalue(),
        "pairs.txt": (lfw / "pairs.txt").read_bytes(),
        "att_faces.zip": zip_of(att_files),
    }
    files.update({p.name: p.read_bytes() for p in sorted((data_root / "mnist").glob("*.gz"))})
    return files
