"""One training loop for every head, network and data set: seeded, resumable, with snapshots.

A run writes into its output folder:

- ``checkpoint.pt`` while it runs (every epoch, on Ctrl-C or SIGTERM, at ``stop_at_step``),
  removed at the end;
- ``result.json``: configuration, metrics per epoch, timings, versions (the provenance record);
- ``snapshots.pt``: features of ``snapshot_points`` test images and the class weights, several
  times per epoch, for the animations; ``test_features.pt``: final features of the test set;
- ``model.pt``: the final network and head weights.

Every file carries a checksum of its content and is written atomically
(:mod:`sphereface_lib.common.integrity`); files are read with ``torch.load(weights_only=True)`` and
checked. The data order and augmentation of a step are drawn from generators seeded by
(seed, epoch) and (seed, step), so a run resumed from any checkpoint ends bit-identical to an
uninterrupted one on the same machine. Ctrl-C and SIGTERM stop a run at the end of the current
step (:mod:`~sphereface_lib.training.interrupts`). The folder is checked and locked while a run
uses it (:mod:`~sphereface_lib.training.run_folder`): a finished run is never overwritten by another
configuration, and a finished run of the same configuration is read back, not trained again.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from sphereface_lib import __version__
from sphereface_lib.common import hardware
from sphereface_lib.common.integrity import (
    CorruptFileError,
    load_checked,
    read_json_checked,
    remove_partial_files,
    save_checked,
    write_json_checked,
)
from sphereface_lib.common.progress import progress_bar
from sphereface_lib.common.seeding import derived_generator, seed_everything
from sphereface_lib.data.faces import random_horizontal_flip
from sphereface_lib.data.lazy import LazyFaceImages, take
from sphereface_lib.data.training_sets import TrainingData, load_training_data
from sphereface_lib.heads import MarginHead, build_head
from sphereface_lib.maths.margins import annealed_lambda
from sphereface_lib.maths.schedules import step_decay, warmup_cosine
from sphereface_lib.nets import build_net
from sphereface_lib.training import run_folder
from sphereface_lib.training.config import TrainConfig
from sphereface_lib.training.distributed import (
    Distributed,
    ShardedHead,
    from_environment,
    gather_features,
    gather_rows,
    sharded_cross_entropy,
    sharded_predictions,
)
from sphereface_lib.training.fingerprint import code_fingerprint
from sphereface_lib.training.interrupts import (
    StopSignals,
    TrainingInterrupted,
    signal_name,
    stopping_all_runs,
)
from sphereface_lib.training.optim import build_optimizer, set_learning_rate

SHIFT_PIXELS = 2
EVAL_BATCH = 1000


class CheckpointError(ValueError):
    """A checkpoint cannot be used for this run; the message says why and what to do."""


@dataclass
class Snapshots:
    """Features over training: steps (S,), features (S, P, D), weights (S, C, D), labels (P,)."""

    steps: torch.Tensor
    epochs: torch.Tensor
    features: torch.Tensor
    weights: torch.Tensor
    labels: torch.Tensor


@dataclass
class RunResult:
    """What a run produced; ``complete`` is False for a run stopped early (resume it)."""

    config: TrainConfig
    metrics: list[dict[str, float]]
    complete: bool
    run_dir: Path | None = None
    snapshots: Snapshots | None = None
    test_features: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    record: dict[str, Any] = field(default_factory=dict)
    stopped_at: int | None = None  # the updates done, for a run stopped early

    @property
    def final_test_accuracy(self) -> float:
        return self.metrics[-1]["test_accuracy"]

    def load_model(self) -> tuple[nn.Module, MarginHead | ShardedHead]:
        """The trained network and (unsharded) head, on the CPU, in eval mode."""
        if self.run_dir is None or not (self.run_dir / "model.pt").exists():
            raise FileNotFoundError("this result has no saved model (was the run complete?)")
        state = load_checked(self.run_dir / "model.pt", _retrain_remedy(self.run_dir))
        config = self.config.replace(shard_head=False)  # checkpoints hold every class
        net, head = build_model(config, num_classes=state["head"]["weight"].shape[0])
        net.load_state_dict(state["net"])
        head.load_state_dict(state["head"])
        return net.eval(), head.eval()


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


def check_stop_at_step(stop_at_step: object) -> None:
    if stop_at_step is None:
        return
    if isinstance(stop_at_step, bool) or not isinstance(stop_at_step, int) or stop_at_step < 1:
        raise ValueError(
            f"stop_at_step must be a positive number of updates, got {stop_at_step!r}; the run "
            "stops after that many updates and resumes when started again"
        )


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


def lambda_at(config: TrainConfig, step: int) -> float:
    """The annealing weight of the batch trained after ``step`` updates (0: the first batch),
    for every margin head (angular, cosface, arcface).

    Counted as the official layer counts: it increments its iteration before computing lambda,
    so the batch after ``step`` updates has iteration ``step + 1`` (see
    :func:`~sphereface_lib.maths.margins.annealed_lambda`); the first batch gets 1000 / 1.12.
    Heads without a margin ignore it, so they get 0. ``lambda_base=0, lambda_min=0`` trains a
    margin head without annealing (pure A-Softmax, the CosFace and ArcFace papers' recipe).
    """
    if config.head in ("original", "modified"):
        return 0.0
    return annealed_lambda(
        step + 1, config.lambda_base, config.lambda_gamma, config.lambda_power, config.lambda_min
    )


def shift_images(images: torch.Tensor, generator: torch.Generator, pixels: int) -> torch.Tensor:
    """Translate each image (N, 1, H, W) by a random whole-pixel offset in [-pixels, pixels]."""
    count, _, height, width = images.shape
    background = float(images.amin())
    padded = F.pad(images, (pixels, pixels, pixels, pixels), value=background)
    offsets = torch.randint(0, 2 * pixels + 1, (2, count), generator=generator).to(images.device)
    rows = torch.arange(height, device=images.device)[None, :] + offsets[0][:, None]
    cols = torch.arange(width, device=images.device)[None, :] + offsets[1][:, None]
    batch = torch.arange(count, device=images.device)[:, None, None]
    return padded[batch, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def embed(
    net: nn.Module,
    images: torch.Tensor | LazyFaceImages,
    device: torch.device,
    batch_size: int = EVAL_BATCH,
) -> torch.Tensor:
    """Features (N, D) float32 of ``images`` (N, 1, H, W) in eval mode, without gradients."""
    was_training = net.training
    net.eval()
    chunks = []
    with torch.no_grad(), _autocast(device):
        for start in range(0, len(images), batch_size):
            batch = _to_memory_format(images[start : start + batch_size].to(device), device)
            chunks.append(net(batch).float())
    net.train(was_training)
    return torch.cat(chunks)


def _autocast(device: torch.device) -> Any:
    # bf16 autocast on CUDA (no loss scaling needed); the CPU stays in float32 for determinism.
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def _to_memory_format(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    # channels-last convolutions run about 1.5x faster with oneDNN on the CPU.
    return images.contiguous(memory_format=torch.channels_last)


def _snapshot_steps(total_steps: int, frames: int) -> set[int]:
    """Steps (1-based, after the update) at which a frame is recorded: ``frames`` evenly spaced
    over the run, the last at its end (fewer when the run has fewer steps than frames)."""
    return {-(-(i + 1) * total_steps // frames) for i in range(frames)}  # ceil, in integers


def _check_checkpoint(state: dict[str, Any], config: TrainConfig, path: Path) -> None:
    if state.get("code") != code_fingerprint():
        raise CheckpointError(
            f"{path} was written by other library code (fingerprint {state.get('code')}, this "
            f"code's is {code_fingerprint()}); resuming would mix the two, so delete the file to "
            "start the run afresh"
        )
    saved = state.get("config", {})
    if saved != config.to_dict():
        changed = sorted(
            key
            for key in set(saved) | set(config.to_dict())
            if saved.get(key) != config.to_dict().get(key)
        )
        raise CheckpointError(
            f"{path} belongs to a run with a different configuration (fields {changed} differ); "
            "use another output folder, or delete the checkpoint to start this run afresh"
        )


def _load_checkpoint(path: Path, config: TrainConfig) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        state = load_checked(path, "delete it to start the run afresh")
    except CorruptFileError as error:
        raise CheckpointError(str(error)) from None
    _check_checkpoint(state, config, path)
    return state


def _retrain_remedy(run_dir: Path) -> str:
    return (
        f"delete the folder {run_dir} (or train with force=True, --force on the command line) "
        "to train the run again"
    )


class _NetAndHead(nn.Module):
    """Network and replicated head as one module, so that DDP synchronises both."""

    def __init__(self, net: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.head = head

    def forward(
        self, images: torch.Tensor, labels: torch.Tensor, lam: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        with _autocast(images.device):
            features = self.net(images)
        features = features.float()
        return features, self.head(features, labels, lam)


class _Run:
    """The state of one training run and the steps that change it (see :func:`train`)."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path | None,
        data: TrainingData,
        device: torch.device,
        context: Distributed,
        progress: bool,
    ) -> None:
        self.config, self.run_dir, self.data = config, run_dir, data
        self.device, self.context = device, context
        self.sharded = config.shard_head
        seed_everything(config.seed)
        self.net, self.head = build_model(config, data.num_classes, context)
        self.net.to(device).to(memory_format=torch.channels_last)
        self.head.to(device)
        self.parameters = [*self.net.parameters(), *self.head.parameters()]
        self.optimizer = build_optimizer(self.net, self.head, config)
        # What the training step calls: DDP synchronises the network (and a replicated head).
        self.model: nn.Module = self.net if self.sharded else _NetAndHead(self.net, self.head)
        if context.enabled:
            self.model = DistributedDataParallel(self.model)

        self.steps_per_epoch = math.ceil(len(data.train_labels) / config.batch_size)
        self.total_steps = config.max_steps or self.steps_per_epoch * config.epochs
        self.warmup_steps = round(config.warmup_epochs * self.steps_per_epoch)
        self.frame_steps = _snapshot_steps(self.total_steps, config.snapshot_frames)
        self._order_epoch, self._order = -1, torch.empty(0, dtype=torch.long)
        self.step = 0
        self.saved_step = 0  # the step of the state on disk (a fresh start needs no file)
        self.metrics: list[dict[str, float]] = []
        self.frames: dict[str, list[torch.Tensor]] = {"steps": [], "features": [], "weights": []}
        self.running = self._fresh_running()
        self.checkpoint_path = run_dir / "checkpoint.pt" if run_dir is not None else None
        self.label = f"{config.head}" + (f" m={config.margin}" if config.head == "angular" else "")
        self.label += f" d={config.embedding_dim} seed={config.seed}"
        self.bar = progress_bar(
            total=self.total_steps,
            desc=self.label,
            enabled=progress and context.is_main,
            mininterval=2.0,
            leave=False,
        )

    @staticmethod
    def _fresh_running() -> dict[str, float]:
        return {"loss_sum": 0.0, "correct": 0.0, "seen": 0.0, "seconds": 0.0}

    # -- the head, replicated or sharded -------------------------------------------------

    def _full_weight(self) -> torch.Tensor:
        if isinstance(self.head, ShardedHead):
            return gather_rows(self.head.weight.detach(), self.head.num_classes, self.context)
        return self.head.weight.detach()

    def _losses_and_predictions(
        self, features: torch.Tensor, labels: torch.Tensor, lam: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample loss at ``lam`` and margin-free predictions (N,) for features (N, D)."""
        if isinstance(self.head, ShardedHead):
            losses = sharded_cross_entropy(
                self.head(features, labels, lam), labels, self.head, self.context
            )
            predictions = sharded_predictions(self.head(features), self.head, self.context)
            return losses, predictions
        losses = F.cross_entropy(self.head(features, labels, lam), labels, reduction="none")
        return losses, self.head(features).argmax(dim=1)

    # -- one update ---------------------------------------------------------------------

    def _batch(self, step: int) -> torch.Tensor:
        epoch, index = divmod(step, self.steps_per_epoch)
        if self._order_epoch != epoch:  # a new epoch, or the first step after a resume
            generator = derived_generator(self.config.seed, 1, epoch)
            self._order = torch.randperm(len(self.data.train_labels), generator=generator)
            self._order_epoch = epoch
        size = self.config.batch_size
        return self._order[index * size : (index + 1) * size]

    def _images(self, batch: torch.Tensor, step: int) -> torch.Tensor:
        images = self.data.train_images[batch]
        if self.config.augment:
            # Drawn for the whole global batch, so every rank sees what one process would.
            generator = derived_generator(self.config.seed, 2, step)
            if self.data.augmentation == "shift":
                images = shift_images(images, generator, SHIFT_PIXELS)
            else:
                images = random_horizontal_flip(images, 0.5, generator)
        return images

    def learning_rate(self, step: int) -> float:
        config = self.config
        if config.lr_schedule == "steps":
            return step_decay(step, config.learning_rate, config.lr_milestones)
        return warmup_cosine(step, self.total_steps, config.learning_rate, self.warmup_steps)

    def train_step(self) -> float:
        """One update on the global batch of ``self.step``; returns this rank's loss sum."""
        config, context = self.config, self.context
        batch = self._batch(self.step)
        mine = context.local_part(torch.arange(len(batch)))
        images = self._images(batch, self.step)[mine]
        images = _to_memory_format(images.to(self.device, non_blocking=True), self.device)
        labels = self.data.train_labels[batch].to(self.device, non_blocking=True)
        lam = lambda_at(config, self.step)
        set_learning_rate(self.optimizer, self.learning_rate(self.step))

        if isinstance(self.head, ShardedHead):
            with _autocast(self.device):
                local_features = self.model(images)
            local_features = local_features.float()
            if context.enabled:
                # DDP averages the network's gradients over ranks, but each rank's features
                # already carry the gradient of the global loss: scale the mean back to a sum.
                local_features.register_hook(lambda grad: grad * context.world_size)
            features = gather_features(local_features, context)
            losses = sharded_cross_entropy(
                self.head(features, labels, lam), labels, self.head, context
            )
            # Every rank holds the same global loss; the collectives' backward sums the ranks.
            loss = losses.sum() / (len(batch) * context.world_size)
            local_losses = losses.detach()[mine]
            with torch.no_grad():
                predictions = sharded_predictions(self.head(features.detach()), self.head, context)
            correct = (predictions == labels)[mine]
        else:
            labels_here = labels[mine]
            local_features, logits = self.model(images, labels_here, lam)
            local_losses = F.cross_entropy(logits, labels_here, reduction="none")
            # Sum over this rank's samples / global batch, times W: DDP's mean over ranks then
            # gives the gradient of the mean loss over the global batch.
            loss = local_losses.sum() * context.world_size / len(batch)
            local_losses = local_losses.detach()
            with torch.no_grad():  # margin-free logits for the accuracy
                correct = self.head(local_features.detach()).argmax(1) == labels_here

        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip_norm is not None:
            self._clip_gradients(config.grad_clip_norm)
        self.optimizer.step()
        self.running["loss_sum"] += float(local_losses.sum())
        self.running["correct"] += float(correct.sum())
        self.running["seen"] += len(mine)
        return float(local_losses.sum())

    def _clip_gradients(self, max_norm: float) -> None:
        """Clip the global gradient norm; a sharded head's part is summed over the ranks."""
        net_grads = [p.grad for p in self.net.parameters() if p.grad is not None]
        head_grads = [p.grad for p in self.head.parameters() if p.grad is not None]
        squares = [
            float(sum(g.double().square().sum() for g in grads))
            for grads in (net_grads, head_grads)
        ]
        if self.sharded:
            squares[1] = self.context.sum([squares[1]])[0]
        total = math.sqrt(squares[0] + squares[1])
        if total > max_norm:
            for grad in net_grads + head_grads:
                grad.mul_(max_norm / (total + 1e-6))

    # -- snapshots, epochs, checkpoints ------------------------------------------------

    def record_frame(self) -> None:
        if self.config.snapshot_points == 0:
            return
        weight = self._full_weight()  # a collective when sharded: every rank takes part
        if not self.context.is_main:
            return
        points = self.data.test_images[: self.config.snapshot_points]
        self.frames["steps"].append(torch.tensor(self.step))
        self.frames["features"].append(embed(self.net, points, self.device).cpu())
        self.frames["weights"].append(weight.float().cpu().clone())

    def evaluate(self, lam: float) -> tuple[float, float]:
        """(mean loss at ``lam``, margin-free accuracy) on the test set, split over the ranks."""
        data, context = self.data, self.context
        mine = context.local_part(torch.arange(len(data.test_labels)))
        features = embed(self.net, take(data.test_images, mine), self.device)
        if self.sharded:
            features = gather_features(features, context)
            labels = data.test_labels.to(self.device)
            with torch.no_grad():
                losses, predictions = self._losses_and_predictions(features, labels, lam)
            totals = [float(losses.sum()), float((predictions == labels).sum())]
        else:
            labels = data.test_labels[mine].to(self.device)
            with torch.no_grad():
                losses, predictions = self._losses_and_predictions(features, labels, lam)
            totals = context.sum([float(losses.sum()), float((predictions == labels).sum())])
        return totals[0] / len(data.test_labels), totals[1] / len(data.test_labels)

    def end_epoch(self) -> None:
        started = time.perf_counter()
        lam = lambda_at(self.config, self.step - 1)
        test_loss, test_accuracy = self.evaluate(lam)
        loss_sum, correct, seen = self.context.sum(
            [self.running["loss_sum"], self.running["correct"], self.running["seen"]]
        )
        self.metrics.append(
            {
                "epoch": self.step / self.steps_per_epoch,
                "step": float(self.step),
                "learning_rate": self.learning_rate(self.step - 1),
                "lambda": lam,
                "train_loss": loss_sum / seen,
                "train_accuracy": correct / seen,
                "test_loss": test_loss,
                "test_accuracy": test_accuracy,
                "train_seconds": self.running["seconds"],
                "eval_seconds": time.perf_counter() - started,
            }
        )
        self.running = self._fresh_running()
        self.bar.set_postfix(
            loss=f"{self.metrics[-1]['train_loss']:.3f}",
            test_acc=f"{self.metrics[-1]['test_accuracy']:.4f}",
        )

    def _head_state(self) -> dict[str, torch.Tensor]:
        """The head's parameters with every class (gathered when sharded)."""
        if not isinstance(self.head, ShardedHead):
            return self.head.state_dict()
        return {
            name: gather_rows(value.detach(), self.head.num_classes, self.context)
            for name, value in self.head.local.state_dict().items()
        }

    def _optimizer_state(self) -> dict[str, Any]:
        """The optimizer state with the momentum of a sharded head gathered over the ranks."""
        state = self.optimizer.state_dict()
        if isinstance(self.head, ShardedHead):
            first_head = len(list(self.net.parameters()))
            for index in range(first_head, len(self.parameters)):
                if index in state["state"]:
                    buffer = state["state"][index]["momentum_buffer"]
                    state["state"][index] = {
                        **state["state"][index],
                        "momentum_buffer": gather_rows(buffer, self.head.num_classes, self.context),
                    }
        return state

    def save_checkpoint(self) -> None:
        if self.checkpoint_path is None or self.step == self.saved_step:
            return
        head_state, optimizer_state = self._head_state(), self._optimizer_state()
        # The epoch's running sums of all ranks, so that a resumed run reports the same.
        keys = ("loss_sum", "correct", "seen")
        running = dict(zip(keys, self.context.sum([self.running[k] for k in keys]), strict=True))
        running["seconds"] = self.running["seconds"]
        if self.context.is_main:
            save_checked(
                {
                    "code": code_fingerprint(),
                    "config": self.config.to_dict(),
                    "net": self.net.state_dict(),
                    "head": head_state,
                    "optimizer": optimizer_state,
                    "step": self.step,
                    "metrics": self.metrics,
                    "running": running,
                    "frames": self.frames,
                },
                self.checkpoint_path,
            )
        self.saved_step = self.step
        self.context.barrier()

    def load_checkpoint(self) -> bool:
        """Resume from the checkpoint if there is one; every rank reads the same file."""
        if self.checkpoint_path is None:
            return False
        state = _load_checkpoint(self.checkpoint_path, self.config)
        if state is None:
            return False
        self.net.load_state_dict(state["net"])
        if isinstance(self.head, ShardedHead):
            start, stop = self.head.start, self.head.stop
            self.head.local.load_state_dict({k: v[start:stop] for k, v in state["head"].items()})
            first_head = len(list(self.net.parameters()))
            for index, entry in state["optimizer"]["state"].items():
                if index >= first_head:
                    entry["momentum_buffer"] = entry["momentum_buffer"][start:stop]
        else:
            self.head.load_state_dict(state["head"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.metrics = state["step"], state["metrics"]
        self.running, self.frames = state["running"], state["frames"]
        self.saved_step = self.step
        # The saved sums are those of all ranks: the main process carries them on.
        if not self.context.is_main:
            self.running = self._fresh_running()
        self.bar.update(self.step)
        return True

    # -- the loop ----------------------------------------------------------------------

    def run(self, stop_at_step: int | None) -> RunResult:
        """Train to the end (or to ``stop_at_step``); Ctrl-C and SIGTERM stop at a step's end."""
        with StopSignals() as signals:
            try:
                result = self._loop(stop_at_step, signals)
            except TrainingInterrupted:
                raise
            except KeyboardInterrupt:
                # Raised inside a step (the handlers could not be installed): the state in
                # memory may be half-updated, so the last checkpoint stays as it is.
                self.bar.close()
                raise TrainingInterrupted(self._interrupted(signal.SIGINT, saved=False)) from None
            if signals.requested is not None and result.complete:
                raise TrainingInterrupted(
                    f"interrupted by {signal_name(signals.requested)} while writing the results "
                    f"of {self.label}; the run is finished"
                    + (f" and saved in {self.run_dir}" if self.run_dir is not None else ""),
                    signals.requested,
                )
            return result

    def _interrupted(self, number: int, saved: bool) -> str:
        """The one line that says where a run stopped and how to resume it."""
        where = f"{signal_name(number)} at step {self.step}/{self.total_steps} ({self.label})"
        if self.checkpoint_path is None:
            return f"interrupted by {where}; no output folder, so nothing was saved"
        if saved and self.saved_step == self.step and self.step > 0:
            return (
                f"interrupted by {where}; checkpoint saved to {self.checkpoint_path}. Run the "
                "same command (or call) again to resume."
            )
        if self.saved_step == 0:
            return f"interrupted by {where}; nothing was saved. Run it again to start afresh."
        return (
            f"interrupted by {where}; the checkpoint of step {self.saved_step} in "
            f"{self.checkpoint_path} is kept. Run the same command (or call) again to resume."
        )

    def _stop_requested(self, signals: StopSignals) -> int | None:
        """The signal that asks this run to stop; every rank agrees (a collective)."""
        requested = signals.requested
        if not self.context.enabled:
            return requested
        anyone = self.context.sum([1.0 if requested is not None else 0.0])[0] > 0
        return (requested or signal.SIGINT) if anyone else None

    def _loop(self, stop_at_step: int | None, signals: StopSignals) -> RunResult:
        if not self.load_checkpoint():
            self.record_frame()
        self.model.train()
        while self.step < self.total_steps:
            # Here the state is consistent: no update is half-done, the epoch's work is done.
            requested = self._stop_requested(signals)
            if requested is not None:
                self.save_checkpoint()
                self.bar.close()
                raise TrainingInterrupted(self._interrupted(requested, saved=True), requested)
            if stop_at_step is not None and self.step >= stop_at_step:
                self.save_checkpoint()
                self.bar.close()
                return RunResult(
                    self.config,
                    self.metrics,
                    complete=False,
                    run_dir=self.run_dir,
                    stopped_at=self.step,
                )
            started = time.perf_counter()
            loss = self.train_step()
            self.step += 1
            self.running["seconds"] += time.perf_counter() - started
            self.bar.update(1)
            if not math.isfinite(loss):
                self.save_checkpoint()
                raise FloatingPointError(
                    f"the training loss became {loss} at step {self.step} ({self.label}); "
                    "lower learning_rate or raise lambda_min. The last checkpoint is kept."
                )
            index = (self.step - 1) % self.steps_per_epoch + 1
            if self.step in self.frame_steps:
                self.record_frame()
            if index == self.steps_per_epoch or self.step == self.total_steps:
                self.end_epoch()
                self.save_checkpoint()
        self.bar.close()
        return self.finish()

    def finish(self) -> RunResult:
        config, data = self.config, self.data
        head_state = self._head_state()  # a collective when sharded
        snapshots = None
        if self.frames["steps"]:
            steps = torch.stack(self.frames["steps"])
            snapshots = Snapshots(
                steps=steps,
                epochs=steps.double() / self.steps_per_epoch,
                features=torch.stack(self.frames["features"]),
                weights=torch.stack(self.frames["weights"]),
                labels=data.test_labels[: config.snapshot_points].clone(),
            )
        test_features = embed(self.net, data.test_images, self.device).cpu()
        record = {
            "library_version": __version__,
            "code_fingerprint": code_fingerprint(),
            "config": config.to_dict(),
            "device": self.device.type,
            "world_size": self.context.world_size,
            "hardware": hardware.describe(),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "num_classes": data.num_classes,
            "train_images": len(data.train_labels),
            "test_images": len(data.test_labels),
            "metrics": self.metrics,
            "train_seconds": sum(m["train_seconds"] for m in self.metrics),
            "eval_seconds": sum(m["eval_seconds"] for m in self.metrics),
            "final_test_accuracy": self.metrics[-1]["test_accuracy"],
        }
        result = RunResult(
            config,
            self.metrics,
            complete=True,
            run_dir=self.run_dir,
            snapshots=snapshots,
            test_features=test_features,
            test_labels=data.test_labels.clone(),
            record=record,
        )
        if self.run_dir is not None and self.context.is_main:
            save_checked(
                {"net": self.net.state_dict(), "head": head_state}, self.run_dir / "model.pt"
            )
            if snapshots is not None:
                save_checked(snapshots.__dict__, self.run_dir / "snapshots.pt")
            save_checked(
                {"features": test_features, "labels": result.test_labels},
                self.run_dir / "test_features.pt",
            )
            # result.json last: its presence marks the run as complete for the cache.
            write_json_checked(record, self.run_dir / "result.json")
            (self.run_dir / "checkpoint.pt").unlink(missing_ok=True)
        self.context.barrier()
        return result


def train(
    config: TrainConfig,
    output_dir: str | os.PathLike[str] | None = None,
    data_root: str | os.PathLike[str] | None = None,
    progress: bool = True,
    download: bool = False,
    stop_at_step: int | None = None,
    force: bool = False,
) -> RunResult:
    """Train ``config`` into ``output_dir``, resuming from its checkpoint when one is there.

    A folder holding the finished run of ``config`` gives that run back (``force=True`` trains
    it again); a finished run of another configuration is refused (:class:`RunFolderError`).
    Every setting, the device and the folder are checked before anything is written. Another
    process training into the same folder is waited for. Ctrl-C or SIGTERM stop the run at the
    end of the current step with a checkpoint (:class:`TrainingInterrupted`).

    Under ``torchrun`` (``WORLD_SIZE`` > 1) every process runs this same call: each trains on
    its part of every global batch, and only rank 0 writes files. ``stop_at_step`` checkpoints
    and returns an incomplete result once that many updates are done, as an interruption
    would; calling again with the same folder resumes.
    """
    check_stop_at_step(stop_at_step)
    device = resolve_device(config.device)
    run_dir = Path(output_dir) if output_dir is not None else None
    if run_dir is not None:
        run_folder.check_output_folder(run_dir)
        finished = finished_run(run_dir, config, reuse=not force)
        if finished is not None:
            return finished
    if stopping_all_runs():
        raise TrainingInterrupted("run not started: this process was interrupted")
    context, device = from_environment(device)
    data = load_training_data(
        config.dataset,
        data_root,
        config.train_limit,
        config.test_limit,
        download,
        progress and context.is_main,
    )
    with cpu_threads(config.cpu_threads):
        if run_dir is None:
            return _Run(config, None, data, device, context, progress).run(stop_at_step)
        with run_folder.locked(run_dir, context):
            # Another process may have finished this run while this one waited for the lock.
            finished = finished_run(run_dir, config, reuse=not force)
            if finished is not None:
                return finished
            if context.is_main:
                remove_partial_files(run_dir)  # left by a process killed while writing
            return _Run(config, run_dir, data, device, context, progress).run(stop_at_step)


@contextmanager
def cpu_threads(count: int) -> Iterator[None]:
    """Run the block on ``count`` CPU threads (``torch.set_num_threads``), then restore them."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def finished_run(run_dir: Path, config: TrainConfig, reuse: bool = True) -> RunResult | None:
    """The finished run of ``config`` in ``run_dir`` (None if none, or if not ``reuse``).

    A finished run of another configuration there is an error, whatever ``reuse`` says.
    """
    record_path = run_dir / "result.json"
    if not record_path.exists():
        return None
    record = read_json_checked(record_path, _retrain_remedy(run_dir))
    run_folder.check_same_configuration(record.get("config"), config, run_dir)
    return load_result(run_dir) if reuse else None


def load_result(run_dir: str | os.PathLike[str]) -> RunResult:
    """Read a finished run back from its folder (see the module docstring for the files).

    Every file is checked against its checksum: a damaged one raises
    :class:`~sphereface_lib.common.integrity.CorruptFileError`, naming the file and what to do.
    """
    run_dir = Path(run_dir)
    record_path = run_dir / "result.json"
    if not record_path.exists():
        raise FileNotFoundError(f"{run_dir} holds no finished run (no result.json)")
    remedy = _retrain_remedy(run_dir)
    record = read_json_checked(record_path, remedy)
    try:
        config = TrainConfig.from_dict(record["config"])
        metrics = record["metrics"]
    except (KeyError, TypeError, ValueError) as error:
        raise CorruptFileError(
            f"{record_path} is not a run record this library can read ({error}); {remedy}"
        ) from None
    snapshots = None
    if (run_dir / "snapshots.pt").exists():
        snapshots = Snapshots(**load_checked(run_dir / "snapshots.pt", remedy))
    finals = load_checked(run_dir / "test_features.pt", remedy)
    return RunResult(
        config,
        metrics,
        complete=True,
        run_dir=run_dir,
        snapshots=snapshots,
        test_features=finals["features"],
        test_labels=finals["labels"],
        record=record,
    )
