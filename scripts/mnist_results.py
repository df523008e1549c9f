"""The MNIST results table of the README: train (or load from the cache) every run, then print
the table with its provenance, write all run records to one JSON file and, with --readme, the
table into the README between its two marker lines.

    python scripts/mnist_results.py --profile full --json results/mnist_full.json --readme README.md
    python scripts/mnist_results.py --from-json results/mnist_full.json   # print, train nothing

Uses the same grid (sphereface_lib.book.chapters.mnist_grid) and summary functions as chapter 2
of the book, so the two tables agree.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from sphereface_lib.book import provenance
from sphereface_lib.book.chapters import MNIST_DIMENSIONS, MNIST_HEADS, PROFILES, mnist_grid
from sphereface_lib.book.experiments import (
    ACCURACY_COLUMNS,
    accuracy_rows,
    read_run_records,
    run_all,
    write_run_records,
)
from sphereface_lib.book.report import markdown_table
from sphereface_lib.book.sources import REFERENCE_SOURCE
from sphereface_lib.training import RunResult

README_START = "<!-- mnist-results:start (written by scripts/mnist_results.py --readme) -->"
README_END = "<!-- mnist-results:end -->"


def hardware_line(results: list[RunResult]) -> str:
    hardware = results[0].record["hardware"]
    return (
        f"{hardware['processor']} ({os.cpu_count()} CPU cores), each run on "
        f"{hardware['cpu_threads']} thread(s), {hardware.get('cuda_device', 'no GPU')}, "
        f"torch {hardware['torch']}"
    )


def report(results: list[RunResult], context: dict[str, Any]) -> str:
    """The tables and their provenance, as Markdown (the README block and the printout)."""
    lines = []
    test_images = results[0].record["test_images"]
    for dimension in sorted({r.config.embedding_dim for r in results}):
        runs = [r for r in results if r.config.embedding_dim == dimension]
        epochs = sorted({r.config.epochs for r in runs})
        nets = sorted({r.config.net for r in runs})
        lines += [
            f"**{dimension}-D features**, test accuracy on the MNIST test set "
            f"({test_images:,} images); net {', '.join(nets)}, "
            f"{'/'.join(map(str, epochs))} epochs:",
            "",
            markdown_table(accuracy_rows(runs, dimension), ACCURACY_COLUMNS),
            "",
        ]
    train_seconds = sum(r.record["train_seconds"] + r.record["eval_seconds"] for r in results)
    lines += [
        f"- Reference column: {REFERENCE_SOURCE}; that project's numbers, not measured here.",
        f"- Command: `{context['command']}`",
        f"- Hardware: {context['hardware']}",
        f"- Date: {context['date']}; commit {context['commit']}; profile {context['profile']}",
        f"- Wall time of the command: {context['wall_seconds']:.0f} s (runs already in the cache "
        f"are read back, not retrained); training + evaluation time recorded by the "
        f"{len(results)} runs when they were trained: {train_seconds:.0f} s",
    ]
    return "\n".join(lines)


def readme_block(text: str) -> str:
    """What stands between the README's marker lines."""
    return provenance.readme_block(text, README_START, README_END)


def with_readme_block(text: str, block: str) -> str:
    """``text`` with the part between the marker lines replaced by ``block``."""
    return provenance.with_readme_block(text, README_START, README_END, block)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=PROFILES, default="full")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=None, help="default: the profile's (chapter 2's)"
    )
    parser.add_argument("--dims", type=int, nargs="+", default=list(MNIST_DIMENSIONS))
    parser.add_argument("--heads", nargs="+", default=list(MNIST_HEADS), help="heads to train")
    parser.add_argument(
        "--net", default="mnist_small", help="mnist_small, or mnist_sphere20 (the reference's)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the profile's epochs")
    parser.add_argument("--workers", type=int, default=2, help="runs trained in parallel")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write every run record here")
    parser.add_argument(
        "--from-json", type=Path, default=None, help="report a records file; train nothing"
    )
    parser.add_argument("--readme", type=Path, default=None, help="write the table into this")
    arguments = parser.parse_args()

    if arguments.from_json:
        context, results = read_run_records(arguments.from_json)
    else:
        overrides: dict[str, object] = {"net": arguments.net}
        if arguments.epochs is not None:
            overrides["epochs"] = arguments.epochs
        configs = mnist_grid(
            arguments.profile, arguments.heads, arguments.dims, arguments.seeds, **overrides
        )
        started = time.perf_counter()
        results = run_all(configs, arguments.cache_dir, workers=arguments.workers)
        context = {
            "commit": provenance.commit(),
            "profile": arguments.profile,
            "command": provenance.portable_command(sys.argv),
            "date": time.strftime("%Y-%m-%d"),
            "hardware": hardware_line(results),
            "wall_seconds": time.perf_counter() - started,
        }
        if arguments.json:
            write_run_records(results, arguments.json, **context)
    text = report(results, context)
    print(text)
    if arguments.readme:
        arguments.readme.write_text(with_readme_block(arguments.readme.read_text(), text))
        print(f"\nwritten into {arguments.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
