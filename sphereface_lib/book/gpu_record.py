"""The committed record of the book's GPU run (``benchmarks/gpu_book.py``), for the README and
chapters 2 and 6: the reference's network on MNIST and SphereFace-20 on LFW, each shown with the
GPU, the date and the commit of the run that measured it.

No GPU run may have been recorded yet; then :func:`latest_gpu_record` gives ``None`` and the
pages say so, with the command that makes one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sphereface_lib.book.pages import head_name, percent
from sphereface_lib.book.provenance import REPOSITORY

RESULTS = REPOSITORY / "results"
COMMAND = "python benchmarks/gpu_book.py"
NOT_YET = (
    f"No GPU run has been recorded yet: `{COMMAND}` on a machine with a CUDA GPU trains these "
    "runs in a few minutes and writes `results/gpu_<date>.json`, which this page then shows."
)


def latest_gpu_record(results: Path = RESULTS) -> dict[str, Any] | None:
    """The newest ``results/gpu_*.json`` of a real GPU run (smoke records are ignored)."""
    records = []
    for path in sorted(results.glob("gpu_*.json")):
        record = json.loads(path.read_text())
        if record.get("kind") == "gpu_book" and not record.get("smoke"):
            records.append(record)
    return max(records, key=lambda record: record["date"], default=None)


def record_label(record: dict[str, Any]) -> str:
    """ "NVIDIA H200, 2026-12-02, commit abc1234" — where and when the numbers were measured."""
    gpus = record["environment"]["gpus"] or ["no GPU"]
    return f"{', '.join(sorted(set(gpus)))}, {record['date']}, commit {record['commit']}"


def mnist_rows(record: dict[str, Any]) -> list[list[str]]:
    """Per head and dimension: the mean ± std over seeds of ``mnist_sphere20`` (percent)."""
    rows = []
    for name, value in record["stages"].get("mnist", {}).get("summary", {}).items():
        head, dimension = name.split(", ")
        spread = "" if value["std"] is None else f" ± {percent(value['std'])}"
        margin = 4 if head == "angular" else None
        rows.append(
            [
                head_name(head, margin),
                dimension,
                f"{percent(value['mean'])}{spread}",
                value["seeds"],
            ]
        )
    return rows


def faces_rows(record: dict[str, Any]) -> list[list[str]]:
    """Per head: SphereFace-20's LFW accuracy under both protocols (percent) and the AUC."""
    rows = []
    for head, value in record["stages"].get("faces", {}).get("verification", {}).items():
        rows.append(
            [
                head_name(head, 4 if head == "angular" else None),
                f"{percent(value['official']['mean'])} ± {percent(value['official']['std'])}",
                f"{percent(value['plain']['mean'])} ± {percent(value['plain']['std'])}",
                f"{value['auc']:.4f}",
            ]
        )
    return rows
