"""What a measurement ran on: processor, threads, GPU and versions (for run records and tables)."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import torch


def cpu_model() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux, else what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict[str, Any]:
    """Machine, processor, torch threads, Python and torch versions, and the GPU if there is one."""
    info: dict[str, Any] = {
        "machine": platform.machine(),
        "processor": cpu_model(),
        "cpu_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    if torch.cuda.is_available():
        info["cuda_device"] = torch.cuda.get_device_name()
    return info


def summary() -> str:
    """One line for a table caption: "2 CPU threads (model), no GPU" or with the GPU's name."""
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return f"{torch.get_num_threads()} CPU threads ({cpu_model()}), {gpu}"
