"""Time the data step of the book command from an empty data root, against a loopback mirror.

    python benchmarks/fetch_data.py                              # a mirror of $SPHEREFACE_DATA
    python benchmarks/fetch_data.py --source /work/shared/data

Packs the sets of a data root the way their public sources publish them (lfw-deepfunneled.tgz
with lfw-deepfunneled/<person>/<image>, pairs.txt, att_faces.zip with README and s1..s40, the four
MNIST .gz files), serves them on 127.0.0.1 with ``python -m http.server`` and runs
``bash scripts/book.sh --data-only`` with SPHEREFACE_MIRROR pointing there and SPHEREFACE_DATA at
an empty folder: the book command's fetch-and-verify, without internet. The LFW archive holds
only the book's 5,614 images (the public one has all 13,233, about 2.3 times the bytes), so its
download and extraction take longer in real life than here.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pack_mirror(data_root: Path, mirror: Path) -> dict[str, int]:
    """Write the public files of ``data_root``'s sets into ``mirror``; return their sizes."""
    lfw = data_root / "faces" / "lfw-deepfunneled"
    att = data_root / "faces" / "att_faces"
    with tarfile.open(mirror / "lfw-deepfunneled.tgz", "w:gz") as bundle:
        for path in sorted(lfw.glob("*/*.jpg")):
            bundle.add(path, f"lfw-deepfunneled/{path.relative_to(lfw).as_posix()}")
    (mirror / "pairs.txt").write_bytes((lfw / "pairs.txt").read_bytes())
    with zipfile.ZipFile(mirror / "att_faces.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(att / "README.original.txt", "README")
        for path in sorted(att.glob("s*/*.pgm")):
            bundle.write(path, path.relative_to(att).as_posix())
    for path in sorted((data_root / "mnist").glob("*.gz")):
        (mirror / path.name).write_bytes(path.read_bytes())
    return {path.name: path.stat().st_size for path in sorted(mirror.iterdir())}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url + "/pairs.txt", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=os.environ.get("SPHEREFACE_DATA"),
        help="data root to make the mirror from (default: $SPHEREFACE_DATA)",
    )
    arguments = parser.parse_args()
    if arguments.source is None:
        parser.error("give --source or set SPHEREFACE_DATA to a data root with mnist/ and faces/")
    with tempfile.TemporaryDirectory() as scratch:
        mirror, data = Path(scratch) / "mirror", Path(scratch) / "data"
        mirror.mkdir()
        started = time.perf_counter()
        sizes = pack_mirror(Path(arguments.source), mirror)
        print(f"mirror packed in {time.perf_counter() - started:.1f} s:")
        for name, size in sizes.items():
            print(f"  {name:30} {size / 1e6:8.1f} MB")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=mirror,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(url)
            environment = {
                **os.environ,
                "SPHEREFACE_MIRROR": url,
                "SPHEREFACE_DATA": str(data),
                "PYTHON": sys.executable,  # this environment: the set-up is timed separately
            }
            command = ["bash", "scripts/book.sh", "--data-only"]
            print(f"$ SPHEREFACE_MIRROR={url} SPHEREFACE_DATA=<empty> {' '.join(command)}")
            started = time.perf_counter()
            subprocess.run(command, cwd=ROOT, env=environment, check=True)
            fetched = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait()
        files = sum(1 for path in data.rglob("*") if path.is_file())
    print(f"fetch and verify from an empty data root: {fetched:.1f} s ({files:,} files written)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
