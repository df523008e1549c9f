"""Command line: ``python -m sphereface_lib train ...`` and ``... data ...``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import typing
from collections.abc import Sequence
from pathlib import Path

from sphereface_lib.training.config import PRESETS, TrainConfig, preset


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _optional(kind: typing.Callable[[str], object]) -> typing.Callable[[str], object]:
    def parse(text: str) -> object:
        return None if text.lower() == "none" else kind(text)

    return parse


# Annotations are strings here (``from __future__ import annotations`` in config.py).
ARGUMENT_TYPES: dict[str, typing.Callable[[str], object]] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": _parse_bool,
    "int | None": _optional(int),
    "tuple[int, ...]": lambda text: tuple(int(v) for v in text.split(",") if v.strip()),
    "float | None": _optional(float),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sphereface_lib",
        description="Train and inspect the SphereFace (A-Softmax) models of the sphereface book.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train",
        help="train one head and network on MNIST or a face set",
        description="Train one head and network on MNIST or a face set (--dataset). Writes "
        "result.json (metrics and provenance), snapshots.pt, test_features.pt and model.pt into "
        "--output; an interrupted run (Ctrl-C, SIGTERM, --stop-at-step) resumes from the "
        "checkpoint there when the same command is run again. A folder holding the finished run "
        "of the same settings is read back, not trained again; one holding another "
        "configuration's run is refused.",
    )
    train.add_argument(
        "--profile",
        choices=sorted(PRESETS),
        default="full",
        help="preset to start from (smoke: a small subset for a quick check; casia: the "
        "paper's CASIA-WebFace recipe)",
    )
    for field in dataclasses.fields(TrainConfig):
        flag = "--" + field.name.replace("_", "-")
        train.add_argument(
            flag,
            dest=field.name,
            type=ARGUMENT_TYPES[str(field.type)],
            default=None,
            help=field.metadata["help"] + f" (default: {field.default!r}, or the profile's)",
        )
    _add_data_arguments(train)
    train.add_argument(
        "--output",
        type=Path,
        default=None,
        help="output folder (default: runs/<head>-...-<config hash>)",
    )
    train.add_argument(
        "--stop-at-step",
        type=int,
        default=None,
        help="checkpoint and stop after this many updates (run again to resume), e.g. to fit a "
        "time slot",
    )
    train.add_argument(
        "--force",
        action="store_true",
        help="train again even if --output holds the finished run of these settings (a "
        "finished run of other settings is never replaced)",
    )
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    from sphereface_lib.data.fetch import DATASETS

    data = commands.add_parser(
        "data",
        help="verify (or download) the data sets of the book",
        description="Verify every file of the book's data sets under the data root against its "
        "SHA-256: the four MNIST files, the LFW subset with pairs.txt (faces/lfw-deepfunneled) "
        "and the AT&T faces (faces/att_faces). With --download, a missing set is first fetched "
        "from its public sources; set SPHEREFACE_MIRROR=<url> to fetch <url>/<file name> instead "
        "(an offline mirror).",
    )
    data.add_argument(
        "--dataset",
        choices=[*DATASETS, "all"],
        default="all",
        help="the set to check or fetch (default: all)",
    )
    _add_data_arguments(
        data,
        download_help="download missing sets from their public sources, then verify them "
        "(needs internet: MNIST 11 MB, the LFW archive about 110 MB, the AT&T zip a few MB)",
    )
    return parser


def _add_data_arguments(
    parser: argparse.ArgumentParser,
    download_help: str = "download missing MNIST files from torchvision's mirrors (needs internet)",
) -> None:
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="data root holding mnist/ and faces/ (default: $SPHEREFACE_DATA, else "
        "~/.cache/sphereface/data)",
    )
    parser.add_argument("--download", action="store_true", help=download_help)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; every expected failure is one line on stderr, never a traceback.

    Exit status: 0 done, 2 a setting, file or folder to fix, 1 a file that could not be
    written, 130 / 143 interrupted by SIGINT / SIGTERM (resume by running the same command).
    """
    arguments = build_parser().parse_args(argv)
    from sphereface_lib.data import DataFileError
    from sphereface_lib.training.interrupts import TrainingInterrupted

    try:
        if arguments.command == "data":
            return _check_data(arguments)
        return _train(arguments)
    except (DataFileError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except TrainingInterrupted as error:
        print(str(error), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted before training started; nothing was saved", file=sys.stderr)
        return 130


def _check_data(arguments: argparse.Namespace) -> int:
    from sphereface_lib.data.fetch import DATASETS, ensure_data

    datasets = DATASETS if arguments.dataset == "all" else (arguments.dataset,)
    for name in datasets:  # one line per set as soon as it is ready
        (status,) = ensure_data([name], arguments.data_root, download=arguments.download)
        print(status, flush=True)
    return 0


def _train(arguments: argparse.Namespace) -> int:
    from sphereface_lib.training import resolve_device, train
    from sphereface_lib.training.cache import run_dir_for
    from sphereface_lib.training.loop import check_stop_at_step
    from sphereface_lib.training.records import finished_run
    from sphereface_lib.training.run_folder import check_output_folder

    overrides = {
        field.name: getattr(arguments, field.name)
        for field in dataclasses.fields(TrainConfig)
        if getattr(arguments, field.name) is not None
    }
    config = preset(arguments.profile, **overrides)
    # Checked again by train(); here so that an error comes before anything is printed.
    check_stop_at_step(arguments.stop_at_step)
    resolve_device(config.device)
    output = arguments.output or run_dir_for(config, Path("runs"))
    check_output_folder(output)
    main_process = os.environ.get("RANK", "0") == "0"  # under torchrun only rank 0 reports
    result = finished_run(output, config, reuse=not arguments.force)
    if result is not None:
        if main_process:
            print(
                f"reading the finished run in {output} (--force trains it again)",
                file=sys.stderr,
            )
    else:
        if main_process:
            print(f"training {json.dumps(config.to_dict())}\noutput: {output}", file=sys.stderr)
        result = train(
            config,
            output,
            data_root=arguments.data_root,
            progress=not arguments.no_progress,
            download=arguments.download,
            stop_at_step=arguments.stop_at_step,
            force=arguments.force,
        )
    if not main_process:
        return 0
    if not result.complete:
        print(f"stopped at step {result.stopped_at}; run the same command to resume")
        return 0
    print(f"{'epoch':>5} {'train loss':>10} {'train acc':>9} {'test acc':>9} {'seconds':>8}")
    for row in result.metrics:
        print(
            f"{row['epoch']:5.0f} {row['train_loss']:10.4f} {row['train_accuracy']:9.4f} "
            f"{row['test_accuracy']:9.4f} {row['train_seconds']:8.1f}"
        )
    print(f"final test accuracy {result.final_test_accuracy:.4f}; results in {output}/result.json")
    return 0
