"""The network and head of a configuration, the device and CPU threads they run on, and
features in eval mode."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from sphereface_lib.data.lazy import LazyFaceImages
from sphereface_lib.heads import MarginHead, build_head
from sphereface_lib.nets import build_net
from sphereface_lib.training.config import TrainConfig
from sphereface_lib.training.distributed import Distributed, ShardedHead

EVAL_BATCH = 1000


def resolve_device(name: str) -> torch.device:
    """The device of ``name`` ("auto", "cpu", "cuda", "cuda:N"); an error if it is not here."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {name!r} was requested but CUDA is not available here; use device "
                "'cpu', or 'auto' to take a GPU when there is one"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {name!r} was requested but this machine has "
                f"{torch.cuda.device_count()} GPU(s); use cuda:0 to cuda:"
                f"{torch.cuda.device_count() - 1}"
            )
    return device


def head_options(config: TrainConfig) -> dict[str, Any]:
    """The constructor options of the configured head."""
    if config.head == "angular":
        return {"margin": config.margin}
    if config.head in ("cosface", "arcface"):
        return {"scale": config.scale, "margin": config.additive_margin}
    return {}


def build_model(
    config: TrainConfig, num_classes: int, context: Distributed | None = None
) -> tuple[nn.Module, MarginHead | ShardedHead]:
    """Network and head of ``config``, initialised from its seed.

    With ``config.shard_head`` the head holds only this rank's classes (a :class:`ShardedHead`);
    every rank draws the full head first, so the shards together equal the unsharded head.
    """
    torch.manual_seed(config.seed)
    net = build_net(config.net, config.embedding_dim)
    head = build_head(config.head, config.embedding_dim, num_classes, **head_options(config))
    if not config.shard_head:
        return net, head
    context = context or Distributed()
    sharded = ShardedHead(
        config.head, config.embedding_dim, num_classes, context, **head_options(config)
    )
    sharded.local.load_state_dict(
        {k: v[sharded.start : sharded.stop] for k, v in head.state_dict().items()}
    )
    return net, sharded


@contextmanager
def cpu_threads(count: int) -> Iterator[None]:
    """Run the block on ``count`` CPU threads (``torch.set_num_threads``), then restore them."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def autocast(device: torch.device) -> Any:
    """bf16 autocast on CUDA (no loss scaling needed); the CPU stays in float32 for determinism."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def channels_last(images: torch.Tensor) -> torch.Tensor:
    """Images in channels-last memory order: convolutions run about 1.5x faster with oneDNN."""
    return images.contiguous(memory_format=torch.channels_last)


def embed(
    net: nn.Module,
    images: torch.Tensor | LazyFaceImages,
    device: torch.device,
    batch_size: int = EVAL_BATCH,
) -> torch.Tensor:
    """Features (N, D) float32 of ``images`` (N, C, H, W) in eval mode, without gradients."""
    was_training = net.training
    net.eval()
    chunks = []
    with torch.no_grad(), autocast(device):
        for start in range(0, len(images), batch_size):
            chunks.append(net(channels_last(images[start : start + batch_size].to(device))).float())
    net.train(was_training)
    return torch.cat(chunks)
