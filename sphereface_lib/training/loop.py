"""The training loop: one configuration in, one finished run out, for every head, network and
data set; seeded, resumable, with snapshots for the animations.

Read :func:`train` and then :class:`Run` from top to bottom. Each update draws its batch, its
augmentation, its learning rate and its lambda from its step number alone
(:mod:`~sphereface_lib.training.steps`), so a run resumed from any checkpoint
(:mod:`~sphereface_lib.training.checkpoints`) ends bit-identical to an uninterrupted one on the
same machine. Ctrl-C and SIGTERM stop a run at the end of the current step
(:mod:`~sphereface_lib.training.interrupts`). The output folder is checked and locked while a run
uses it (:mod:`~sphereface_lib.training.run_folder`), and what a finished run leaves there is
described in :mod:`~sphereface_lib.training.records`. Whether the head is replicated or sharded
over processes is the business of :mod:`~sphereface_lib.training.head_runner`.
"""

from __future__ import annotations

import math
import os
import signal
import time
from pathlib import Path

import torch

from sphereface_lib.common.integrity import remove_partial_files
from sphereface_lib.common.progress import progress_bar
from sphereface_lib.common.seeding import seed_everything
from sphereface_lib.data.lazy import take
from sphereface_lib.data.training_sets import TrainingData, load_training_data, on_device
from sphereface_lib.training import run_folder
from sphereface_lib.training.augmentation import augment
from sphereface_lib.training.checkpoints import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from sphereface_lib.training.config import TrainConfig
from sphereface_lib.training.distributed import Distributed, from_environment
from sphereface_lib.training.head_runner import head_runner
from sphereface_lib.training.interrupts import (
    StopSignals,
    TrainingInterrupted,
    agreed_stop,
    interrupted_message,
    signal_name,
    stopping_all_runs,
)
from sphereface_lib.training.model import (
    build_model,
    channels_last,
    cpu_threads,
    embed,
    resolve_device,
)
from sphereface_lib.training.optim import build_optimizer, clip_gradient_norm, set_learning_rate
from sphereface_lib.training.records import RunResult, finished_run, run_record, save_run
from sphereface_lib.training.snapshots import Frames, snapshot_steps
from sphereface_lib.training.steps import epoch_order, lambda_at, learning_rate_at


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
    end of the current step with a checkpoint (:class:`TrainingInterrupted`). The run uses
    ``config.cpu_threads`` CPU threads, whatever the process uses around it.

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
    show = progress and context.is_main
    data = load_training_data(
        config.dataset, data_root, config.train_limit, config.test_limit, download, show
    )
    data = on_device(data, device)  # a GPU holds the images of an in-memory set
    with cpu_threads(config.cpu_threads):
        if run_dir is None:
            return Run(config, None, data, device, context, progress).run(stop_at_step)
        with run_folder.locked(run_dir, context):
            # Another process may have finished this run while this one waited for the lock.
            finished = finished_run(run_dir, config, reuse=not force)
            if finished is not None:
                return finished
            if context.is_main:
                remove_partial_files(run_dir)  # left by a process killed while writing
            return Run(config, run_dir, data, device, context, progress).run(stop_at_step)


def check_stop_at_step(stop_at_step: object) -> None:
    if stop_at_step is None:
        return
    if isinstance(stop_at_step, bool) or not isinstance(stop_at_step, int) or stop_at_step < 1:
        raise ValueError(
            f"stop_at_step must be a positive number of updates, got {stop_at_step!r}; the run "
            "stops after that many updates and resumes when started again"
        )


class Run:
    """One training run: its model and optimizer, where it stands, and the steps that move it."""

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
        seed_everything(config.seed)
        self.net, head = build_model(config, data.num_classes, context)
        self.net.to(device).to(memory_format=torch.channels_last)
        head.to(device)
        self.optimizer = build_optimizer(self.net, head, config)
        self.head = head_runner(self.net, head, context)  # replicated or sharded

        self.steps_per_epoch = math.ceil(len(data.train_labels) / config.batch_size)
        self.total_steps = config.max_steps or self.steps_per_epoch * config.epochs
        self.warmup_steps = round(config.warmup_epochs * self.steps_per_epoch)
        self.frame_steps = snapshot_steps(self.total_steps, config.snapshot_frames)
        self.order_epoch, self.order = -1, torch.empty(0, dtype=torch.long)
        self.step = 0  # updates done
        self.saved_step = 0  # the step of the state on disk (a fresh start needs no file)
        self.metrics: list[dict[str, float]] = []
        self.frames = Frames()
        self.running = self.fresh_running()  # this epoch's sums, for its metrics
        self.checkpoint = run_dir / CHECKPOINT_NAME if run_dir is not None else None
        margin = f" m={config.margin}" if config.head == "angular" else ""
        self.label = f"{config.head}{margin} d={config.embedding_dim} seed={config.seed}"
        self.bar = progress_bar(
            total=self.total_steps,
            desc=self.label,
            enabled=progress and context.is_main,
            mininterval=2.0,
            leave=False,
        )

    @staticmethod
    def fresh_running() -> dict[str, float]:
        return {"loss_sum": 0.0, "correct": 0.0, "seen": 0.0, "seconds": 0.0}

    def run(self, stop_at_step: int | None) -> RunResult:
        """Train to the end (or to ``stop_at_step``); Ctrl-C and SIGTERM stop at a step's end."""
        with StopSignals() as signals:
            try:
                result = self.loop(stop_at_step, signals)
            except TrainingInterrupted:
                raise
            except KeyboardInterrupt:
                # Raised inside a step (the handlers could not be installed): the state in
                # memory may be half-updated, so the last checkpoint stays as it is.
                self.bar.close()
                raise TrainingInterrupted(self.interrupted(signal.SIGINT, False)) from None
            if signals.requested is not None and result.complete:
                raise TrainingInterrupted(
                    f"interrupted by {signal_name(signals.requested)} while writing the results "
                    f"of {self.label}; the run is finished"
                    + (f" and saved in {self.run_dir}" if self.run_dir is not None else ""),
                    signals.requested,
                )
            return result

    def loop(self, stop_at_step: int | None, signals: StopSignals) -> RunResult:
        if not self.load_checkpoint():
            self.record_frame()
        self.head.model.train()
        while self.step < self.total_steps:
            # Here the state is consistent: no update is half-done, the epoch's work is done.
            requested = agreed_stop(signals.requested, self.context)
            if requested is not None:
                self.save_checkpoint()
                self.bar.close()
                raise TrainingInterrupted(self.interrupted(requested, True), requested)
            if stop_at_step is not None and self.step >= stop_at_step:
                self.save_checkpoint()
                self.bar.close()
                return RunResult(
                    self.config, self.metrics, False, self.run_dir, stopped_at=self.step
                )
            started = time.perf_counter()
            loss = self.train_step()
            self.step += 1
            self.running["seconds"] += time.perf_counter() - started
            self.bar.update(1)
            if not math.isfinite(loss):  # the state is corrupt: keep the last good checkpoint
                self.bar.close()
                raise FloatingPointError(self.diverged(loss))
            if self.step in self.frame_steps:
                self.record_frame()
            if self.step % self.steps_per_epoch == 0 or self.step == self.total_steps:
                self.end_epoch()
                self.save_checkpoint()
        self.bar.close()
        return self.finish()

    def train_step(self) -> float:
        """One update on the global batch of ``self.step``; returns this rank's loss sum."""
        config, step = self.config, self.step
        epoch, index = divmod(step, self.steps_per_epoch)
        if self.order_epoch != epoch:  # a new epoch, or the first step after a resume
            self.order_epoch = epoch
            self.order = epoch_order(config.seed, epoch, len(self.data.train_labels))
        batch = self.order[index * config.batch_size : (index + 1) * config.batch_size]
        images = self.data.train_images[batch]
        if config.augment:
            images = augment(images, self.data.augmentation, config.seed, step)
        mine = self.context.local_part(torch.arange(len(batch)))  # this rank's part
        images = channels_last(images[mine].to(self.device, non_blocking=True))
        labels = self.data.train_labels[batch].to(self.device, non_blocking=True)
        lr = learning_rate_at(config, step, self.total_steps, self.warmup_steps)
        set_learning_rate(self.optimizer, lr)

        loss, losses, correct = self.head.step_losses(images, labels, lambda_at(config, step), mine)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip_norm is not None:
            clip_gradient_norm(
                self.net, self.head.head, config.grad_clip_norm, self.head.over_ranks
            )
        self.optimizer.step()
        self.running["loss_sum"] += float(losses.sum())
        self.running["correct"] += float(correct.sum())
        self.running["seen"] += len(mine)
        return float(losses.sum())

    def record_frame(self) -> None:
        """Record the features of the snapshot images and the class weights (a frame)."""
        if self.config.snapshot_points == 0:
            return
        weight = self.head.weight()  # a collective when sharded: every rank takes part
        if self.context.is_main:
            points = self.data.test_images[: self.config.snapshot_points]
            self.frames.add(self.step, embed(self.net, points, self.device), weight)

    def end_epoch(self) -> None:
        """Evaluate on the test set and append the epoch's metrics."""
        started = time.perf_counter()
        lam = lambda_at(self.config, self.step - 1)
        test_labels = self.data.test_labels
        mine = self.context.local_part(torch.arange(len(test_labels)))
        features = embed(self.net, take(self.data.test_images, mine), self.device)
        test_loss, correct = self.head.test_totals(features, test_labels, mine, lam)
        keys = ("loss_sum", "correct", "seen")
        loss_sum, train_correct, seen = self.context.sum([self.running[k] for k in keys])
        self.metrics.append(
            {
                "epoch": self.step / self.steps_per_epoch,
                "step": float(self.step),
                "learning_rate": learning_rate_at(
                    self.config, self.step - 1, self.total_steps, self.warmup_steps
                ),
                "lambda": lam,
                "train_loss": loss_sum / seen,
                "train_accuracy": train_correct / seen,
                "test_loss": test_loss / len(test_labels),
                "test_accuracy": correct / len(test_labels),
                "train_seconds": self.running["seconds"],
                "eval_seconds": time.perf_counter() - started,
            }
        )
        self.running = self.fresh_running()
        last = self.metrics[-1]
        self.bar.set_postfix(
            loss=f"{last['train_loss']:.3f}", test_acc=f"{last['test_accuracy']:.4f}"
        )

    def finish(self) -> RunResult:
        """The finished run, written to the output folder by the main process."""
        config, data = self.config, self.data
        head_state = self.head.state_dict()  # a collective when sharded
        labels = data.test_labels[: config.snapshot_points]
        result = RunResult(
            config,
            self.metrics,
            complete=True,
            run_dir=self.run_dir,
            snapshots=self.frames.snapshots(self.steps_per_epoch, labels),
            test_features=embed(self.net, data.test_images, self.device).cpu(),
            test_labels=data.test_labels.clone(),
            record=run_record(config, self.metrics, data, self.device, self.context.world_size),
        )
        if self.run_dir is not None and self.context.is_main:
            save_run(self.run_dir, result, {"net": self.net.state_dict(), "head": head_state})
            (self.run_dir / CHECKPOINT_NAME).unlink(missing_ok=True)
        self.context.barrier()
        return result

    # -- checkpoints and interrupts ------------------------------------------------------

    def save_checkpoint(self) -> None:
        if self.checkpoint is None or self.step == self.saved_step:
            return
        head_state = self.head.state_dict()  # collectives when sharded
        optimizer_state = self.head.optimizer_state(self.optimizer)
        # The epoch's running sums of all ranks, so that a resumed run reports the same.
        keys = ("loss_sum", "correct", "seen")
        running = dict(zip(keys, self.context.sum([self.running[k] for k in keys]), strict=True))
        running["seconds"] = self.running["seconds"]
        if self.context.is_main:
            state = {
                "net": self.net.state_dict(),
                "head": head_state,
                "optimizer": optimizer_state,
                "step": self.step,
                "metrics": self.metrics,
                "running": running,
                "frames": self.frames.state_dict(),
            }
            save_checkpoint(self.checkpoint, self.config, state)
        self.saved_step = self.step
        self.context.barrier()

    def load_checkpoint(self) -> bool:
        """Resume from the checkpoint if there is one; every rank reads the same file."""
        state = load_checkpoint(self.checkpoint, self.config) if self.checkpoint else None
        if state is None:
            return False
        self.net.load_state_dict(state["net"])
        self.head.load_state_dict(state["head"])
        self.head.load_optimizer_state(self.optimizer, state["optimizer"])
        self.step, self.metrics = state["step"], state["metrics"]
        self.frames = Frames.from_state_dict(state["frames"])
        # The saved sums are those of all ranks: the main process carries them on.
        self.running = state["running"] if self.context.is_main else self.fresh_running()
        self.saved_step = self.step
        self.bar.update(self.step)
        return True

    def diverged(self, loss: float) -> str:
        kept = "nothing was saved"
        if self.checkpoint is not None and self.saved_step > 0:
            kept = f"the checkpoint of step {self.saved_step} in {self.checkpoint} is kept"
        return (
            f"the training loss became {loss} at step {self.step} ({self.label}); lower "
            f"learning_rate or raise lambda_min; {kept}"
        )

    def interrupted(self, number: int, saved: bool) -> str:
        """The one line that says where the run stopped and how to resume it."""
        where = f"step {self.step}/{self.total_steps} ({self.label})"
        saved_now = saved and self.saved_step == self.step and self.step > 0
        return interrupted_message(number, where, self.checkpoint, self.saved_step, saved_now)
