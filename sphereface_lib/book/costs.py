"""What the runs of a chapter cost to train, from the seconds each run recorded itself.

Every chapter that trains ends with a cost table; :func:`training_costs` makes its rows from
groups of runs (a section of the chapter, a head, an experiment) and :func:`cost_table` lays them
out for :func:`sphereface_lib.book.report.show_table`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sphereface_lib.training import RunResult
from sphereface_lib.training.config import TrainConfig


@dataclass(frozen=True)
class Cost:
    """Runs of one group: how many, how many another chapter trains too (``shared``), their
    epochs and recorded training seconds, both summed over the runs."""

    name: str
    runs: int
    shared: int
    epochs: int
    train_seconds: float

    @property
    def seconds_per_run(self) -> float:
        return self.train_seconds / self.runs if self.runs else 0.0


def train_seconds(run: RunResult) -> float:
    """The training seconds a run recorded (its record's total, else the sum over its epochs)."""
    if "train_seconds" in run.record:
        return float(run.record["train_seconds"])
    return float(sum(row.get("train_seconds", 0.0) for row in run.metrics))


def training_costs(
    groups: Mapping[str, Iterable[RunResult]],
    shared: Collection[TrainConfig] = (),
    total: str | None = "all",
) -> list[Cost]:
    """One :class:`Cost` per group, in order; a run listed by several groups counts once, in the
    first. ``shared``: configurations another chapter trains (read back from the cache here).
    With ``total``, a last row of that name sums the others (when there are several)."""
    counted: set[TrainConfig] = set()
    costs = []
    for name, runs in groups.items():
        chosen = []
        for run in runs:
            if run.config not in counted:
                counted.add(run.config)
                chosen.append(run)
        costs.append(
            Cost(
                name=name,
                runs=len(chosen),
                shared=sum(run.config in shared for run in chosen),
                epochs=sum(run.config.epochs for run in chosen),
                train_seconds=sum(train_seconds(run) for run in chosen),
            )
        )
    if total is not None and len(costs) > 1:
        costs.append(
            Cost(
                name=total,
                runs=sum(cost.runs for cost in costs),
                shared=sum(cost.shared for cost in costs),
                epochs=sum(cost.epochs for cost in costs),
                train_seconds=sum(cost.train_seconds for cost in costs),
            )
        )
    return costs


def cost_table(
    costs: Iterable[Cost], first_column: str, shared_column: str | None = None
) -> tuple[list[list[Any]], list[str], list[str]]:
    """Rows, columns and formats of a cost table (``show_table(*cost_table(...))``): the group,
    runs, [``shared_column``,] epochs, training seconds in all and per run."""
    rows, columns, formats = [], [first_column, "runs"], ["{}", "{}"]
    if shared_column is not None:
        columns.append(shared_column)
        formats.append("{}")
    columns += ["epochs in all", "training seconds", "seconds per run"]
    formats += ["{}", "{:,.0f}", "{:,.0f}"]
    for cost in costs:
        shared = [] if shared_column is None else [cost.shared]
        rows.append(
            [cost.name, cost.runs, *shared, cost.epochs, cost.train_seconds, cost.seconds_per_run]
        )
    return rows, columns, formats
