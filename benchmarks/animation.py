"""Seconds to render one embedding GIF (the book's full profile: 48 snapshots + the initial one).

    python benchmarks/animation.py                       # synthetic 2-D and 3-D snapshots
    python benchmarks/animation.py --run RUN_DIR ...     # the snapshots of finished runs

Prints, per GIF: frames, size, CPU seconds drawing the frames (artists moved, figure made once)
and encoding them, and how many times longer remaking the figure for every frame draws.
CPU seconds of this process, so that other work on a shared machine counts less.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import matplotlib

matplotlib.use("Agg")

import torch

from sphereface_lib.book.animation import embedding_frames, encode_gif, frame_durations
from sphereface_lib.training import Snapshots, load_result


def synthetic(dimension: int, frames: int = 49, points: int = 1000) -> Snapshots:
    """Ten classes that tighten around their weight directions over the frames."""
    generator = torch.Generator().manual_seed(dimension)
    directions = torch.nn.functional.normalize(torch.randn(10, dimension, generator=generator))
    labels = torch.arange(points) % 10
    noise = torch.randn(points, dimension, generator=generator)
    progress = torch.linspace(0, 1, frames)[:, None, None]
    features = directions[labels] * (1 + 20 * progress) + noise * (1.5 - progress)
    return Snapshots(
        steps=torch.arange(frames),
        epochs=torch.linspace(0, 7, frames, dtype=torch.float64),
        features=features,
        weights=directions.expand(frames, 10, dimension).clone(),
        labels=labels,
    )


def remade_per_frame(snapshots: Any) -> float:
    """Seconds to draw every frame in a new figure (the cost the update of artists avoids)."""
    started = time.process_time()
    for index in range(len(snapshots.features)):
        frames = embedding_frames(snapshots, "run")
        frames.draw(index)
        frames.pixels()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", nargs="*", default=[], help="run folders with snapshots.pt")
    arguments = parser.parse_args()
    cases = [(f"synthetic {d}-D", synthetic(d)) for d in (2, 3)]
    for run_dir in arguments.run:
        result = load_result(run_dir)
        assert result.snapshots is not None, f"{run_dir} has no snapshots"
        cases.append((run_dir, result.snapshots))
    header = ("snapshots", "frames", "MB", "draw s", "encode s", "remake x")
    print("{:<40} {:>6} {:>6} {:>7} {:>8} {:>8}".format(*header))
    for name, snapshots in cases:
        count = len(snapshots.features)
        started = time.process_time()
        frames = embedding_frames(snapshots, "run")
        pictures = []
        for index in range(count):
            frames.draw(index)
            pictures.append(frames.pixels())
        drawing = time.process_time() - started
        started = time.process_time()
        data = encode_gif(pictures, frame_durations(count, 0.18, 1.5))
        encoding = time.process_time() - started
        ratio = remade_per_frame(snapshots) / drawing
        print(
            f"{name[-40:]:<40} {count:>6} {len(data) / 1e6:>6.2f} "
            f"{drawing:>7.2f} {encoding:>8.2f} {ratio:>8.1f}"
        )


if __name__ == "__main__":
    main()
