"""Time the full book's training on a CUDA device, from an empty cache.

    python benchmarks/gpu_book.py            # needs a CUDA device; bf16 autocast is used

Runs every chapter with ``scripts/build_book.py --profile full -p device cuda --no-html`` in a
fresh, temporary run cache (so everything is trained), then prints the wall time per chapter
and in total, with the device name. On a machine without CUDA it stops with a message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device here; this benchmark times the book's training on a GPU")
        return 1
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as output:
        environment = {**os.environ, "SPHEREFACE_CACHE": cache}
        command = [
            sys.executable, str(ROOT / "scripts" / "build_book.py"), "--profile", "full",
            "-p", "device", "cuda", "--no-html", "--output-dir", output,
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=True, env=environment, cwd=ROOT)
        total = time.perf_counter() - started
        timings = json.loads((Path(output) / "timings.json").read_text())["seconds"]
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    for chapter, seconds in timings.items():
        print(f"{chapter:>28}: {seconds:7.0f} s")
    print(f"{'total (with start-up)':>28}: {total:7.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
