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
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
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


@contextmanager
def progress_on_terminal(log: Path) -> Iterator[None]:
    """Echo what the chapter's kernel writes to ``log`` (its progress bars) to this terminal.

    The kernel captures stdout and stderr into the notebook; the library writes its progress
    bars to ``$SPHEREFACE_PROGRESS_LOG`` instead (``sphereface_lib.common.progress``), so they show
    here while the chapter runs and never on a page of the book.
    """
    from sphereface_lib.common.progress import PROGRESS_LOG_ENV

    log.write_text("")
    done = threading.Event()

    def follow() -> None:
        with log.open(encoding="utf-8", errors="replace") as stream:
            while True:
                finished = done.is_set()  # read once more after the chapter has ended
                text = stream.read()
                if text:
                    sys.stderr.write(text)
                    sys.stderr.flush()
                elif finished:
                    return
                else:
                    time.sleep(0.5)

    previous = os.environ.get(PROGRESS_LOG_ENV)
    os.environ[PROGRESS_LOG_ENV] = str(log)
    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if previous is None:
            os.environ.pop(PROGRESS_LOG_ENV, None)
        else:
            os.environ[PROGRESS_LOG_ENV] = previous
        log.unlink(missing_ok=True)


def hide_injected_parameters(executed: Path) -> None:
    """Keep papermill's injected-parameters cell out of the page (nbval still runs it)."""
    notebook = nbformat.read(executed, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(notebook, executed)


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
        with progress_on_terminal(output_dir / f".{source.stem}.progress"):
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
    hide_injected_parameters(executed)
    return executed


def ensure_data(parameters: list[list[str]]) -> None:
    """Verify every data set under the data root once; fetch the missing ones from their sources.

    With the data present (CI, offline machines) nothing is downloaded. A problem is one line.
    """
    from sphereface_lib.data import DataFileError
    from sphereface_lib.data.fetch import ensure_data as verify_or_fetch

    root = next((value for name, value in parameters if name == "data_root"), None)
    try:
        for status in verify_or_fetch(root=root, download=True):
            print(status, flush=True)
    except DataFileError as error:
        sys.exit(f"error: {error}")


def finished_runs() -> int:
    """How many finished runs the train-or-load cache holds (a ``result.json`` each)."""
    from sphereface_lib.training.cache import runs_root

    return sum(1 for _ in runs_root().glob("*/result.json"))


def write_build_times(
    output_dir: Path, profile: str, seconds: dict[str, float], trained: int, cached: int
) -> None:
    """The wall time of every chapter of this build, as a page that ``book/rerun.md`` includes."""
    from sphereface_lib.book.report import markdown_table
    from sphereface_lib.common import hardware

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


REPOSITORY_ENV = "SPHEREFACE_REPOSITORY_URL"


def config_with_repository(url: str) -> Path:
    """``_config.yml`` plus a repository button for ``url``, next to it (relative paths hold)."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config.setdefault("html", {})["use_repository_button"] = True
    config["repository"] = {"url": url, "branch": "main"}
    path = ROOT / "_config.repository.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def build_html() -> None:
    """Render ``_build/html``; with ``$SPHEREFACE_REPOSITORY_URL`` set, with a repository button.

    A local build does not know where the book is published, so it shows no repository link;
    the publishing workflow passes the repository it runs in.
    """
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
    repository = os.environ.get(REPOSITORY_ENV, "").strip()
    config = config_with_repository(repository) if repository else None
    if config is not None:
        command += ["--config", str(config)]
    try:
        subprocess.run(command, check=True, cwd=ROOT)
    finally:
        if config is not None:
            config.unlink(missing_ok=True)


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
    parser.add_argument(
        "--record",
        type=Path,
        default=None,
        help="also write the build's timings record here (results/book_timings_full.json: the "
        "README's 'How long it takes' table, see scripts/readme_tables.py)",
    )
    arguments = parser.parse_args()
    # Absolute: the chapters' kernels run inside it and write their progress log there.
    arguments.output_dir = arguments.output_dir.resolve()
    build_started = time.perf_counter()
    started_at = datetime.now(UTC)

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
        ensure_data(arguments.parameter)
    except ValueError as error:  # a ParameterError, or a DataFileError naming the file
        print(f"build_book.py: error: {error}", file=sys.stderr)
        return 2
    timings, runs_by_chapter, chapter_starts = {}, {}, {}
    cached_before = finished_runs()
    for source in selected:
        started, runs_before = time.perf_counter(), finished_runs()
        chapter_starts[source.stem] = started - build_started
        print(f"executing {source.name} with {chapter_parameters[source]}", flush=True)
        execute(source, chapter_parameters[source], arguments.output_dir)
        timings[source.stem] = time.perf_counter() - started
        runs_by_chapter[source.stem] = finished_runs() - runs_before
        print(f"  {source.stem}: {timings[source.stem]:.0f} s", flush=True)
    trained = finished_runs() - cached_before
    write_build_times(arguments.output_dir, arguments.profile, timings, trained, cached_before)
    if not arguments.no_html:
        build_html()
    from sphereface_lib.book import provenance

    record = {
        "profile": arguments.profile,
        "seconds": timings,
        "runs_trained": trained,
        "runs_cached_at_start": cached_before,
        "runs_trained_by_chapter": runs_by_chapter,
        # When the build and each chapter started (seconds after the start): what
        # benchmarks/book_time.py needs to give each trained run to its chapter.
        "started_at": started_at.isoformat(timespec="seconds"),
        "chapter_started_after": chapter_starts,
        "html": not arguments.no_html,
        "total_seconds": time.perf_counter() - build_started,  # data check and HTML included
        **provenance.provenance(sys.argv),
    }
    text = json.dumps(record, indent=2) + "\n"
    (arguments.output_dir / "timings.json").write_text(text)
    if arguments.record is not None:
        arguments.record.parent.mkdir(parents=True, exist_ok=True)
        arguments.record.write_text(text)
    print("chapter times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
