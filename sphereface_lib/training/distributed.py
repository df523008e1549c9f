"""Training on several processes: data parallel (DDP) and a class-sharded margin head.

Under ``torchrun`` every process trains on its own slice of each global batch; the network is
wrapped in :class:`torch.nn.parallel.DistributedDataParallel`. NCCL is used on GPUs, gloo on
CPUs. With many classes (CASIA-WebFace: 10,572) the classification layer can instead be
*sharded*: each rank holds the weights of ``C / world_size`` classes, the features of the whole
global batch are gathered to every rank, and the softmax cross-entropy is computed across the
shards (the model-parallel classification layer of large-scale face recognition systems).

Legend: N global batch, n local batch, D feature dimension, C classes, W world size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_autograd
from torch import nn

from sphereface_lib.heads import build_head


@dataclass(frozen=True)
class Distributed:
    """Who this process is among ``world_size`` training processes (1: not distributed)."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")  # where collective tensors live

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process writes checkpoints, results and progress bars."""
        return self.rank == 0

    def local_part(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous part of a global batch of indices (sizes differ by <= 1)."""
        if not self.enabled:
            return batch
        return torch.tensor_split(batch, self.world_size)[self.rank]

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of ``values`` over all ranks (float64)."""
        if not self.enabled:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def from_environment(device: torch.device) -> tuple[Distributed, torch.device]:
    """Join the process group that ``torchrun`` describes in the environment, if any.

    Returns the context and the device this rank trains on (``cuda:LOCAL_RANK`` on GPUs).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed(), device
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank()
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return Distributed(rank, dist.get_world_size(), device), device


def shard_range(num_classes: int, rank: int, world_size: int) -> tuple[int, int]:
    """[start, stop) of the classes held by ``rank``: contiguous, sizes differ by at most one."""
    if num_classes < world_size:
        raise ValueError(
            f"cannot shard {num_classes} classes over {world_size} ranks; use fewer processes "
            "or a replicated head"
        )
    base, extra = divmod(num_classes, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


class ShardedHead(nn.Module):
    """The classes [start, stop) of a margin head; ``weight`` is (stop - start, D).

    forward(features (N, D) of the *global* batch, labels (N,) global class ids, lam) returns
    this shard's logits (N, stop - start); the margin goes to the samples whose class is here.
    """

    def __init__(
        self,
        kind: str,
        embedding_dim: int,
        num_classes: int,
        context: Distributed,
        **options: Any,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.start, self.stop = shard_range(num_classes, context.rank, context.world_size)
        self.local = build_head(kind, embedding_dim, self.stop - self.start, **options)

    @property
    def weight(self) -> torch.Tensor:
        return self.local.weight

    def forward(
        self, features: torch.Tensor, labels: torch.Tensor | None = None, lam: float = 0.0
    ) -> torch.Tensor:
        plain = self.local(features)
        if labels is None:
            return plain
        here = ((labels >= self.start) & (labels < self.stop)).nonzero()[:, 0]
        if len(here) == 0:
            return plain
        with_margin = self.local(features[here], labels[here] - self.start, lam)
        return plain.index_copy(0, here, with_margin)


def gather_features(features: torch.Tensor, context: Distributed) -> torch.Tensor:
    """(n, D) local features -> (N, D) of all ranks, in rank order, differentiable.

    Local batches may differ in size by one, so they are padded to a common length first.
    """
    if not context.enabled:
        return features
    sizes = torch.tensor([len(features)], device=context.device)
    all_sizes = [torch.zeros_like(sizes) for _ in range(context.world_size)]
    dist.all_gather(all_sizes, sizes)
    longest = int(max(s.item() for s in all_sizes))
    padded = torch.cat([features, features.new_zeros(longest - len(features), features.shape[1])])
    parts = dist_autograd.all_gather(padded)
    return torch.cat(
        [part[: int(size.item())] for part, size in zip(parts, all_sizes, strict=True)]
    )


def sharded_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, head: ShardedHead, context: Distributed
) -> torch.Tensor:
    """Per-sample softmax cross-entropy (N,) over the classes of all shards.

    logits: (N, C_shard) this shard's logits of the global batch; labels: (N,) global ids.
    Every rank gets the same values. The collectives' backward *sums* the ranks' gradients, so
    a loss built from these on every rank must be divided by the world size.
    """
    with torch.no_grad():  # the maximum only stabilises exp(); it needs no gradient
        shift = logits.max(dim=1).values
        if context.enabled:
            dist.all_reduce(shift, op=dist.ReduceOp.MAX)
    shifted = logits - shift[:, None]
    here = (labels >= head.start) & (labels < head.stop)
    local_index = (labels - head.start).clamp(0, logits.shape[1] - 1)
    target = torch.where(here, shifted.gather(1, local_index[:, None])[:, 0], 0.0)
    exp_sum = shifted.exp().sum(dim=1)
    if context.enabled:
        exp_sum = dist_autograd.all_reduce(exp_sum)
        target = dist_autograd.all_reduce(target)
    return exp_sum.log() - target


def sharded_predictions(
    logits: torch.Tensor, head: ShardedHead, context: Distributed
) -> torch.Tensor:
    """Global arg-max class (N,) from each shard's logits (N, C_shard)."""
    values, indices = logits.max(dim=1)
    indices = indices + head.start
    if not context.enabled:
        return indices
    all_values = [torch.empty_like(values) for _ in range(context.world_size)]
    all_indices = [torch.empty_like(indices) for _ in range(context.world_size)]
    dist.all_gather(all_values, values.contiguous())
    dist.all_gather(all_indices, indices.contiguous())
    best = torch.stack(all_values).argmax(dim=0)  # ties: the lowest rank, i.e. the lowest class
    return torch.stack(all_indices).gather(0, best[None])[0]


def gather_rows(shard: torch.Tensor, num_classes: int, context: Distributed) -> torch.Tensor:
    """A per-class tensor (C_shard, ...) of every rank -> (C, ...) in class order.

    For the weights, biases and momentum buffers of a sharded head (checkpoints, snapshots).
    """
    if not context.enabled:
        return shard
    ranges = [shard_range(num_classes, r, context.world_size) for r in range(context.world_size)]
    longest = max(stop - start for start, stop in ranges)
    padded = shard.new_zeros(longest, *shard.shape[1:])
    padded[: len(shard)] = shard
    parts = [torch.empty_like(padded) for _ in range(context.world_size)]
    dist.all_gather(parts, padded)
    return torch.cat([p[: stop - start] for p, (start, stop) in zip(parts, ranges, strict=True)])
