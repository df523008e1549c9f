"""benchmarks/gpu_book.py --smoke: the GPU script's whole code path, on the CPU, so that it
cannot rot between GPU runs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from sphereface_lib.book import provenance

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_book", ROOT / "benchmarks" / "gpu_book.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_book"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_smoke_run_writes_a_complete_record(faces_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SPHEREFACE_DATA", str(faces_root))
    gpu_book = load_script()
    output = tmp_path / "gpu_smoke.json"
    assert gpu_book.main(["--smoke", "--output", str(output)]) == 0
    record = json.loads(output.read_text())
    assert record["kind"] == "gpu_book" and record["smoke"] is True
    assert {"commit", "date", "hardware", "environment", "wall_seconds"} <= set(record)
    stages = record["stages"]
    assert list(stages) == ["mnist", "faces", "throughput", "distributed"]
    assert not any("skipped" in stage for stage in stages.values()), stages
    runs = stages["mnist"]["runs"]
    assert [run["config"]["net"] for run in runs] == ["mnist_sphere20"] * 3
    assert all(run["metrics"] and run["train_seconds"] is not None for run in runs)
    verification = stages["faces"]["verification"]
    assert set(verification) == {"original", "modified", "angular"}
    assert all(0 <= v["official"]["mean"] <= 1 for v in verification.values())
    rates = stages["throughput"]["sphere20_images_per_second"]
    assert rates["bf16"] > 0 and rates["fp32"] > 0
    assert stages["distributed"]["world_size"] == 2
    assert not provenance.has_machine_paths(record["command"]), record["command"]


def test_a_spent_budget_skips_the_remaining_stages_and_says_so():
    gpu_book = load_script()
    calls = []
    stages = [("first", lambda: calls.append(1) or {}), ("second", lambda: calls.append(2) or {})]
    done = gpu_book.run_stages(stages, budget_seconds=-1.0)
    assert calls == [] and all("skipped" in entry for entry in done.values())
    done = gpu_book.run_stages(stages, budget_seconds=60.0)
    assert calls == [1, 2] and all("seconds" in entry for entry in done.values())


def test_without_a_gpu_the_full_run_stops_with_one_line(capsys):
    if __import__("torch").cuda.is_available():
        pytest.skip("a GPU is here: the full run would start")
    gpu_book = load_script()
    assert gpu_book.main([]) == 2
    assert "run with --smoke" in capsys.readouterr().out
