"""Training grids of runs, their summary over seeds, the run records of the book and README."""

import json
import math
import os
import signal
import statistics
import threading
import time

import pytest

from sphereface_lib.book.experiments import (
    accuracy_rows,
    run_all,
    run_each,
    summarize,
    write_run_records,
)
from sphereface_lib.training import RunResult
from sphereface_lib.training.config import preset
from sphereface_lib.training.interrupts import TrainingInterrupted


def finished(head, dimension, seed, accuracy):
    """A finished run as the summaries see it: configuration, metrics and record."""
    config = preset("full", head=head, embedding_dim=dimension, seed=seed)
    metrics = [{"epoch": 1.0, "test_accuracy": accuracy}]
    record = {"config": config.to_dict(), "final_test_accuracy": accuracy}
    return RunResult(config, metrics, complete=True, record=record)


def test_summary_is_the_mean_and_sample_std_with_best_and_worst_seed():
    runs = [finished("angular", 2, seed, acc) for seed, acc in [(0, 0.990), (1, 0.994), (2, 0.989)]]
    summary = summarize(runs)
    assert summary.mean == pytest.approx(statistics.fmean([0.990, 0.994, 0.989]))
    assert summary.std == pytest.approx(statistics.stdev([0.990, 0.994, 0.989]))
    assert (summary.best, summary.best_seed) == (0.994, 1)
    assert (summary.worst, summary.worst_seed) == (0.989, 2)
    assert math.isnan(summarize(runs[:1]).std)


def test_accuracy_rows_show_the_reference_only_where_it_applies():
    runs = [
        finished("original", 2, 0, 0.98),
        finished("original", 2, 1, 0.99),
        finished("angular", 2, 0, 0.991),
        finished("angular", 3, 0, 0.993),
    ]
    two_d = accuracy_rows(runs, 2)
    # Percent; the mean first, then the reference's number, then best and worst seed.
    assert two_d[0] == ["original softmax", "98.50 ± 0.71", "97.75", "99.00 (1)", "98.00 (0)", 2]
    assert two_d[1][:3] == ["A-Softmax (m=4)", "99.10", "98.96"]  # one seed: no spread
    assert accuracy_rows(runs, 3) == [
        ["A-Softmax (m=4)", "99.30", "–", "99.30 (0)", "99.30 (0)", 1]
    ]
    other_margin = [finished("angular", 2, 0, 0.99)]
    other_margin[0] = RunResult(
        other_margin[0].config.replace(margin=3), other_margin[0].metrics, complete=True
    )
    assert accuracy_rows(other_margin, 2)[0][:3] == ["A-Softmax (m=3)", "99.00", "–"]


def test_run_each_keeps_the_keys_of_its_configurations(monkeypatch):
    from sphereface_lib.book import experiments

    configs = {head: preset("full", head=head) for head in ("original", "modified", "angular")}
    calls = []

    def fake_run_all(given, cache_dir, data_root, workers):
        calls.append(workers)
        return [finished(config.head, 2, 0, 0.99) for config in given]

    monkeypatch.setattr(experiments, "run_all", fake_run_all)
    results = run_each(configs, workers=2)
    assert list(results) == ["original", "modified", "angular"]
    assert [result.config.head for result in results.values()] == list(configs)
    assert calls == [2], "one call, so that the runs train in parallel"


def test_run_records_hold_every_run_and_the_context(tmp_path):
    runs = [finished("modified", 2, seed, 0.98 + seed / 1000) for seed in range(3)]
    path = write_run_records(runs, tmp_path / "deeper" / "runs.json", commit="abc123")
    payload = json.loads(path.read_text())
    assert payload["commit"] == "abc123"
    assert [run["config"]["seed"] for run in payload["runs"]] == [0, 1, 2]
    assert payload["runs"][2]["final_test_accuracy"] == pytest.approx(0.982)


@pytest.mark.slow
def test_an_interrupt_stops_parallel_runs_with_checkpoints_and_a_rerun_finishes(
    data_root, tmp_path
):
    """Chapter 2 trains in worker processes: interrupting the notebook (SIGINT to this
    process, as a kernel interrupt) stops every run at a step with a checkpoint."""
    configs = [
        preset(
            "smoke", seed=seed, epochs=6, train_limit=384, test_limit=100, snapshot_points=10,
            device="cpu",
        )
        for seed in (0, 1)
    ]  # fmt: skip
    cache = tmp_path / "cache"

    def interrupt_once_a_checkpoint_is_written():
        deadline = time.monotonic() + 240
        while not list(cache.glob("*/checkpoint.pt")) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_once_a_checkpoint_is_written, daemon=True).start()
    with pytest.raises(TrainingInterrupted, match="saved a checkpoint; run the same cell"):
        run_all(configs, cache, data_root, workers=2, progress=False)
    assert list(cache.glob("*/checkpoint.pt"))
    assert not list(cache.glob("*/result.json")), "the runs stopped before their end"
    results = run_all(configs, cache, data_root, workers=1, progress=False)  # resumes
    assert [r.complete for r in results] == [True, True]
    assert [len(r.metrics) for r in results] == [6, 6]
