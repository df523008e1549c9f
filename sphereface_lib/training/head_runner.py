"""How the training loop uses a head: replicated on every process, or sharded over them.

A replicated head (:class:`ReplicatedHead`, also the single-process case) runs with the network
inside one DDP module, on this rank's part of the batch. A sharded head (:class:`ShardedHeads`,
``shard_head=True`` under torchrun) holds ``C / W`` classes on each rank: the features of the
whole global batch are gathered to every rank and the softmax is taken across the shards
(:mod:`~sphereface_lib.training.distributed`). The loop calls the same methods either way.

Legend: N global batch, n this rank's part, D feature dimension, C classes, W world size.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from sphereface_lib.heads import MarginHead
from sphereface_lib.training.distributed import (
    Distributed,
    ShardedHead,
    gather_features,
    gather_rows,
    sharded_cross_entropy,
    sharded_predictions,
)
from sphereface_lib.training.model import autocast


class HeadRunner:
    """The head of a run and the module a training step calls (DDP-wrapped when distributed)."""

    def __init__(self, net: nn.Module, head: nn.Module, context: Distributed) -> None:
        self.net, self.head, self.context = net, head, context
        self.model = self._step_module()
        if context.enabled:
            self.model = DistributedDataParallel(self.model)

    def _step_module(self) -> nn.Module:
        raise NotImplementedError

    def step_losses(
        self, images: torch.Tensor, labels: torch.Tensor, lam: float, mine: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Forward one training step: this rank's images (n, C, H, W), the global batch's labels
        (N,) and this rank's positions ``mine`` in it. Returns (the loss to differentiate, this
        rank's per-sample losses (n,) detached, this rank's margin-free hits (n,) bool)."""
        raise NotImplementedError

    def test_totals(
        self, features: torch.Tensor, labels: torch.Tensor, mine: torch.Tensor, lam: float
    ) -> list[float]:
        """[loss sum at ``lam``, correct predictions] over the whole test set, from this rank's
        features (n, D) of the test images at positions ``mine`` of ``labels`` (all, CPU)."""
        raise NotImplementedError

    def over_ranks(self, value: float) -> float:
        """A sum over the head's parameters, completed over the ranks where they are sharded."""
        return value

    def weight(self) -> torch.Tensor:
        """The class weights (C, D) of every class, detached."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The head's parameters with every class."""
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        raise NotImplementedError

    def optimizer_state(self, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        """The optimizer's state with every class (as a checkpoint stores it)."""
        return optimizer.state_dict()

    def load_optimizer_state(self, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
        optimizer.load_state_dict(state)


class _NetAndHead(nn.Module):
    """Network and replicated head as one module, so that DDP synchronises both."""

    def __init__(self, net: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.head = head

    def forward(
        self, images: torch.Tensor, labels: torch.Tensor, lam: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        with autocast(images.device):
            features = self.net(images)
        features = features.float()
        return features, self.head(features, labels, lam)


class ReplicatedHead(HeadRunner):
    """Every class on every rank; each rank computes the loss of its own samples."""

    head: MarginHead

    def _step_module(self) -> nn.Module:
        return _NetAndHead(self.net, self.head)

    def step_losses(
        self, images: torch.Tensor, labels: torch.Tensor, lam: float, mine: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        labels_here = labels[mine]
        features, logits = self.model(images, labels_here, lam)
        losses = F.cross_entropy(logits, labels_here, reduction="none")
        # Sum over this rank's samples / global batch, times W: DDP's mean over ranks then
        # gives the gradient of the mean loss over the global batch.
        loss = losses.sum() * self.context.world_size / len(labels)
        with torch.no_grad():  # margin-free logits for the accuracy
            correct = self.head(features.detach()).argmax(1) == labels_here
        return loss, losses.detach(), correct

    def test_totals(
        self, features: torch.Tensor, labels: torch.Tensor, mine: torch.Tensor, lam: float
    ) -> list[float]:
        labels = labels[mine].to(features.device)
        with torch.no_grad():
            losses = F.cross_entropy(self.head(features, labels, lam), labels, reduction="none")
            predictions = self.head(features).argmax(dim=1)
        return self.context.sum([float(losses.sum()), float((predictions == labels).sum())])

    def weight(self) -> torch.Tensor:
        return self.head.weight.detach()

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.head.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.head.load_state_dict(state)


class ShardedHeads(HeadRunner):
    """Classes [start, stop) on each rank; the features of the global batch on every rank."""

    head: ShardedHead

    def _step_module(self) -> nn.Module:
        return self.net

    def step_losses(
        self, images: torch.Tensor, labels: torch.Tensor, lam: float, mine: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        context = self.context
        with autocast(images.device):
            local_features = self.model(images)
        local_features = local_features.float()
        if context.enabled:
            # DDP averages the network's gradients over ranks, but each rank's features
            # already carry the gradient of the global loss: scale the mean back to a sum.
            local_features.register_hook(lambda grad: grad * context.world_size)
        features = gather_features(local_features, context)
        losses = sharded_cross_entropy(self.head(features, labels, lam), labels, self.head, context)
        # Every rank holds the same global loss; the collectives' backward sums the ranks.
        loss = losses.sum() / (len(labels) * context.world_size)
        with torch.no_grad():
            predictions = sharded_predictions(self.head(features.detach()), self.head, context)
        return loss, losses.detach()[mine], (predictions == labels)[mine]

    def test_totals(
        self, features: torch.Tensor, labels: torch.Tensor, mine: torch.Tensor, lam: float
    ) -> list[float]:
        features = gather_features(features, self.context)
        labels = labels.to(features.device)
        with torch.no_grad():
            logits = self.head(features, labels, lam)
            losses = sharded_cross_entropy(logits, labels, self.head, self.context)
            predictions = sharded_predictions(self.head(features), self.head, self.context)
        return [float(losses.sum()), float((predictions == labels).sum())]

    def over_ranks(self, value: float) -> float:
        return self.context.sum([value])[0]

    def weight(self) -> torch.Tensor:
        return gather_rows(self.head.weight.detach(), self.head.num_classes, self.context)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {
            name: gather_rows(value.detach(), self.head.num_classes, self.context)
            for name, value in self.head.local.state_dict().items()
        }

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        start, stop = self.head.start, self.head.stop
        self.head.local.load_state_dict({k: v[start:stop] for k, v in state.items()})

    def _head_indices(self, state: dict[str, Any]) -> list[int]:
        """Positions of the head's parameters in an optimizer state (the net's come first)."""
        first_head = len(list(self.net.parameters()))
        return [index for index in state["state"] if index >= first_head]

    def optimizer_state(self, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        state = optimizer.state_dict()
        for index in self._head_indices(state):
            # A new entry: the packed state shares its entries with the optimizer's own.
            entry = state["state"][index]
            full = gather_rows(entry["momentum_buffer"], self.head.num_classes, self.context)
            state["state"][index] = {**entry, "momentum_buffer": full}
        return state

    def load_optimizer_state(self, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
        for index in self._head_indices(state):
            entry = state["state"][index]
            entry["momentum_buffer"] = entry["momentum_buffer"][self.head.start : self.head.stop]
        optimizer.load_state_dict(state)


def head_runner(net: nn.Module, head: nn.Module, context: Distributed) -> HeadRunner:
    """The runner of ``head``: sharded if it is a :class:`ShardedHead`, else replicated."""
    if isinstance(head, ShardedHead):
        return ShardedHeads(net, head, context)
    return ReplicatedHead(net, head, context)
