"""Forward + backward time of each head, relative to the original softmax head in the same run.

    python benchmarks/heads.py            # both sizes, all heads
    python benchmarks/heads.py --device cuda

Goal (issue: library core): the A-Softmax head costs at most 1.3x the original head at
(N=256, D=512, C=10572), the CASIA-WebFace size. Prints a table; ``--json`` also writes it.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils import benchmark

from sphereface_lib.heads import build_head

SIZES = [(256, 2, 10), (256, 512, 10572)]
HEADS = [
    ("original", {}),
    ("modified", {}),
    ("angular", {"margin": 4}),
    ("cosface", {}),
    ("arcface", {}),
]


def time_head(kind: str, options: dict, size: tuple[int, int, int], device: str) -> float:
    """Median seconds of one forward + backward (cross-entropy on top) at ``size`` (N, D, C)."""
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

    timer = benchmark.Timer(stmt="step()", globals={"step": step})
    return timer.blocked_autorange(min_run_time=1.0).median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    arguments = parser.parse_args()
    print(
        f"device {arguments.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}"
    )
    rows = []
    for size in SIZES:
        baseline = None
        print(f"\nN={size[0]}, D={size[1]}, C={size[2]}")
        print(f"{'head':>10} {'ms':>9} {'x original':>11}")
        for kind, options in HEADS:
            seconds = time_head(kind, options, size, arguments.device)
            baseline = baseline or seconds
            rows.append(
                {"size": size, "head": kind, "seconds": seconds, "ratio": seconds / baseline}
            )
            print(f"{kind:>10} {seconds * 1e3:9.3f} {seconds / baseline:11.2f}")
    goal = next(r for r in rows if r["head"] == "angular" and r["size"] == SIZES[1])["ratio"]
    print(f"\nangular / original at the large size: {goal:.2f} (goal <= 1.3)")
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
