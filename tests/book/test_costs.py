"""Cost tables from the seconds runs record: each run counted once, shared runs marked."""

import pytest

from sphereface_lib.book.costs import Cost, cost_table, train_seconds, training_costs
from sphereface_lib.training import RunResult
from sphereface_lib.training.config import preset


def run(head="angular", seed=0, epochs=2, seconds=10.0, record=True):
    config = preset("smoke", head=head, seed=seed, epochs=epochs)
    metrics = [{"epoch": e + 1.0, "train_seconds": seconds / epochs} for e in range(epochs)]
    return RunResult(
        config, metrics, complete=True, record={"train_seconds": seconds} if record else {}
    )


def test_train_seconds_from_the_record_or_the_epochs():
    assert train_seconds(run(seconds=12.0)) == 12.0
    assert train_seconds(run(seconds=12.0, epochs=3, record=False)) == pytest.approx(12.0)


def test_each_run_counts_once_in_the_first_group_that_lists_it():
    a, b, c = run(seed=0, seconds=10.0), run(seed=1, seconds=20.0), run("modified", seconds=6.0)
    costs = training_costs({"sweep": [a, b], "heads": [b, c], "again": [a]}, shared={a.config})
    assert costs == [
        Cost("sweep", runs=2, shared=1, epochs=4, train_seconds=30.0),
        Cost("heads", runs=1, shared=0, epochs=2, train_seconds=6.0),
        Cost("again", runs=0, shared=0, epochs=0, train_seconds=0.0),
        Cost("all", runs=3, shared=1, epochs=6, train_seconds=36.0),
    ]
    assert costs[0].seconds_per_run == 15.0 and costs[2].seconds_per_run == 0.0


def test_one_group_has_no_total_row():
    assert [cost.name for cost in training_costs({"only": [run()]})] == ["only"]
    assert [cost.name for cost in training_costs({"a": [run()], "b": []}, total=None)] == [
        "a",
        "b",
    ]


def test_the_cost_table_with_and_without_the_shared_column():
    costs = [Cost("sweep", 2, 1, 4, 3000.0)]
    rows, columns, formats = cost_table(costs, "section", "of them chapter 2's")
    assert columns == [
        "section",
        "runs",
        "of them chapter 2's",
        "epochs in all",
        "training seconds",
        "seconds per run",
    ]
    assert rows == [["sweep", 2, 1, 4, 3000.0, 1500.0]]
    assert formats[-2].format(3000.0) == "3,000"
    rows, columns, formats = cost_table(costs, "head")
    assert rows == [["sweep", 2, 4, 3000.0, 1500.0]] and len(columns) == len(formats) == 5
