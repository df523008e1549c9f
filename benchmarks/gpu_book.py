"""The book's GPU experiments in one prepared run, written to one record.

    python benchmarks/gpu_book.py           # one CUDA GPU (or several): about 8 minutes at most
    python benchmarks/gpu_book.py --smoke   # the same code path on the CPU in about a minute (CI)

Stages, in order, each timed and recorded; a stage that the time budget (``--budget-minutes``)
no longer allows is skipped and recorded as skipped, so a slow GPU still leaves a record:

1. **mnist**: chapter 2's 18 MNIST runs with the reference's own network (``mnist_sphere20``):
   three heads, 2-D and 3-D features, three seeds, the full profile's epochs. Each run holds
   MNIST in GPU memory (``sphereface_lib.data.training_sets.on_device``); ``--workers`` runs
   share the GPU at once, since one small run leaves most of it idle.
2. **faces**: the face chapter's three heads trained with SphereFace-20 itself on the LFW
   subset, verified on the LFW pairs under the official and the plain protocol.
3. **throughput**: SphereFace-20 training images/s at 112 x 96, bf16 autocast and float32,
   and the A-Softmax head's cost against the original head at N = 256, D = 512, C = 10,572.
4. **distributed**: with two or more GPUs, a short run on two processes (``torchrun``, NCCL)
   against the same run on one, as the gloo test of the test suite does on the CPU; with one
   GPU, recorded as not run. ``--smoke`` runs it on the CPU with gloo.

The record (``--output``, default ``results/gpu_<date>.json``; ``--smoke`` writes to the
temporary folder) holds the GPU's name, the torch and CUDA versions, the commit, the date, and
every run's configuration, metrics and time. ``--smoke`` trains the same code path on tiny
subsets on the CPU; the test suite runs it, so that the script cannot rot between GPU runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the neighbouring benchmarks

from heads import time_heads  # noqa: E402
from sphereface20_throughput import training_throughput  # noqa: E402

from sphereface_lib.analysis.verification import PROTOCOLS  # noqa: E402
from sphereface_lib.book import provenance  # noqa: E402
from sphereface_lib.book.chapters import MNIST_HEADS, mnist_grid  # noqa: E402
from sphereface_lib.book.experiments import run_all  # noqa: E402
from sphereface_lib.book.face_experiments import face_config, verify_runs  # noqa: E402
from sphereface_lib.book.pages import head_name  # noqa: E402
from sphereface_lib.data.face_pairs import lfw_verification_pairs  # noqa: E402
from sphereface_lib.training import RunResult, train_or_load  # noqa: E402

ROOT = HERE.parent
CASIA_HEAD_SIZE = (256, 512, 10_572)  # N, D, C of the head benchmark


def run_entry(result: RunResult) -> dict[str, Any]:
    """What the record keeps of one training run: configuration, metrics and time."""
    record = result.record
    return {
        "config": result.config.to_dict(),
        "final_test_accuracy": result.final_test_accuracy,
        "metrics": result.metrics,
        "train_seconds": record.get("train_seconds"),
        "eval_seconds": record.get("eval_seconds"),
        "device": record.get("device"),
    }


def mnist_stage(smoke: bool, device: str, workers: int, cache: Path) -> dict[str, Any]:
    """Chapter 2's grid with the reference's residual network."""
    if smoke:  # one seed, 2-D, a few hundred images: the same calls, in seconds
        configs = mnist_grid(
            "smoke",
            dimensions=[2],
            seeds=[0],
            net="mnist_sphere20",
            device=device,
            train_limit=192,
            test_limit=128,
            epochs=1,
            snapshot_points=32,
        )
    else:
        configs = mnist_grid("full", net="mnist_sphere20", device=device)
    results = run_all(configs, cache, workers=workers, progress=True)
    summary = {}
    for head in MNIST_HEADS:
        for dimension in sorted({c.embedding_dim for c in configs}):
            accuracies = [
                r.final_test_accuracy
                for r in results
                if r.config.head == head and r.config.embedding_dim == dimension
            ]
            if accuracies:
                summary[f"{head}, {dimension}-D"] = {
                    "mean": statistics.fmean(accuracies),
                    "std": statistics.stdev(accuracies) if len(accuracies) > 1 else None,
                    "seeds": len(accuracies),
                }
    return {"runs": [run_entry(r) for r in results], "summary": summary}


def faces_stage(smoke: bool, device: str, cache: Path) -> dict[str, Any]:
    """The face chapter's three heads with SphereFace-20, verified on the LFW pairs."""
    profile = "smoke" if smoke else "full"
    overrides: dict[str, Any] = {"epochs": 1, "net": "sphere4_half"} if smoke else {}
    configs = {
        head: face_config(profile, "lfw", head, device=device, **{"margin": 4, **overrides})
        for head in MNIST_HEADS
    }
    runs = {head: train_or_load(config, cache) for head, config in configs.items()}
    pairs = lfw_verification_pairs(per_class=20 if smoke else 300)
    labels = {head: head_name(head, 4) for head in runs}
    results, _ = verify_runs(runs, pairs, labels, device=device, protocols=PROTOCOLS)
    return {
        "pairs": len(pairs),
        "runs": [run_entry(run) for run in runs.values()],
        "verification": {
            head: {
                "official": {"mean": result.official.mean, "std": result.official.std},
                "plain": {"mean": result.plain.mean, "std": result.plain.std},
                "auc": result.auc,
            }
            for head, result in results.items()
        },
    }


def throughput_stage(smoke: bool, device: torch.device) -> dict[str, Any]:
    """SphereFace-20 images/s in bf16 and float32; the A-Softmax head against the original."""
    batch, steps = (4, 1) if smoke else (256, 30)
    rates = {
        precision: training_throughput("sphere20", batch, steps, device, bf16=precision == "bf16")
        for precision in ("bf16", "fp32")
    }
    size = (16, 64, 1000) if smoke else CASIA_HEAD_SIZE
    seconds = time_heads(size, str(device), rounds=2 if smoke else 7)
    ratios = [a / o for a, o in zip(seconds["angular"], seconds["original"], strict=True)]
    return {
        "sphere20_images_per_second": rates,
        "batch": batch,
        "head_size": list(size),
        "angular_over_original": statistics.median(ratios),
    }


# A short run that two processes and one must agree on (the test suite's gloo comparison).
TINY_RUN = [
    "--profile", "smoke", "--dataset", "synthetic", "--net", "mnist_sphere20",
    "--embedding-dim", "3", "--train-limit", "96", "--test-limit", "40", "--epochs", "1",
    "--batch-size", "30", "--snapshot-points", "8", "--snapshot-frames", "2",
    "--head", "angular", "--no-progress",
]  # fmt: skip


def distributed_stage(smoke: bool, device: str, folder: Path) -> dict[str, Any]:
    """Two processes against one: NCCL on two GPUs (gloo on the CPU with ``--smoke``)."""
    if not smoke and torch.cuda.device_count() < 2:
        return {"skipped": f"{torch.cuda.device_count()} GPU: the NCCL check needs two"}
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    common = [*TINY_RUN, "--device", device]
    one = [
        sys.executable,
        "-m",
        "sphereface_lib",
        "train",
        *common,
        "--output",
        str(folder / "one"),
    ]
    two = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
        "-m", "sphereface_lib", "train", *common, "--output", str(folder / "two"),
    ]  # fmt: skip
    for command in (one, two):
        subprocess.run(command, check=True, env=environment, cwd=ROOT, capture_output=True)
    records = [json.loads((folder / name / "result.json").read_text()) for name in ("one", "two")]
    differences = {
        key: abs(records[0]["metrics"][-1][key] - records[1]["metrics"][-1][key])
        for key in ("train_loss", "test_loss", "test_accuracy")
    }
    return {"world_size": records[1].get("world_size"), "final_metric_differences": differences}


def environment_entry(device: torch.device) -> dict[str, Any]:
    cuda = device.type == "cuda"
    return {
        "device": device.type,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if cuda
        else [],
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
    }


def run_stages(
    stages: list[tuple[str, Callable[[], dict[str, Any]]]], budget_seconds: float
) -> dict[str, Any]:
    """Run the stages in order while the budget lasts; each entry gets its seconds."""
    started = time.perf_counter()
    done: dict[str, Any] = {}
    for name, stage in stages:
        elapsed = time.perf_counter() - started
        if elapsed > budget_seconds:
            done[name] = {"skipped": f"time budget spent ({elapsed:.0f} s of {budget_seconds:.0f})"}
            continue
        print(f"== {name}", flush=True)
        began = time.perf_counter()
        done[name] = {**stage(), "seconds": time.perf_counter() - began}
        print(f"   {name}: {done[name]['seconds']:.0f} s", flush=True)
    return done


def summary_lines(record: dict[str, Any]) -> list[str]:
    stages = record["stages"]
    lines = [f"GPU run of {record['date']} (commit {record['commit']}): {record['environment']}"]
    for name, stage in stages.items():
        if "skipped" in stage:
            lines.append(f"{name}: skipped ({stage['skipped']})")
    if "summary" in stages.get("mnist", {}):
        for name, value in stages["mnist"]["summary"].items():
            lines.append(
                f"mnist_sphere20 {name}: {100 * value['mean']:.2f} % ({value['seeds']} seeds)"
            )
    for head, value in stages.get("faces", {}).get("verification", {}).items():
        lines.append(f"LFW {head}: official {100 * value['official']['mean']:.2f} %")
    throughput = stages.get("throughput", {})
    if "sphere20_images_per_second" in throughput:
        rates = throughput["sphere20_images_per_second"]
        lines.append(
            f"SphereFace-20: {rates['bf16']:,.0f} images/s bf16, {rates['fp32']:,.0f} fp32; "
            f"A-Softmax / original head: {throughput['angular_over_original']:.2f}"
        )
    lines.append(f"wall time {record['wall_seconds']:.0f} s")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the same path on the CPU, tiny")
    parser.add_argument("--budget-minutes", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=4, help="MNIST runs at once on the GPU")
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: a new temp folder")
    parser.add_argument("--output", type=Path, default=None)
    arguments = parser.parse_args(argv)
    if not arguments.smoke and not torch.cuda.is_available():
        print("error: no CUDA device here; run with --smoke to check the script on the CPU")
        return 2
    device = torch.device("cpu" if arguments.smoke else "cuda")
    name = "cpu" if arguments.smoke else "cuda"
    workers = 1 if arguments.smoke else arguments.workers
    output = arguments.output or (
        Path(tempfile.gettempdir()) / "gpu_book_smoke.json"
        if arguments.smoke
        else ROOT / "results" / f"gpu_{time.strftime('%Y-%m-%d')}.json"
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        cache = arguments.cache_dir or Path(scratch) / "runs"
        stages = [
            ("mnist", lambda: mnist_stage(arguments.smoke, name, workers, cache)),
            ("faces", lambda: faces_stage(arguments.smoke, name, cache)),
            ("throughput", lambda: throughput_stage(arguments.smoke, device)),
            ("distributed", lambda: distributed_stage(arguments.smoke, name, Path(scratch))),
        ]
        done = run_stages(stages, 60 * arguments.budget_minutes)
    record = {
        "kind": "gpu_book",
        "smoke": arguments.smoke,
        **provenance.provenance(sys.argv if argv is None else [__file__, *argv]),
        "environment": environment_entry(device),
        "stages": done,
        "wall_seconds": time.perf_counter() - started,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(record, indent=1) + "\n")
    print("\n".join(summary_lines(record)))
    print(f"record written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
