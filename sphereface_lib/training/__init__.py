"""Training: a configuration in (``config``), a finished run out, cached by configuration and
code (``cache``, ``fingerprint``).

The loop reads top to bottom in ``loop.py``; around it, one module per concern: the model and
device (``model``), what each step gets (``steps``, ``augmentation``), the replicated or sharded
head (``head_runner``, ``distributed``), the optimiser (``optim``), checkpoints, snapshots and
the finished run's files (``checkpoints``, ``snapshots``, ``records``), the output folder and
clean stops (``run_folder``, ``interrupts``).
"""

from sphereface_lib.training.cache import run_dir_for, train_or_load
from sphereface_lib.training.config import PRESETS, TrainConfig, preset
from sphereface_lib.training.loop import train
from sphereface_lib.training.model import embed, resolve_device
from sphereface_lib.training.records import RunResult, load_result
from sphereface_lib.training.snapshots import Snapshots
from sphereface_lib.training.steps import lambda_at

__all__ = [
    "PRESETS",
    "RunResult",
    "Snapshots",
    "TrainConfig",
    "embed",
    "lambda_at",
    "load_result",
    "preset",
    "resolve_device",
    "run_dir_for",
    "train",
    "train_or_load",
]
