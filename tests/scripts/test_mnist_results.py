"""scripts/mnist_results.py: the README's results table is the one its run records give."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "results" / "mnist_full.json"


def load_script():
    spec = importlib.util.spec_from_file_location(
        "mnist_results", ROOT / "scripts" / "mnist_results.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mnist_results"] = module
    spec.loader.exec_module(module)
    return module


mnist_results = load_script()


def test_readme_table_is_the_committed_records():
    """Retyping or editing a number in the README, or rerunning without --readme, fails here."""
    from sphereface_lib.book.experiments import read_run_records

    context, results = read_run_records(RECORDS)
    assert len(results) == 18  # 3 heads x 2 dimensions x 3 seeds
    assert {r.config.train_limit for r in results} == {None}  # the full training set
    assert {r.record["test_images"] for r in results} == {10_000}
    readme = (ROOT / "README.md").read_text()
    assert mnist_results.readme_block(readme) == mnist_results.report(results, context)


def test_block_replacement_keeps_the_rest():
    start, end = mnist_results.README_START, mnist_results.README_END
    text = f"# Title\n\nbefore\n{start}\nold table\n{end}\nafter\n"
    new = mnist_results.with_readme_block(text, "new table")
    assert new == f"# Title\n\nbefore\n{start}\nnew table\n{end}\nafter\n"
    assert mnist_results.readme_block(new) == "new table"


def test_missing_markers_are_an_error():
    with pytest.raises(ValueError, match="marker lines"):
        mnist_results.with_readme_block("# README without markers\n", "table")


def test_a_file_that_is_not_run_records_is_an_error(tmp_path):
    from sphereface_lib.book.experiments import read_run_records

    path = tmp_path / "records.json"
    path.write_text(json.dumps({"commit": "abc"}))
    with pytest.raises(ValueError, match="not a run-records file"):
        read_run_records(path)
