"""The README's "How long it takes" and "Benchmarks" tables, written from the committed records
of the scripts that measure them (the results table is scripts/mnist_results.py's).

    python scripts/readme_tables.py            # print both tables from results/
    python scripts/readme_tables.py --write    # and put them into README.md between its markers
    python scripts/readme_tables.py --check    # exit 1 if the README differs from the records

The records, each written by the measuring command itself:

    python scripts/build_book.py --profile full --record results/book_timings_full.json
    python benchmarks/heads.py --json results/benchmarks/heads.json
    python benchmarks/mnist_throughput.py --time-to-accuracy \\
        --json results/benchmarks/mnist_small.json
    python benchmarks/mnist_throughput.py --net mnist_sphere20 --steps 6 \\
        --json results/benchmarks/mnist_sphere20.json

(the book's timings from an empty run cache: ``SPHEREFACE_CACHE=$(mktemp -d)`` before it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sphereface_lib.book import gpu_record
from sphereface_lib.book.provenance import markers, readme_block, with_readme_block
from sphereface_lib.book.report import markdown_table

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RESULTS = ROOT / "results"
TIMINGS = RESULTS / "book_timings_full.json"
BENCHMARKS = {
    name: RESULTS / "benchmarks" / f"{name}.json"
    for name in ("heads", "mnist_small", "mnist_sphere20")
}
WRITER = "scripts/readme_tables.py --write"
TIMINGS_MARKERS = markers("book-timings", WRITER)
BENCHMARK_MARKERS = markers("benchmarks", WRITER)
GPU_MARKERS = markers("gpu-results", WRITER)

# What each chapter does, as the timings table names it.
CHAPTERS = {
    "00_intro": "landing page (the headline runs)",
    "01_softmax_formulations": "1 softmax formulations (SymPy)",
    "02_mnist_accuracy": "2 MNIST accuracy",
    "03_embeddings": "3 embeddings (GIFs)",
    "04_sphereface_nets": "4 SphereFace nets",
    "05_beyond": "5 margins, annealing, CosFace/ArcFace, norms",
    "06_faces": "6 faces: LFW and AT&T verification, the margin sweep",
    "07_open_set": "7 open-set digits",
    "08_claims": "the claims page (verdicts from the runs above)",
}
# The core book: the landing page (which trains the 2-D runs of chapter 2) and chapters 1-4.
CORE = (
    "00_intro",
    "01_softmax_formulations",
    "02_mnist_accuracy",
    "03_embeddings",
    "04_sphereface_nets",
)
# The CASIA-WebFace size of the heads benchmark and its goal.
LARGE, SMALL, HEADS_GOAL = [256, 512, 10572], [256, 2, 10], 1.3


def read(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text())
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        return record
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a record this script can read ({error})") from None


def transcribed(record: dict[str, Any]) -> list[str]:
    """The record's own note on where its numbers come from, if it has one, as a line."""
    return [f"_{record['note']}_", ""] if record.get("note") else []


def timings_block(record: dict[str, Any]) -> str:
    """The "How long it takes" table of a full build's timings record."""
    seconds, runs = record["seconds"], record.get("runs_trained_by_chapter", {})
    cache = "from an empty run cache (every run trained)"
    if record.get("runs_cached_at_start"):
        cache = f"with {record['runs_cached_at_start']} runs in the cache at the start"
    rows = []
    for chapter, value in seconds.items():
        label = CHAPTERS.get(chapter, chapter)
        if runs.get(chapter):
            count = runs[chapter]
            label += f" ({count} run{'s' if count > 1 else ''})"
        rows.append([label, f"{value / 60:.1f}"])
        if chapter == CORE[-1] and all(name in seconds for name in CORE):
            core = sum(seconds[name] for name in CORE) / 60
            rows.append(["**core: landing page and chapters 1–4**", f"**{core:.1f}**"])
    whole = "whole book, HTML included" if record.get("html", True) else "all chapters"
    rows.append([f"**{whole}**", f"**{record['total_seconds'] / 60:.1f}**"])
    lines = [
        f"Measured on {record['hardware']}, {record['date']}, {cache}, with `{record['command']}`:",
        "",
        *transcribed(record),
        markdown_table(rows, ["chapter", f"{record['profile']} profile, minutes"]),
    ]
    return "\n".join(lines)


def _heads_rows(record: dict[str, Any]) -> list[list[str]]:
    rows = {(tuple(row["size"]), row["head"]): row for row in record["rows"]}
    large = rows[tuple(LARGE), "angular"]
    small, small_original = rows[tuple(SMALL), "angular"], rows[tuple(SMALL), "original"]
    n, d, c = LARGE
    return [
        [
            f"`heads.py`: angular / original at N={n}, D={d}, C={c:,} (goal ≤ {HEADS_GOAL})",
            f"{large['ratio']:.2f} (median of {record['rounds']} interleaved rounds; range "
            f"{large['ratio_min']:.2f}–{large['ratio_max']:.2f})",
        ],
        [
            f"`heads.py`: angular / original at N={SMALL[0]}, D={SMALL[1]}, C={SMALL[2]}",
            f"{small['ratio']:.2f} ({small['seconds'] * 1e3:.1f} ms against "
            f"{small_original['seconds'] * 1e3:.1f} ms: fixed costs of the margin)",
        ],
    ]


def _throughput(record: dict[str, Any]) -> str:
    rate = "matmul"  # the matmul rate itself, where the record has it
    if record.get("matmul_gflops") is not None:
        rate = f"the {record['matmul_gflops']:.1f} GFLOP/s matmul rate"
    return (
        f"{record['train_images_per_second']:,.0f} images/s, {record['achieved_gflops']:.1f} "
        f"GFLOP/s = {record['ratio_to_matmul']:.2f} of {rate}"
    )


def benchmarks_block(heads: dict[str, Any], small: dict[str, Any], large: dict[str, Any]) -> str:
    """The "Benchmarks" table of the records of benchmarks/heads.py and mnist_throughput.py
    (``small``: mnist_small with --time-to-accuracy, ``large``: --net mnist_sphere20)."""
    rows = _heads_rows(heads)
    rows.append(
        [
            f"`mnist_throughput.py`: `{small['net']}` training, {small['threads']} threads",
            _throughput(small),
        ]
    )
    reached = small.get("time_to_accuracy")  # measured with --time-to-accuracy only
    if reached is not None:
        rows.append(
            [
                "`mnist_throughput.py --time-to-accuracy`: angular, 2-D, seed 0",
                f"{reached['target']} reached after epoch {reached['epoch']:.0f}, "
                f"{reached['seconds']:.0f} s of training"
                if reached["seconds"] is not None
                else f"{reached['target']} not reached (final {reached['accuracy']:.4f})",
            ]
        )
    minutes = 60_000 / large["train_images_per_second"] / 60
    rows.append(
        [
            f"`mnist_throughput.py --net {large['net']}` (the reference's net)",
            f"{_throughput(large)}; {minutes:.0f} min per epoch",
        ]
    )
    records = (heads, small, large)
    dates = " and ".join(sorted({r["date"] for r in records}))
    machines = "; ".join(sorted({r["hardware"] for r in records}))
    notes = [line for r in records for line in transcribed(r)]
    lines = [
        f"Measured here on {dates} ({machines}):",
        "",
        *dict.fromkeys(notes),
        markdown_table(rows, ["benchmark", "figure"], align="ll"),
    ]
    return "\n".join(lines)


def gpu_block(record: dict[str, Any] | None) -> str:
    """The book's GPU run (benchmarks/gpu_book.py) from its committed record, or why there is
    none yet."""
    if record is None:
        return gpu_record.NOT_YET
    throughput = record["stages"].get("throughput", {})
    lines = [f"Measured with `{record['command']}` on {gpu_record.record_label(record)}:", ""]
    if gpu_record.mnist_rows(record):
        lines += [
            markdown_table(
                gpu_record.mnist_rows(record),
                ["mnist_sphere20", "features", "test accuracy (%), mean ± std", "seeds"],
            ),
            "",
        ]
    if gpu_record.faces_rows(record):
        lines += [
            markdown_table(
                gpu_record.faces_rows(record),
                ["SphereFace-20 on LFW", "official protocol (%)", "plain protocol (%)", "AUC"],
            ),
            "",
        ]
    if "sphere20_images_per_second" in throughput:
        rates = throughput["sphere20_images_per_second"]
        lines.append(
            f"SphereFace-20 training at 112 × 96: {rates['bf16']:,.0f} images/s in bf16, "
            f"{rates['fp32']:,.0f} in float32; A-Softmax head / original head at N = 256, "
            f"D = 512, C = 10,572: {throughput['angular_over_original']:.2f}."
        )
    return "\n".join(lines).strip()


def readme_with_tables(text: str) -> str:
    """``text`` (the README) with its tables written from the committed records."""
    text = with_readme_block(text, *TIMINGS_MARKERS, timings_block(read(TIMINGS)))
    benchmarks = benchmarks_block(*(read(path) for path in BENCHMARKS.values()))
    text = with_readme_block(text, *BENCHMARK_MARKERS, benchmarks)
    return with_readme_block(text, *GPU_MARKERS, gpu_block(gpu_record.latest_gpu_record(RESULTS)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the tables into README.md")
    parser.add_argument("--check", action="store_true", help="fail if the README differs")
    arguments = parser.parse_args()
    current = README.read_text()
    wanted = readme_with_tables(current)
    if arguments.check:
        if wanted != current:
            print("README.md differs from results/; run scripts/readme_tables.py --write")
            return 1
        return 0
    for start, end in (TIMINGS_MARKERS, BENCHMARK_MARKERS, GPU_MARKERS):
        print(readme_block(wanted, start, end), end="\n\n")
    if arguments.write:
        README.write_text(wanted)
        print(f"written into {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
