"""Training throughput of the default MNIST network against this machine's own matmul rate.

    python benchmarks/mnist_throughput.py                 # throughput and FLOP-rate ratio
    python benchmarks/mnist_throughput.py --time-to-accuracy   # also: wall time to 0.9896
    python benchmarks/mnist_throughput.py --net mnist_sphere20 # the reference's residual net

Prints, in one run: (1) the float32 matrix-multiply rate of this machine (a large square
matmul, the practical hardware limit for dense float32 work); (2) images/s of training steps
of the default net (`mnist_small`, or the one --net names; A-Softmax head, batch 128,
forward + backward + SGD update, the same step as sphereface_lib.training.loop); (3) the achieved
FLOP rate of those steps (3 x 2 x multiply-adds per image: forward, and a backward pass about
twice the forward) and its ratio to (1). With --time-to-accuracy it trains the angular head
in 2-D on the full set and reports the wall time until the test accuracy first reaches 0.9896
(the reference's number), evaluated after every epoch. ``--json`` writes the figures with their
provenance: the records of the README's benchmarks table (results/benchmarks/mnist_small.json
and mnist_sphere20.json, then ``python scripts/readme_tables.py --write``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from sphereface_lib.book import provenance
from sphereface_lib.heads import build_head
from sphereface_lib.nets import build_net, count_multiply_adds
from sphereface_lib.training import resolve_device, train
from sphereface_lib.training.config import preset

TARGET_ACCURACY = 0.9896


def matmul_rate(device: torch.device, size: int = 2048, repeats: int = 20) -> float:
    """float32 FLOP/s of a size x size matrix product (2 size^3 FLOPs each)."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    for _ in range(3):
        a @ b
    _synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _synchronize(device)
    return 2 * size**3 * repeats / (time.perf_counter() - started)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def training_rate(
    device: torch.device, net_name: str = "mnist_small", batch_size: int = 128, steps: int = 60
) -> float:
    """Images per second of full training steps of a net + A-Softmax on random digits."""
    torch.manual_seed(0)
    net = build_net(net_name, 2).to(device).to(memory_format=torch.channels_last)
    head = build_head("angular", 2, 10, margin=4).to(device)
    optimizer = torch.optim.SGD(
        [*net.parameters(), *head.parameters()], lr=0.01, momentum=0.9, nesterov=True
    )
    images = torch.randn(batch_size, 1, 28, 28, device=device)
    images = images.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (batch_size,), device=device)

    def step() -> None:
        loss = F.cross_entropy(head(net(images).float(), labels, 5.0), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(10):
        step()
    _synchronize(device)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    _synchronize(device)
    return batch_size * steps / (time.perf_counter() - started)


def time_to_accuracy(data_root: str | None, device: str, net: str) -> dict[str, float | None]:
    """Train angular 2-D (full profile, seed 0); wall time until test accuracy >= the target."""
    # On every thread of this machine (a run trains on one by default): a time, not a result.
    threads = torch.get_num_threads()
    config = preset(
        "full", head="angular", embedding_dim=2, device=device, net=net, cpu_threads=threads
    )
    result = train(config, None, data_root)
    elapsed = 0.0
    for row in result.metrics:
        elapsed += row["train_seconds"] + row["eval_seconds"]
        if row["test_accuracy"] >= TARGET_ACCURACY:
            return {"seconds": elapsed, "epoch": row["epoch"], "accuracy": row["test_accuracy"]}
    return {"seconds": None, "epoch": None, "accuracy": result.final_test_accuracy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--net", default="mnist_small", help="mnist_small or mnist_sphere20")
    parser.add_argument("--steps", type=int, default=60, help="timed training steps")
    parser.add_argument("--time-to-accuracy", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    arguments = parser.parse_args()
    device = resolve_device(arguments.device)

    peak = matmul_rate(device)
    images_per_second = training_rate(device, arguments.net, steps=arguments.steps)
    flops_per_image = 6 * count_multiply_adds(build_net(arguments.net, 2), (1, 28, 28))
    achieved = images_per_second * flops_per_image
    figures: dict[str, object] = {
        **provenance.provenance(sys.argv),
        "device": str(device),
        "net": arguments.net,
        "threads": torch.get_num_threads(),
        "matmul_gflops": peak / 1e9,
        "train_images_per_second": images_per_second,
        "flops_per_image": flops_per_image,
        "achieved_gflops": achieved / 1e9,
        "ratio_to_matmul": achieved / peak,
    }
    print(f"device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"matmul rate (2048^2 float32):   {peak / 1e9:8.1f} GFLOP/s")
    print(f"net:                            {arguments.net:>8}")
    print(f"training throughput:            {images_per_second:8.0f} images/s (batch 128)")
    print(f"one epoch of 60,000 images:     {60000 / images_per_second / 60:8.1f} min")
    print(f"FLOPs per training image:       {flops_per_image / 1e6:8.2f} MFLOP (6 x multiply-adds)")
    print(f"achieved training FLOP rate:    {achieved / 1e9:8.1f} GFLOP/s")
    print(f"ratio to the matmul rate:       {achieved / peak:8.2f}")
    if arguments.time_to_accuracy:
        reached = time_to_accuracy(arguments.data_root, arguments.device, arguments.net)
        figures["time_to_accuracy"] = {**reached, "target": TARGET_ACCURACY}
        if reached["seconds"] is None:
            print(f"did not reach {TARGET_ACCURACY} (final {reached['accuracy']:.4f})")
        else:
            print(
                f"time to {TARGET_ACCURACY} test accuracy (angular, 2-D, seed 0): "
                f"{reached['seconds']:.0f} s (epoch {reached['epoch']:.0f}, "
                f"accuracy {reached['accuracy']:.4f})"
            )
    if arguments.json:  # a record of scripts/readme_tables.py (results/benchmarks/*.json)
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
