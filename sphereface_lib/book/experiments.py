"""Training many runs (in parallel processes) and summarising them over seeds, shared by the
book and the scripts; the grids of runs are the chapters' (:mod:`~sphereface_lib.book.chapters`).

The reference numbers are those of the TensorFlow reimplementation YunYang1994/SphereFace
(``sphereface_lib.book.sources``), labelled as such wherever they are shown.
"""

from __future__ import annotations

import json
import math
import os
import signal
import statistics
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

from sphereface_lib.book.pages import percent, run_label
from sphereface_lib.book.sources import REFERENCE_2D_ACCURACY
from sphereface_lib.common.progress import progress_bar
from sphereface_lib.training import RunResult
from sphereface_lib.training.cache import run_dir_for, train_or_load
from sphereface_lib.training.config import TrainConfig
from sphereface_lib.training.interrupts import TrainingInterrupted, stop_all_runs

Key = TypeVar("Key")


def _train_one(arguments: tuple[TrainConfig, Any, Any]) -> RunResult:
    config, cache_dir, data_root = arguments
    return train_or_load(config, cache_dir, data_root, progress=False)


def _start_worker(stop: Any) -> None:
    """In a worker process, Ctrl-C is left to the parent, which asks for a stop via ``stop``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def stop_when_asked() -> None:
        stop.wait()
        stop_all_runs()

    threading.Thread(target=stop_when_asked, daemon=True).start()


def run_all(
    configs: Sequence[TrainConfig],
    cache_dir: str | os.PathLike[str] | None = None,
    data_root: str | os.PathLike[str] | None = None,
    workers: int = 1,
    progress: bool = True,
) -> list[RunResult]:
    """Train-or-load every configuration; ``workers`` > 1 trains in parallel processes.

    The progress bar shows only when something is to be trained: reading finished runs back
    prints nothing (so a notebook rerun on a warm cache has the same outputs). Ctrl-C (or
    interrupting the notebook's kernel) stops the runs in progress at the end of their current
    step with a checkpoint, starts no other, and raises
    :class:`~sphereface_lib.training.interrupts.TrainingInterrupted`; calling again resumes.
    """
    to_train = [c for c in configs if not (run_dir_for(c, cache_dir) / "result.json").exists()]
    progress = progress and bool(to_train)
    if workers <= 1:
        return [train_or_load(c, cache_dir, data_root, progress=progress) for c in configs]
    context = get_context("spawn")
    stop = context.Event()
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(stop,)
    )
    try:
        jobs = pool.map(_train_one, [(c, cache_dir, data_root) for c in configs])
        return list(progress_bar(jobs, total=len(configs), desc="runs", enabled=progress))
    except KeyboardInterrupt:  # in this process, or a worker's TrainingInterrupted
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise TrainingInterrupted(
            "interrupted: the runs in progress stopped at the end of a step and saved a "
            "checkpoint; run the same cell or command again to resume them"
        ) from None
    finally:
        pool.shutdown(wait=True)


def run_each(
    configs: Mapping[Key, TrainConfig],
    cache_dir: str | os.PathLike[str] | None = None,
    data_root: str | os.PathLike[str] | None = None,
    workers: int = 1,
) -> dict[Key, RunResult]:
    """:func:`run_all` on the configurations of a mapping (``{head: config}``): its results
    under the same keys, trained ``workers`` at a time."""
    results = run_all(list(configs.values()), cache_dir, data_root, workers=workers)
    return dict(zip(configs, results, strict=True))


@dataclass(frozen=True)
class AccuracySummary:
    """Final test accuracy over seeds: mean, sample standard deviation, best and worst seed."""

    mean: float
    std: float
    best: float
    worst: float
    best_seed: int
    worst_seed: int
    count: int


def summarize(runs: Iterable[RunResult]) -> AccuracySummary:
    runs = list(runs)
    accuracies = [run.final_test_accuracy for run in runs]
    best = max(range(len(runs)), key=lambda i: accuracies[i])
    worst = min(range(len(runs)), key=lambda i: accuracies[i])
    return AccuracySummary(
        mean=statistics.fmean(accuracies),
        std=statistics.stdev(accuracies) if len(accuracies) > 1 else math.nan,
        best=accuracies[best],
        worst=accuracies[worst],
        best_seed=runs[best].config.seed,
        worst_seed=runs[worst].config.seed,
        count=len(runs),
    )


def group_by(results: Iterable[RunResult], *fields: str) -> dict[tuple[Any, ...], list[RunResult]]:
    """Results keyed by the values of configuration ``fields`` (in first-seen order)."""
    groups: dict[tuple[Any, ...], list[RunResult]] = {}
    for result in results:
        key = tuple(getattr(result.config, name) for name in fields)
        groups.setdefault(key, []).append(result)
    return groups


def reference_accuracy(config: TrainConfig) -> float | None:
    """The reference's accuracy for the head of ``config``, where it reports one (2-D, m=4)."""
    if config.embedding_dim != 2 or (config.head == "angular" and config.margin != 4):
        return None
    return REFERENCE_2D_ACCURACY.get(config.head)


def mean_and_spread(summary: AccuracySummary) -> str:
    """ "99.17 ± 0.08" (percent; the spread is the sample standard deviation over seeds)."""
    spread = "" if math.isnan(summary.std) else f" ± {percent(summary.std)}"
    return f"{percent(summary.mean)}{spread}"


def accuracy_rows(results: Iterable[RunResult], dimension: int) -> list[list[Any]]:
    """Rows of :data:`ACCURACY_COLUMNS`: head, mean ± std, reference or '–', best and worst
    (seed), seeds; accuracies in percent."""
    rows = []
    chosen = [r for r in results if r.config.embedding_dim == dimension]
    for (_,), runs in group_by(chosen, "head").items():
        summary = summarize(runs)
        reference = reference_accuracy(runs[0].config)
        rows.append(
            [
                run_label(runs[0].config),
                mean_and_spread(summary),
                "–" if reference is None else percent(reference),
                f"{percent(summary.best)} ({summary.best_seed})",
                f"{percent(summary.worst)} ({summary.worst_seed})",
                summary.count,
            ]
        )
    return rows


ACCURACY_COLUMNS = [
    "head",
    "test accuracy (%), mean ± std",
    "reference (%)",
    "best (seed)",
    "worst (seed)",
    "seeds",
]


def write_run_records(
    results: Iterable[RunResult], path: str | os.PathLike[str], **context: Any
) -> Path:
    """Write the ``result.json`` record of every run (config, seed, metrics per epoch, timings,
    versions, hardware) into one JSON file, with ``context`` (e.g. the commit) beside them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**context, "runs": [result.record for result in results]}
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path


def read_run_records(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[RunResult]]:
    """The context and the runs of a file written by :func:`write_run_records` (metrics and
    configs only: no model, snapshots or features)."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
        runs = payload.pop("runs")
        results = [
            RunResult(TrainConfig.from_dict(r["config"]), r["metrics"], complete=True, record=r)
            for r in runs
        ]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{path} is not a run-records file written by write_run_records ({error}); "
            "regenerate it with scripts/mnist_results.py --json"
        ) from error
    return payload, results
