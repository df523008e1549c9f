"""SphereFace-20 training throughput at 112x96, and the time the paper's CASIA recipe would take.

    python benchmarks/sphereface20_throughput.py              # CUDA if present (bf16), else CPU
    python benchmarks/sphereface20_throughput.py --batch 256 --steps 30

Times full training steps (forward, A-Softmax head with 10,572 classes, backward, SGD update)
on random 112x96 faces, then divides the recipe's 28,000 updates x 512 images by the measured
rate. The multi-GPU figure assumes linear scaling and is labelled as such.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from sphereface_lib.heads import build_head
from sphereface_lib.nets import build_net
from sphereface_lib.training import resolve_device
from sphereface_lib.training.config import PRESETS

CASIA_CLASSES = 10_572


def training_throughput(
    net_name: str, batch: int, steps: int, device: torch.device, bf16: bool
) -> float:
    """Images per second of full training steps of ``net_name`` on random 112x96 faces: forward
    (in bf16 autocast when ``bf16``), the A-Softmax head over 10,572 classes in float32,
    backward, SGD update. Warm-up steps are not timed."""
    torch.manual_seed(0)
    net = build_net(net_name, 512).to(device).to(memory_format=torch.channels_last)
    head = build_head("angular", 512, CASIA_CLASSES, margin=4).to(device)
    optimizer = torch.optim.SGD([*net.parameters(), *head.parameters()], lr=0.1, momentum=0.9)
    images = torch.randn(batch, 3, 112, 96, device=device)
    images = images.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, CASIA_CLASSES, (batch,), device=device)
    cuda = device.type == "cuda"

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            features = net(images)
        loss = F.cross_entropy(head(features.float(), labels, 5.0), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3 if cuda else 1):
        step()
    if cuda:
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    if cuda:
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=None, help="default: 256 on CUDA, 16 on CPU")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default 30 / 3)")
    parser.add_argument("--net", default="sphere20")
    arguments = parser.parse_args()
    device = resolve_device(arguments.device)
    cuda = device.type == "cuda"
    batch = arguments.batch or (256 if cuda else 16)
    steps = arguments.steps or (30 if cuda else 3)
    rate = training_throughput(arguments.net, batch, steps, device, bf16=cuda)

    recipe = PRESETS["casia"]
    images_total = recipe["max_steps"] * recipe["batch_size"]
    hours = images_total / rate / 3600
    name = torch.cuda.get_device_name() if cuda else f"CPU, {torch.get_num_threads()} threads"
    print(f"{arguments.net}, A-Softmax over {CASIA_CLASSES} classes, batch {batch}, {name}")
    print(f"precision: {'bf16 autocast' if cuda else 'float32'}; torch {torch.__version__}")
    print(f"training throughput: {rate:,.1f} images/s")
    print(
        f"CASIA recipe ({recipe['max_steps']:,} updates x {recipe['batch_size']} images = "
        f"{images_total:,} images): {hours:,.1f} h on this device"
    )
    print(f"on 8 such devices, assuming linear scaling: {hours / 8:,.1f} h")


if __name__ == "__main__":
    main()
