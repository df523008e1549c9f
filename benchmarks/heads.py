"""Forward + backward time of each head, relative to the original softmax head in the same run.

    python benchmarks/heads.py            # both sizes, all heads
    python benchmarks/heads.py --device cuda

Goal (issue: library core): the A-Softmax head costs at most 1.3x the original head at
(N=256, D=512, C=10572), the CASIA-WebFace size. Prints a table; ``--json`` also writes it with
its provenance, the record of the README's benchmarks table (``--json
results/benchmarks/heads.json``, then ``python scripts/readme_tables.py --write``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils import benchmark

from sphereface_lib.book import provenance
from sphereface_lib.common import hardware
from sphereface_lib.heads import build_head

SIZES = [(256, 2, 10), (256, 512, 10572)]
HEADS = [
    ("original", {}),
    ("modified", {}),
    ("angular", {"margin": 4}),
    ("cosface", {}),
    ("arcface", {}),
]


ROUNDS = 7  # every head is timed once per round; ratios are taken within a round


def head_step(kind: str, options: dict, size: tuple[int, int, int], device: str) -> Callable:
    """One forward + backward (cross-entropy on top) of head ``kind`` at ``size`` (N, D, C)."""
    count, dim, classes = size
    torch.manual_seed(0)
    head = build_head(kind, dim, classes, **options).to(device)
    features = torch.randn(count, dim, device=device, requires_grad=True)
    labels = torch.randint(0, classes, (count,), device=device)

    def step() -> None:
        loss = F.cross_entropy(head(features, labels, 5.0), labels)
        loss.backward()
        head.zero_grad(set_to_none=True)
        features.grad = None
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    return step


def time_heads(
    size: tuple[int, int, int], device: str, rounds: int = ROUNDS
) -> dict[str, list[float]]:
    """Seconds per step of every head, ``ROUNDS`` times, the heads interleaved within a round.

    Interleaving makes a slow spell of a shared machine hit every head alike, so the ratio of
    two heads in one round is steadier than the ratio of two separately timed medians.
    """
    steps = {kind: head_step(kind, options, size, device) for kind, options in HEADS}
    seconds: dict[str, list[float]] = {kind: [] for kind in steps}
    for _ in range(rounds):
        for kind, step in steps.items():
            timer = benchmark.Timer(stmt="step()", globals={"step": step})
            seconds[kind].append(timer.blocked_autorange(min_run_time=0.3).median)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    arguments = parser.parse_args()
    print(
        f"device {arguments.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{hardware.cpu_model()}; median over {ROUNDS} interleaved rounds"
    )
    rows = []
    for size in SIZES:
        seconds = time_heads(size, arguments.device)
        baseline = seconds["original"]
        print(f"\nN={size[0]}, D={size[1]}, C={size[2]}")
        print(f"{'head':>10} {'ms':>9} {'x original':>11} {'(range over rounds)':>21}")
        for kind, times in seconds.items():
            ratios = [t / b for t, b in zip(times, baseline, strict=True)]
            row = {
                "size": size,
                "head": kind,
                "seconds": statistics.median(times),
                "ratio": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
            }
            rows.append(row)
            print(
                f"{kind:>10} {row['seconds'] * 1e3:9.3f} {row['ratio']:11.2f} "
                f"{'':>6}{row['ratio_min']:.2f} to {row['ratio_max']:.2f}"
            )
    goal = next(r for r in rows if r["head"] == "angular" and r["size"] == SIZES[1])["ratio"]
    print(f"\nangular / original at the large size: {goal:.2f} (goal <= 1.3)")
    if arguments.json:  # the record of scripts/readme_tables.py (results/benchmarks/heads.json)
        record = {
            **provenance.provenance(sys.argv),
            "threads": torch.get_num_threads(),
            "rounds": ROUNDS,
            "rows": rows,
        }
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
