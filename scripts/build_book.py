"""Build the book: text notebooks -> papermill (with a profile) -> executed notebooks -> HTML.

    python scripts/build_book.py --profile smoke            # CI: minutes on two cores
    python scripts/build_book.py --profile full             # the published book
    python scripts/build_book.py --only 02 -p seeds "[0]"   # one chapter, other parameters

Executed notebooks land in book/_executed/ (git-ignored); the HTML in _build/html/. Training
goes through the train-or-load cache in $SPHEREFACE_CACHE (default: .cache/runs here), so a
rebuild does not retrain what is unchanged. A failing cell or any Sphinx warning fails the build.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import notebook_parameters
import papermill

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = ROOT / "book" / "_executed"


def chapters() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def parse_value(text: str) -> object:
    """A -p value: JSON when it parses (numbers, lists, true/false/null), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def execute(source: Path, parameters: dict[str, object], output_dir: Path) -> Path:
    """Convert one text notebook and run it with papermill; return the executed notebook."""
    output_dir.mkdir(parents=True, exist_ok=True)
    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    plain = output_dir / f".{source.stem}.input.ipynb"
    nbformat.write(notebook, plain)
    executed = output_dir / f"{source.stem}.ipynb"
    try:
        papermill.execute_notebook(
            plain,
            executed,
            parameters=parameters,
            kernel_name="python3",
            cwd=str(output_dir),
            progress_bar=False,
            log_output=False,
        )
    finally:
        plain.unlink(missing_ok=True)
    return executed


def ensure_mnist(parameters: list[list[str]]) -> None:
    """Verify MNIST under the data root once; fetch it the torchvision way if it is missing.

    With the files present (CI, offline machines) nothing is downloaded.
    """
    from sphereface_lib.data import load_mnist

    root = next((value for name, value in parameters if name == "data_root"), None)
    for split in ("train", "test"):
        load_mnist(split, root, download=True)


def finished_runs() -> int:
    """How many finished runs the train-or-load cache holds (a ``result.json`` each)."""
    from sphereface_lib.cache import runs_root

    return sum(1 for _ in runs_root().glob("*/result.json"))


def write_build_times(
    output_dir: Path, profile: str, seconds: dict[str, float], trained: int, cached: int
) -> None:
    """The wall time of every chapter of this build, as a page that ``book/rerun.md`` includes."""
    from sphereface_lib import hardware
    from sphereface_lib.report import markdown_table

    rows = [[name, value / 60] for name, value in seconds.items()]
    rows.append(["**all chapters**", sum(seconds.values()) / 60])
    lines = [
        f"Profile **{profile}**, built {time.strftime('%Y-%m-%d')} on {hardware.summary()}. "
        f"Training runs trained in this build: {trained}; found finished in the cache when it "
        f"started: {cached}.",
        "",
        markdown_table(rows, ["chapter", "wall time (minutes)"], ["{}", "{:.1f}"]),
        "",
    ]
    (output_dir / "build_times.md").write_text("\n".join(lines))


def build_html() -> None:
    shutil.rmtree(ROOT / "_build", ignore_errors=True)
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
        "--all",
    ]
    subprocess.run(command, check=True, cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", choices=["smoke", "full"], default="smoke")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run only chapters whose name starts with this (repeatable)",
    )
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a papermill parameter for every chapter run (JSON value)",
    )
    parser.add_argument(
        "--output-dir", type=Path, default=EXECUTED, help="where executed notebooks go"
    )
    parser.add_argument("--no-html", action="store_true", help="execute the notebooks only")
    arguments = parser.parse_args()

    os.environ.setdefault("SPHEREFACE_CACHE", str(ROOT / ".cache" / "runs"))
    parameters: dict[str, object] = {"profile": arguments.profile}
    parameters.update({name: parse_value(value) for name, value in arguments.parameter})
    selected = [
        c
        for c in chapters()
        if not arguments.only or any(c.name.startswith(o) for o in arguments.only)
    ]
    if not selected:
        parser.error(
            f"no chapter matches {arguments.only}; chapters: {[c.name for c in chapters()]}"
        )
    try:  # every -p name and value, and the data, before any chapter runs
        chapter_parameters = notebook_parameters.per_chapter(selected, parameters, chapters())
        ensure_mnist(arguments.parameter)
    except ValueError as error:  # a ParameterError, or a DataFileError naming the file
        print(f"build_book.py: error: {error}", file=sys.stderr)
        return 2
    timings = {}
    cached_before = finished_runs()
    for source in selected:
        started = time.perf_counter()
        print(f"executing {source.name} with {chapter_parameters[source]}", flush=True)
        execute(source, chapter_parameters[source], arguments.output_dir)
        timings[source.stem] = time.perf_counter() - started
        print(f"  {source.stem}: {timings[source.stem]:.0f} s", flush=True)
    trained = finished_runs() - cached_before
    (arguments.output_dir / "timings.json").write_text(
        json.dumps(
            {
                "profile": arguments.profile,
                "seconds": timings,
                "runs_trained": trained,
                "runs_cached_at_start": cached_before,
            },
            indent=2,
        )
    )
    write_build_times(arguments.output_dir, arguments.profile, timings, trained, cached_before)
    if not arguments.no_html:
        build_html()
    print("chapter times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
