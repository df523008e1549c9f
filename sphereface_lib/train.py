"""One training loop for every head, network and data set: seeded, resumable, with snapshots.

A run writes into its output folder:

- ``checkpoint.pt`` while it runs (every epoch, on Ctrl-C, at ``stop_at_step``), removed at the end;
- ``result.json``: configuration, metrics per epoch, timings, versions (the provenance record);
- ``snapshots.pt``: features of ``snapshot_points`` test images and the class weights, several
  times per epoch, for the animations; ``test_features.pt``: final features of the test set;
- ``model.pt``: the final network and head weights.

Checkpoints are read with ``torch.load(weights_only=True)``. The data order and augmentation of a
step are drawn from generators seeded by (seed, epoch) and (seed, step), so a run resumed from
any checkpoint ends bit-identical to an uninterrupted one on the same machine.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from sphereface_lib import __version__
from sphereface_lib.config import TrainConfig
from sphereface_lib.data.faces import random_horizontal_flip
from sphereface_lib.data.training_sets import TrainingData, load_training_data
from sphereface_lib.heads import MarginHead, build_head
from sphereface_lib.margins import annealed_lambda
from sphereface_lib.nets import build_net
from sphereface_lib.schedules import warmup_cosine
from sphereface_lib.seeding import derived_generator, seed_everything

# Bump when a change to this loop changes what a configuration produces; it keys the cache.
FORMAT_VERSION = 1
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

    @property
    def final_test_accuracy(self) -> float:
        return self.metrics[-1]["test_accuracy"]

    def load_model(self) -> tuple[nn.Module, MarginHead]:
        """The trained network and head (on the CPU, in eval mode)."""
        if self.run_dir is None or not (self.run_dir / "model.pt").exists():
            raise FileNotFoundError("this result has no saved model (was the run complete?)")
        state = torch.load(self.run_dir / "model.pt", map_location="cpu", weights_only=True)
        net, head = build_model(self.config, num_classes=state["head"]["weight"].shape[0])
        net.load_state_dict(state["net"])
        head.load_state_dict(state["head"])
        return net.eval(), head.eval()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was requested but CUDA is not available here")
    return torch.device(name)


def head_options(config: TrainConfig) -> dict[str, Any]:
    """The constructor options of the configured head."""
    if config.head == "angular":
        return {"margin": config.margin}
    if config.head in ("cosface", "arcface"):
        return {"scale": config.scale, "margin": config.additive_margin}
    return {}


def build_model(config: TrainConfig, num_classes: int) -> tuple[nn.Module, MarginHead]:
    """Network and head of ``config``, initialised from its seed."""
    torch.manual_seed(config.seed)
    net = build_net(config.net, config.embedding_dim)
    head = build_head(config.head, config.embedding_dim, num_classes, **head_options(config))
    return net, head


def lambda_at(config: TrainConfig, step: int) -> float:
    """The annealing weight at ``step``; heads without a margin ignore it, so they get 0.

    Only A-Softmax is annealed by default: CosFace and ArcFace train without it (their papers'
    recipe), so they get lambda = 0 unless ``lambda_base`` and ``lambda_min`` ask otherwise.
    """
    if config.head in ("original", "modified"):
        return 0.0
    if config.head in ("cosface", "arcface") and config.lambda_base == 0:
        return 0.0
    return annealed_lambda(
        step, config.lambda_base, config.lambda_gamma, config.lambda_power, config.lambda_min
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
    net: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = EVAL_BATCH
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


def evaluate(
    net: nn.Module,
    head: MarginHead,
    images: torch.Tensor,
    labels: torch.Tensor,
    device: torch.device,
    lam: float,
) -> tuple[float, float, torch.Tensor]:
    """(loss at ``lam``, accuracy of the margin-free logits, features) on a labelled set."""
    features = embed(net, images, device)
    labels = labels.to(device)
    with torch.no_grad():
        loss = F.cross_entropy(head(features, labels, lam), labels).item()
        accuracy = (head(features).argmax(1) == labels).float().mean().item()
    return loss, accuracy, features


def _autocast(device: torch.device) -> Any:
    # bf16 autocast on CUDA (no loss scaling needed); the CPU stays in float32 for determinism.
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def _to_memory_format(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    # channels-last convolutions run about 1.5x faster with oneDNN on the CPU.
    return images.contiguous(memory_format=torch.channels_last)


def _snapshot_steps(steps_per_epoch: int, per_epoch: int) -> set[int]:
    """Steps within an epoch (1-based, after the update) at which a frame is recorded."""
    return {max(1, round((i + 1) * steps_per_epoch / per_epoch)) for i in range(per_epoch)}


def _hardware() -> dict[str, Any]:
    info: dict[str, Any] = {
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cpu_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    if torch.cuda.is_available():
        info["cuda_device"] = torch.cuda.get_device_name()
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _check_checkpoint(state: dict[str, Any], config: TrainConfig, path: Path) -> None:
    if state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by training format {state.get('format_version')}, this library "
            f"writes format {FORMAT_VERSION}; delete the file to start the run afresh"
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
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        reason = (str(error).strip().splitlines() or [""])[0][:160]
        raise CheckpointError(
            f"{path} cannot be read as a checkpoint ({type(error).__name__}: {reason}); it is "
            "truncated or not a sphereface checkpoint. Delete it to start the run afresh."
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} is not a sphereface checkpoint; delete it to start afresh")
    _check_checkpoint(state, config, path)
    return state


def _save_atomically(payload: Any, path: Path) -> None:
    # Write then rename, so a crash while saving never leaves a half-written checkpoint.
    partial = path.with_suffix(path.suffix + ".partial")
    torch.save(payload, partial)
    os.replace(partial, path)


def train(
    config: TrainConfig,
    output_dir: str | os.PathLike[str] | None = None,
    data_root: str | os.PathLike[str] | None = None,
    progress: bool = True,
    download: bool = False,
    stop_at_step: int | None = None,
) -> RunResult:
    """Train ``config`` on MNIST; resume from ``output_dir/checkpoint.pt`` when one is there.

    ``stop_at_step`` checkpoints and returns an incomplete result once that many updates are
    done, as an interruption would; calling again with the same folder resumes.
    """
    run_dir = Path(output_dir) if output_dir is not None else None
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
    device = resolve_device(config.device)
    data = load_training_data(
        config.dataset, data_root, config.train_limit, config.test_limit, download, progress
    )
    seed_everything(config.seed)
    net, head = build_model(config, data.num_classes)
    net.to(device).to(memory_format=torch.channels_last)
    head.to(device)
    parameters = list(net.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(
        parameters,
        lr=config.learning_rate,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        nesterov=True,
    )

    n_train = len(data.train_labels)
    steps_per_epoch = math.ceil(n_train / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    warmup_steps = round(config.warmup_epochs * steps_per_epoch)
    frame_steps = _snapshot_steps(steps_per_epoch, config.snapshots_per_epoch)
    snapshot_images = data.test_images[: config.snapshot_points]
    snapshot_labels = data.test_labels[: config.snapshot_points]

    step = 0
    metrics: list[dict[str, float]] = []
    frames: dict[str, list[torch.Tensor]] = {"steps": [], "features": [], "weights": []}
    running = {"loss_sum": 0.0, "correct": 0.0, "seen": 0.0, "seconds": 0.0}

    def record_frame() -> None:
        if config.snapshot_points == 0:
            return
        frames["steps"].append(torch.tensor(step))
        frames["features"].append(embed(net, snapshot_images, device).cpu())
        frames["weights"].append(head.weight.detach().float().cpu().clone())

    checkpoint_path = run_dir / "checkpoint.pt" if run_dir is not None else None
    state = _load_checkpoint(checkpoint_path, config) if checkpoint_path else None
    if state is not None:
        net.load_state_dict(state["net"])
        head.load_state_dict(state["head"])
        optimizer.load_state_dict(state["optimizer"])
        step, metrics, running = state["step"], state["metrics"], state["running"]
        frames = state["frames"]
    else:
        record_frame()

    def save_checkpoint() -> None:
        if checkpoint_path is None:
            return
        _save_atomically(
            {
                "format_version": FORMAT_VERSION,
                "config": config.to_dict(),
                "net": net.state_dict(),
                "head": head.state_dict(),
                "optimizer": optimizer.state_dict(),
                "step": step,
                "metrics": metrics,
                "running": running,
                "frames": frames,
            },
            checkpoint_path,
        )

    label = f"{config.head}"
    label += f" m={config.margin}" if config.head == "angular" else ""
    label += f" d={config.embedding_dim} seed={config.seed}"
    bar = tqdm(
        total=total_steps,
        initial=step,
        desc=label,
        disable=not progress,
        file=sys.stderr,
        mininterval=2.0,
        leave=False,
    )
    net.train()
    order_epoch, order = -1, torch.empty(0, dtype=torch.long)
    try:
        while step < total_steps:
            if stop_at_step is not None and step >= stop_at_step:
                save_checkpoint()
                bar.close()
                return RunResult(config, metrics, complete=False, run_dir=run_dir)
            epoch, index = divmod(step, steps_per_epoch)
            if epoch != order_epoch:  # a new epoch, or the first step after a resume
                order = torch.randperm(n_train, generator=derived_generator(config.seed, 1, epoch))
                order_epoch = epoch
            batch = order[index * config.batch_size : (index + 1) * config.batch_size]
            started = time.perf_counter()
            images = data.train_images[batch]
            if config.augment:
                generator = derived_generator(config.seed, 2, step)
                if data.augmentation == "shift":
                    images = shift_images(images, generator, SHIFT_PIXELS)
                else:
                    images = random_horizontal_flip(images, 0.5, generator)
            images = _to_memory_format(images.to(device, non_blocking=True), device)
            labels = data.train_labels[batch].to(device, non_blocking=True)
            lam = lambda_at(config, step)
            learning_rate = warmup_cosine(step, total_steps, config.learning_rate, warmup_steps)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate
            with _autocast(device):
                features = net(images)
            features = features.float()
            logits = head(features, labels, lam)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(parameters, config.grad_clip_norm)
            optimizer.step()
            with torch.no_grad():
                plain = head(features.detach())  # margin-free logits for the accuracy
                running["correct"] += float((plain.argmax(1) == labels).sum())
            running["loss_sum"] += loss.item() * len(batch)
            running["seen"] += len(batch)
            step += 1
            running["seconds"] += time.perf_counter() - started
            bar.update(1)
            if not math.isfinite(loss.item()):
                save_checkpoint()
                raise FloatingPointError(
                    f"the training loss became {loss.item()} at step {step} ({label}); lower "
                    "learning_rate or raise lambda_min. The last checkpoint is kept."
                )
            if index + 1 in frame_steps:
                record_frame()
            if index + 1 == steps_per_epoch:
                metrics.append(
                    _end_epoch(config, net, head, data, device, step, learning_rate, running)
                )
                running = {"loss_sum": 0.0, "correct": 0.0, "seen": 0.0, "seconds": 0.0}
                bar.set_postfix(
                    loss=f"{metrics[-1]['train_loss']:.3f}",
                    test_acc=f"{metrics[-1]['test_accuracy']:.4f}",
                )
                save_checkpoint()
    except KeyboardInterrupt:
        save_checkpoint()
        bar.close()
        where = f" to {checkpoint_path}" if checkpoint_path else " (no output folder: lost)"
        print(
            f"\ninterrupted at step {step}/{total_steps}; checkpoint saved{where}. "
            "Run the same command again to resume.",
            file=sys.stderr,
        )
        raise
    bar.close()
    return _finish(config, run_dir, net, head, data, device, metrics, frames, snapshot_labels)


def _end_epoch(
    config: TrainConfig,
    net: nn.Module,
    head: MarginHead,
    data: TrainingData,
    device: torch.device,
    step: int,
    learning_rate: float,
    running: dict[str, float],
) -> dict[str, float]:
    started = time.perf_counter()
    lam = lambda_at(config, step - 1)
    test_loss, test_accuracy, _ = evaluate(
        net, head, data.test_images, data.test_labels, device, lam
    )
    return {
        "epoch": float(step // math.ceil(len(data.train_labels) / config.batch_size)),
        "step": float(step),
        "learning_rate": learning_rate,
        "lambda": lam,
        "train_loss": running["loss_sum"] / running["seen"],
        "train_accuracy": running["correct"] / running["seen"],
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "train_seconds": running["seconds"],
        "eval_seconds": time.perf_counter() - started,
    }


def _finish(
    config: TrainConfig,
    run_dir: Path | None,
    net: nn.Module,
    head: MarginHead,
    data: TrainingData,
    device: torch.device,
    metrics: list[dict[str, float]],
    frames: dict[str, list[torch.Tensor]],
    snapshot_labels: torch.Tensor,
) -> RunResult:
    steps_per_epoch = math.ceil(len(data.train_labels) / config.batch_size)
    snapshots = None
    if frames["steps"]:
        steps = torch.stack(frames["steps"])
        snapshots = Snapshots(
            steps=steps,
            epochs=steps.double() / steps_per_epoch,
            features=torch.stack(frames["features"]),
            weights=torch.stack(frames["weights"]),
            labels=snapshot_labels.clone(),
        )
    test_features = embed(net, data.test_images, device).cpu()
    record = {
        "library_version": __version__,
        "format_version": FORMAT_VERSION,
        "config": config.to_dict(),
        "device": resolve_device(config.device).type,
        "hardware": _hardware(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "num_classes": data.num_classes,
        "train_images": len(data.train_labels),
        "test_images": len(data.test_labels),
        "metrics": metrics,
        "train_seconds": sum(m["train_seconds"] for m in metrics),
        "eval_seconds": sum(m["eval_seconds"] for m in metrics),
        "final_test_accuracy": metrics[-1]["test_accuracy"],
    }
    result = RunResult(
        config,
        metrics,
        complete=True,
        run_dir=run_dir,
        snapshots=snapshots,
        test_features=test_features,
        test_labels=data.test_labels.clone(),
        record=record,
    )
    if run_dir is not None:
        torch.save({"net": net.state_dict(), "head": head.state_dict()}, run_dir / "model.pt")
        if snapshots is not None:
            torch.save(snapshots.__dict__, run_dir / "snapshots.pt")
        torch.save(
            {"features": test_features, "labels": result.test_labels},
            run_dir / "test_features.pt",
        )
        # result.json last: its presence marks the run as complete for the cache.
        (run_dir / "result.json").write_text(json.dumps(record, indent=2) + "\n")
        (run_dir / "checkpoint.pt").unlink(missing_ok=True)
    return result


def load_result(run_dir: str | os.PathLike[str]) -> RunResult:
    """Read a finished run back from its folder (see the module docstring for the files)."""
    run_dir = Path(run_dir)
    record_path = run_dir / "result.json"
    if not record_path.exists():
        raise FileNotFoundError(f"{run_dir} holds no finished run (no result.json)")
    record = json.loads(record_path.read_text())
    config = TrainConfig.from_dict(record["config"])
    snapshots = None
    if (run_dir / "snapshots.pt").exists():
        snapshots = Snapshots(
            **torch.load(run_dir / "snapshots.pt", map_location="cpu", weights_only=True)
        )
    finals = torch.load(run_dir / "test_features.pt", map_location="cpu", weights_only=True)
    return RunResult(
        config,
        record["metrics"],
        complete=True,
        run_dir=run_dir,
        snapshots=snapshots,
        test_features=finals["features"],
        test_labels=finals["labels"],
        record=record,
    )
