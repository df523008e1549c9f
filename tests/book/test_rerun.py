"""Chapters rerun with other papermill parameters, with the commands book/rerun.md shows.

The example commands of chapters 02 and 03 are read from book/rerun.md and run as they are
(margin m = 3, 3-D features, the A-Softmax head only: one smoke run, trained once and then read
from $SPHEREFACE_CACHE), with their output folder moved to a temporary one. The executed
notebooks must show that configuration and nothing of the default one.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from PIL import Image

pytestmark = [pytest.mark.book, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RERUN_PAGE = ROOT / "book" / "rerun.md"


def documented_command(chapter: str) -> list[str]:
    """The arguments of the build_book.py command that book/rerun.md shows for ``chapter``."""
    text = RERUN_PAGE.read_text().replace("\\\n", " ")  # join continued lines
    commands = [
        shlex.split(line)
        for line in text.splitlines()
        if "scripts/build_book.py" in line and re.search(rf"--only {chapter}\b", line)
    ]
    assert len(commands) == 1, f"{RERUN_PAGE} shows {len(commands)} commands for chapter {chapter}"
    command = commands[0]
    return command[command.index("scripts/build_book.py") + 1 :]


def build(arguments: list[str], output_dir: Path, data_root: Path) -> None:
    """Run build_book.py with ``arguments``, writing into ``output_dir`` instead."""
    assert "--no-html" in arguments and "--output-dir" in arguments, arguments
    assert shlex.join(["--profile", "smoke"]) in shlex.join(arguments), "a smoke run, for speed"
    arguments = list(arguments)
    arguments[arguments.index("--output-dir") + 1] = str(output_dir)
    command = [sys.executable, str(ROOT / "scripts" / "build_book.py"), *arguments]
    environment = {**os.environ, "SPHEREFACE_DATA": str(data_root)}
    finished = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600
    )
    assert finished.returncode == 0, (
        f"{shlex.join(command)} failed:\n{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}"
    )


def output_texts(notebook: Any) -> list[str]:
    """Every text the reader sees in the outputs: streams, plain text, Markdown, HTML."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output["text"])
            for kind in ("text/plain", "text/markdown", "text/html"):
                if kind in output.get("data", {}):
                    texts.append(output["data"][kind])
    return texts


@pytest.fixture(scope="module")
def rerun(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output_dir = tmp_path_factory.mktemp("rerun")
    build(documented_command("02"), output_dir, data_root)
    build(documented_command("03"), output_dir, data_root)
    return output_dir


def test_parameters_reach_the_notebooks(rerun: Path) -> None:
    for name in ("02_mnist_accuracy", "03_embeddings"):
        parameters = nbformat.read(rerun / f"{name}.ipynb", as_version=4).metadata.papermill[
            "parameters"
        ]
        assert parameters["margin"] == 3 and parameters["embedding_dims"] == [3], parameters
    timings = json.loads((rerun / "timings.json").read_text())
    assert timings["profile"] == "smoke"
    # What benchmarks/book_time.py needs to give each trained run to its chapter.
    assert set(timings["chapter_started_after"]) == set(timings["seconds"])
    offsets = list(timings["chapter_started_after"].values())
    assert offsets == sorted(offsets) and offsets[0] >= 0
    assert timings["started_at"].endswith("+00:00")


def test_accuracy_chapter_shows_m3_in_3d_only(rerun: Path) -> None:
    texts = output_texts(nbformat.read(rerun / "02_mnist_accuracy.ipynb", as_version=4))
    joined = "\n".join(texts)
    assert "A-Softmax (m=3)" in joined, "the accuracy table names the head with its margin"
    assert "m=4" not in joined, "nothing of the default margin is shown"
    accuracy_tables = [text for text in texts if "test accuracy (%), mean" in text]
    assert len(accuracy_tables) == 1, "only the 3-D accuracy table: no 2-D features were trained"
    assert "original" not in joined and "modified" not in joined, "only the A-Softmax head ran"


def glued(notebook: nbformat.NotebookNode) -> dict[str, list[str]]:
    """The values a notebook glued for its prose (MyST-NB), by name: their MIME types."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                values[name] = sorted(output.get("data", {}))
    return values


def test_embeddings_chapter_animates_3d_only(rerun: Path) -> None:
    values = glued(nbformat.read(rerun / "03_embeddings.ipynb", as_version=4))
    animations = sorted(name for name in values if name.startswith("anim-"))
    assert animations == ["anim-3d-angular"], values
    assert any("image/gif" in kind for kind in values["anim-3d-angular"]), "carried inside"
    gifs = sorted(path.name for path in (rerun / "figures").glob("*.gif"))
    assert gifs == ["embedding_3d_angular.gif"]
    with Image.open(rerun / "figures" / "embedding_3d_angular.gif") as gif:
        assert gif.n_frames > 1
