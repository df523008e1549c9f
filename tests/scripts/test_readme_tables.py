"""scripts/readme_tables.py: the README's timings and benchmarks tables are the ones the
committed records give, and no record names a path of the machine that measured."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from sphereface_lib.book.provenance import has_machine_paths

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location(
        "readme_tables", ROOT / "scripts" / "readme_tables.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_tables"] = module
    spec.loader.exec_module(module)
    return module


readme_tables = load_script()


def test_readme_tables_are_the_committed_records():
    """Retyping a number in the README, or a new record without --write, fails here."""
    readme = (ROOT / "README.md").read_text()
    assert readme_tables.readme_with_tables(readme) == readme


@pytest.mark.parametrize(
    "path", sorted((ROOT / "results").rglob("*.json")), ids=lambda path: path.name
)
def test_records_name_no_path_of_the_machine_that_measured(path):
    record = json.loads(path.read_text())
    assert "command" in record, f"{path.name} says nothing of how it was measured"
    assert not has_machine_paths(record["command"]), record["command"]


def test_a_fresh_build_record_gives_a_table_with_every_chapter():
    record = {
        "profile": "full",
        "seconds": {name: 60.0 * (i + 1) for i, name in enumerate(readme_tables.CHAPTERS)},
        "runs_trained_by_chapter": {"02_mnist_accuracy": 18, "03_embeddings": 0},
        "runs_cached_at_start": 0,
        "html": True,
        "total_seconds": 1800.0,
        "command": "python scripts/build_book.py --profile full --record results/x.json",
        "commit": "abc1234",
        "date": "2027-01-01",
        "hardware": "2 CPU threads (AMD EPYC), no GPU",
    }
    block = readme_tables.timings_block(record)
    assert "| landing page (the headline runs) | 1.0 |" in block
    assert "| 2 MNIST accuracy (18 runs) | 3.0 |" in block
    assert "| 3 embeddings (GIFs) | 4.0 |" in block  # no runs trained there: no count
    assert "| **core: landing page and chapters 1–4** | **15.0** |" in block  # 1 + .. + 5 min
    assert "| **whole book, HTML included** | **30.0** |" in block
    assert "from an empty run cache" in block
    assert not any(line.startswith("_") for line in block.splitlines())  # no transcription note
