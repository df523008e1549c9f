"""How long the book takes to build, chapter by chapter, against the goals of issue 20.

    python benchmarks/book_time.py                 # build the full book from an empty run cache
    python benchmarks/book_time.py --record results/book_timings_full.json --cache DIR
                                                   # the figures of a build already done

Without ``--record`` it runs ``scripts/build_book.py --profile full --record <record>`` with
``SPHEREFACE_CACHE`` pointing at a new empty folder (every run trained), then prints the
figures. They are, per chapter: wall minutes; the runs it trained; the seconds those runs spent
in training steps and in evaluation (summed over the runs, which train two at a time in
parallel processes, so the sums can exceed the wall time); the rest is the notebook's own work
(analysis, figures, GIFs, kernel start-up). Then the core book (the landing page, which trains
chapter 2's 2-D runs, and chapters 1-4) and the whole book against their goals (10 and 40
minutes on two CPU cores) as ratios, and the time to 0.990 test accuracy of each A-Softmax 2-D
MNIST run (goal: 45 s of training).

A run belongs to the chapter during which it finished (its ``finished_at`` against the record's
``started_at`` and ``chapter_started_after``). ``--json`` writes the figures; the README's
"How long it takes" table is written from the build's record (``--record``, then
``python scripts/readme_tables.py --write``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sphereface_lib.book.chapters import mnist_grid

ROOT = Path(__file__).resolve().parents[1]
# The core book: the landing page (it trains chapter 2's 2-D runs) and chapters 1-4.
CORE = (
    "00_intro",
    "01_softmax_formulations",
    "02_mnist_accuracy",
    "03_embeddings",
    "04_sphereface_nets",
)
GOALS_MINUTES = {"core (landing page, 1-4)": 10.0, "whole book": 40.0}
ACCURACY_GOAL, SECONDS_GOAL = 0.990, 45.0


def build(record: Path, cache: Path) -> None:
    """The full build from the (empty) run cache ``cache``, writing its timings ``record``."""
    environment = {**os.environ, "SPHEREFACE_CACHE": str(cache)}
    command = [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--profile", "full"]
    subprocess.run([*command, "--record", str(record)], env=environment, check=True)


def finished_runs(cache: Path) -> list[dict[str, Any]]:
    """The result records (``result.json``) of the finished runs in the cache."""
    runs = []
    for path in sorted(cache.glob("*/result.json")):
        runs.append(json.loads(path.read_text()))
    return runs


def chapter_of(record: dict[str, Any], finished_at: str) -> str | None:
    """The chapter that was executing when a run finished (None: before or after the build)."""
    started = datetime.fromisoformat(record["started_at"])
    moment = (datetime.fromisoformat(finished_at) - started) / timedelta(seconds=1)
    owner = None
    for chapter, offset in record["chapter_started_after"].items():
        if moment >= offset and moment <= offset + record["seconds"][chapter]:
            owner = chapter
    return owner


def figures(record: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    chapters: dict[str, dict[str, float]] = {
        name: {"minutes": seconds / 60, "runs": 0, "train_seconds": 0.0, "eval_seconds": 0.0}
        for name, seconds in record["seconds"].items()
    }
    if "chapter_started_after" in record:
        for run in runs:
            chapter = chapter_of(record, run["finished_at"])
            if chapter is None:
                continue
            row = chapters[chapter]
            row["runs"] += 1
            for key in ("train_seconds", "eval_seconds"):
                row[key] += sum(epoch[key] for epoch in run["metrics"])
    core = sum(record["seconds"].get(name, 0.0) for name in CORE) / 60
    totals = {"core (landing page, 1-4)": core, "whole book": record["total_seconds"] / 60}
    return {
        "record": {key: record.get(key) for key in ("command", "commit", "date", "hardware")},
        "chapters": chapters,
        "goals": {
            name: {"minutes": totals[name], "goal": goal, "ratio": totals[name] / goal}
            for name, goal in GOALS_MINUTES.items()
        },
        "time_to_accuracy": time_to_accuracy(runs),
    }


def time_to_accuracy(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Training seconds until each A-Softmax 2-D run of chapter 2's table (full profile, any
    seed) first reaches the goal."""
    rows = []
    for run in runs:
        config = run["config"]
        table_run = mnist_grid("full", ["angular"], [2], [config["seed"]])[0]
        if config != {**table_run.to_dict(), "device": config["device"]}:
            continue
        elapsed, reached = 0.0, None
        for row in run["metrics"]:
            elapsed += row["train_seconds"]
            if row["test_accuracy"] >= ACCURACY_GOAL:
                reached = elapsed
                break
        rows.append(
            {
                "seed": config["seed"],
                "lambda_min": config["lambda_min"],
                "threads": run["hardware"]["cpu_threads"],
                "seconds_to_goal": reached,
                "final_accuracy": run["final_test_accuracy"],
            }
        )
    return rows


def report(result: dict[str, Any]) -> None:
    source = result["record"]
    print(f"build: {source['command']} (commit {source['commit']}, {source['date']})")
    print(f"machine: {source['hardware']}")
    print()
    print(f"{'chapter':<26}{'minutes':>8}{'runs':>6}{'train s':>9}{'eval s':>8}")
    for name, row in result["chapters"].items():
        print(
            f"{name:<26}{row['minutes']:>8.1f}{row['runs']:>6}"
            f"{row['train_seconds']:>9.0f}{row['eval_seconds']:>8.0f}"
        )
    print("(train s and eval s: summed over the chapter's runs, two of which train at a time)")
    print()
    for name, goal in result["goals"].items():
        verdict = "met" if goal["ratio"] <= 1 else "not met"
        print(
            f"{name:<26}{goal['minutes']:>6.1f} min, goal {goal['goal']:.0f} min: "
            f"ratio {goal['ratio']:.2f} ({verdict})"
        )
    rows = result["time_to_accuracy"]
    if rows:
        print()
        print(f"A-Softmax 2-D, training seconds to {ACCURACY_GOAL} (goal {SECONDS_GOAL:.0f} s):")
        for row in rows:
            seconds = row["seconds_to_goal"]
            shown = "never" if seconds is None else f"{seconds:.0f} s"
            print(
                f"  seed {row['seed']}, lambda_min {row['lambda_min']:g}, {row['threads']} "
                f"thread(s): {shown} (final {row['final_accuracy']:.4f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path, help="a build's timings record: do not build")
    parser.add_argument("--cache", type=Path, help="that build's run cache (for the run profile)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    arguments = parser.parse_args()
    if arguments.record is None:
        cache = Path(tempfile.mkdtemp(prefix="sphereface-runs-"))
        arguments.record, arguments.cache = cache / "timings.json", cache
        build(arguments.record, cache)
    record = json.loads(arguments.record.read_text())
    runs = finished_runs(arguments.cache) if arguments.cache is not None else []
    result = figures(record, runs)
    report(result)
    if arguments.json is not None:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
