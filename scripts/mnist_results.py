"""The MNIST results table of the README: train (or load from the cache) every run, then print
the table with its provenance and write all run records to one JSON file.

    python scripts/mnist_results.py --profile full --json results/mnist_full.json

Uses the same grid and summary functions as chapter 2 of the book, so the two tables agree.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from sphereface_lib.experiments import (
    ACCURACY_COLUMNS,
    REFERENCE_SOURCE,
    accuracy_rows,
    grid,
    run_all,
    write_run_records,
)
from sphereface_lib.report import markdown_table

ROOT = Path(__file__).resolve().parent.parent


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["smoke", "full"], default="full")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3])
    parser.add_argument(
        "--heads", nargs="+", default=["original", "modified", "angular"], help="heads to train"
    )
    parser.add_argument(
        "--net", default="mnist_small", help="mnist_small, or mnist_sphere20 (the reference's)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the profile's epochs")
    parser.add_argument("--workers", type=int, default=2, help="runs trained in parallel")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write every run record here")
    arguments = parser.parse_args()

    overrides: dict[str, object] = {"net": arguments.net}
    if arguments.epochs is not None:
        overrides["epochs"] = arguments.epochs
    configs = grid(arguments.profile, arguments.heads, arguments.dims, arguments.seeds, **overrides)
    started = time.perf_counter()
    results = run_all(configs, arguments.cache_dir, workers=arguments.workers)
    elapsed = time.perf_counter() - started
    hardware = results[0].record["hardware"]
    test_images = results[0].record["test_images"]
    for dimension in arguments.dims:
        print(f"\n{dimension}-D features, MNIST test set ({test_images:,} images):\n")
        print(markdown_table(accuracy_rows(results, dimension), ACCURACY_COLUMNS))
    print(f"\nReference column: {REFERENCE_SOURCE}.")
    print("Command: python " + " ".join(sys.argv))
    print(
        f"Hardware: {hardware['processor']} ({os.cpu_count()} CPU cores here), each run on "
        f"{hardware['cpu_threads']} thread(s), {hardware.get('cuda_device', 'no GPU')}, "
        f"torch {hardware['torch']}"
    )
    print(
        f"Date: {time.strftime('%Y-%m-%d')}; commit {commit()}; "
        f"wall time of this command {elapsed:.0f} s"
    )
    train_seconds = sum(r.record["train_seconds"] + r.record["eval_seconds"] for r in results)
    print(f"Training + evaluation time recorded by the runs: {train_seconds:.0f} s")
    if arguments.json:
        write_run_records(results, arguments.json, commit=commit(), profile=arguments.profile)
        print(f"Run records: {arguments.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
