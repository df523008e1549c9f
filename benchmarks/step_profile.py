"""Where a training step of the MNIST runs spends its time, and what the levers would buy.

    python benchmarks/step_profile.py                    # mnist_small, A-Softmax, 1 thread
    python benchmarks/step_profile.py --threads 2 --batch-sizes 128 256 512

A step as the training loop takes it (``sphereface_lib.training.loop``): the batch gathered from
the training images and shifted (augmentation), forward through the net and the head with the
cross-entropy, backward, gradient clipping and the SGD update. For each batch size it prints
the milliseconds of each part and the images per second; then the same step with the SGD
update computed per parameter (PyTorch's for-loop), with ``foreach`` and with ``fused``, as
ratios to the first. The book trains each run on one thread, two runs at a time on two cores,
so one thread is the default. Timings are medians over interleaved rounds, after warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from sphereface_lib.heads import build_head
from sphereface_lib.nets import build_net
from sphereface_lib.training.augmentation import shift_images
from sphereface_lib.training.optim import clip_gradient_norm

PARTS = ("data", "forward", "backward", "update")


def step_timer(
    batch_size: int, net_name: str, head_name: str, sgd: str
) -> Callable[[], dict[str, float]]:
    """A function that takes one training step and returns the seconds of each part."""
    torch.manual_seed(0)
    net = build_net(net_name, 2).to(memory_format=torch.channels_last)
    head = build_head(head_name, 2, 10, margin=4)
    # PyTorch's own choice on a CPU is the for-loop; "foreach" and "fused" are the levers.
    options = {"foreach": False} if sgd == "for-loop" else {sgd: True}
    optimizer = torch.optim.SGD(
        [*net.parameters(), *head.parameters()],
        lr=0.01,
        momentum=0.9,
        weight_decay=5e-4,
        nesterov=True,
        **options,
    )
    images = torch.randn(60_000, 1, 28, 28)  # the training set, as the loop indexes it
    labels = torch.randint(0, 10, (len(images),))
    generator = torch.Generator().manual_seed(0)

    def one_step() -> dict[str, float]:
        started = time.perf_counter()
        batch = torch.randint(0, len(images), (batch_size,), generator=generator)
        x = shift_images(images[batch], generator, 2).contiguous(memory_format=torch.channels_last)
        y = labels[batch]
        gathered = time.perf_counter()
        loss = F.cross_entropy(head(net(x), y, 5.0), y)
        forward = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        backward = time.perf_counter()
        clip_gradient_norm(net, head, 5.0, lambda square: square)
        optimizer.step()
        updated = time.perf_counter()
        return dict(
            zip(
                PARTS,
                (gathered - started, forward - gathered, backward - forward, updated - backward),
                strict=True,
            )
        )

    return one_step


def measure(
    variants: dict[str, Callable[[], dict[str, float]]], steps: int, rounds: int
) -> dict[str, dict[str, float]]:
    """Median seconds per step of each part of each variant, variants interleaved by round."""
    for timer in variants.values():
        for _ in range(5):
            timer()
    samples: dict[str, dict[str, list[float]]] = {
        name: {part: [] for part in PARTS} for name in variants
    }
    for _ in range(rounds):
        for name, timer in variants.items():
            totals = dict.fromkeys(PARTS, 0.0)
            for _ in range(steps):
                for part, seconds in timer().items():
                    totals[part] += seconds
            for part in PARTS:
                samples[name][part].append(totals[part] / steps)
    return {
        name: {part: statistics.median(values) for part, values in parts.items()}
        for name, parts in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="mnist_small")
    parser.add_argument("--head", default="angular")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--steps", type=int, default=20, help="steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    print(
        f"{arguments.net} + {arguments.head}, {arguments.threads} thread(s), torch "
        f"{torch.__version__}; milliseconds per step (median of {arguments.rounds} rounds)"
    )

    by_batch = measure(
        {
            str(size): step_timer(size, arguments.net, arguments.head, "for-loop")
            for size in arguments.batch_sizes
        },
        arguments.steps,
        arguments.rounds,
    )
    print(f"{'batch':>6}" + "".join(f"{part:>10}" for part in PARTS) + f"{'images/s':>10}")
    for label, parts in by_batch.items():
        total = sum(parts.values())
        print(
            f"{label:>6}"
            + "".join(f"{1000 * parts[part]:>10.2f}" for part in PARTS)
            + f"{int(label) / total:>10.0f}"
        )

    size = 128 if 128 in arguments.batch_sizes else arguments.batch_sizes[0]
    by_sgd = measure(
        {
            sgd: step_timer(size, arguments.net, arguments.head, sgd)
            for sgd in ("for-loop", "foreach", "fused")
        },
        arguments.steps,
        arguments.rounds,
    )
    base = sum(by_sgd["for-loop"].values())
    print(f"\nSGD update at batch {size}: update ms, whole step against the for-loop update")
    for sgd, parts in by_sgd.items():
        total = sum(parts.values())
        print(f"{sgd:>10}: update {1000 * parts['update']:6.2f} ms, step ratio {total / base:.2f}")


if __name__ == "__main__":
    main()
