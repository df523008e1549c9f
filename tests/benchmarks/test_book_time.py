"""benchmarks/book_time.py: each trained run counted in the chapter during which it finished,
the goals as ratios, and the time to accuracy read from the runs' epochs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from sphereface_lib.book.chapters import mnist_grid

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("book_time", ROOT / "benchmarks" / "book_time.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["book_time"] = module
    spec.loader.exec_module(module)
    return module


RECORD = {
    "command": "python scripts/build_book.py --profile full",
    "commit": "abc",
    "date": "2026-12-02",
    "hardware": "2 CPU threads",
    "started_at": "2026-12-02T10:00:00+00:00",
    "seconds": {"02_mnist_accuracy": 600.0, "05_beyond": 1200.0},
    "chapter_started_after": {"02_mnist_accuracy": 10.0, "05_beyond": 610.0},
    "total_seconds": 1900.0,
}


def run(finished_at: str, head: str = "original", accuracies=(0.98, 0.992), **changes) -> dict:
    """The result record of a run of chapter 2's 2-D table (seed 0), ``changes`` applied."""
    config = mnist_grid("full", [head], [2], [0])[0].replace(**changes)
    return {
        "finished_at": finished_at,
        "config": config.to_dict(),
        "hardware": {"cpu_threads": 1},
        "metrics": [
            {"train_seconds": 20.0, "eval_seconds": 1.0, "test_accuracy": accuracy}
            for accuracy in accuracies
        ],
        "final_test_accuracy": accuracies[-1],
    }


def test_runs_go_to_the_chapter_running_when_they_finished():
    book_time = load_script()
    runs = [
        run("2026-12-02T10:05:00+0000"),  # 300 s in: chapter 2
        run("2026-12-02T10:09:00+0000"),  # 540 s in: chapter 2
        run("2026-12-02T10:20:00+0000"),  # 1200 s in: chapter 5
        run("2026-12-02T09:00:00+0000"),  # before the build (a cached run): nobody's
    ]
    result = book_time.figures(RECORD, runs)
    chapters = result["chapters"]
    assert chapters["02_mnist_accuracy"]["runs"] == 2
    assert chapters["02_mnist_accuracy"]["train_seconds"] == pytest.approx(80.0)
    assert chapters["05_beyond"]["runs"] == 1
    assert chapters["05_beyond"]["eval_seconds"] == pytest.approx(2.0)
    assert result["goals"]["core (landing page, 1-4)"]["ratio"] == pytest.approx(10 / 10)
    assert result["goals"]["whole book"]["ratio"] == pytest.approx(1900 / 60 / 40)


def test_time_to_accuracy_counts_training_seconds_until_the_first_epoch_at_the_goal():
    book_time = load_script()
    rows = book_time.time_to_accuracy(
        [
            run("2026-12-02T10:05:00+0000", "angular", (0.97, 0.9905, 0.995)),
            run("2026-12-02T10:05:00+0000", "angular", (0.97, 0.985)),
            run("2026-12-02T10:05:00+0000", "original"),  # not A-Softmax: not listed
            # Chapter 5's schedules are not the table's runs: not listed.
            run("2026-12-02T10:05:00+0000", "angular", (0.99,), lambda_min=0.0),
        ]
    )
    assert [row["seconds_to_goal"] for row in rows] == [40.0, None]
    assert rows[1]["final_accuracy"] == 0.985


def test_it_prints_the_figures_of_a_finished_build(tmp_path, capsys, monkeypatch):
    book_time = load_script()
    record = tmp_path / "timings.json"
    record.write_text(json.dumps(RECORD))
    (tmp_path / "cache" / "run-a").mkdir(parents=True)
    (tmp_path / "cache" / "run-a" / "result.json").write_text(
        json.dumps(run("2026-12-02T10:05:00+0000", "angular"))
    )
    output = tmp_path / "figures.json"
    arguments = ["book_time.py", "--record", str(record), "--cache", str(tmp_path / "cache")]
    monkeypatch.setattr(sys, "argv", [*arguments, "--json", str(output)])
    book_time.main()
    printed = capsys.readouterr().out
    assert "whole book" in printed and "ratio 0.79 (met)" in printed
    assert "seed 0, lambda_min 5, 1 thread(s): 40 s (final 0.9920)" in printed
    assert json.loads(output.read_text())["chapters"]["02_mnist_accuracy"]["runs"] == 1
