"""scripts/check_committed_files.py on a throw-away git repository: clean and dirty index."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_committed_files.py"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

GOOD = {
    "notebooks/01_chapter.py": "# %% [markdown]\n# # A chapter\n",
    "book/intro.md": "# Intro\n",
    "sphereface_lib/module.py": "x = 1\n",
    "book/figure.svg": "<svg/>\n",  # small, hand-made vector figures are sources
}
BAD = [
    "book/_executed/02_mnist_accuracy.ipynb",
    "book/_executed/timings.json",
    "_build/html/index.html",
    "notebooks/scratch.ipynb",
    "figures/embedding_2d_angular.gif",
    "figures/loss.PNG",
    "runs/model.pt",
    "weights.pth",
    "lightning.ckpt",
    "data/mnist.bin",  # larger than 1 MB
]


def make_repo(root: Path, files: dict[str, str | bytes]) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    subprocess.run(["git", "add", "-f", "."], cwd=root, check=True)
    return root


def check(root: Path, *files: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *files]
    return subprocess.run(command, cwd=root, capture_output=True, text=True)


def test_clean_repository_passes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", dict(GOOD))
    finished = check(root)
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == ""


def test_every_refused_file_is_named(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {**GOOD, **{name: "x" for name in BAD}}
    files["data/mnist.bin"] = b"\0" * 1_000_001
    root = make_repo(tmp_path / "repo", files)
    finished = check(root)
    assert finished.returncode == 1
    named = {line.split(":")[0] for line in finished.stderr.splitlines() if ":" in line}
    assert named >= set(BAD), finished.stderr
    assert not named & set(GOOD), finished.stderr
    assert "1.0 MB, more than 1 MB" in finished.stderr


def test_files_given_on_the_command_line(tmp_path: Path) -> None:
    """The pre-commit hook passes the staged files; only those are checked."""
    root = make_repo(tmp_path / "repo", {**GOOD, "notebooks/scratch.ipynb": "{}"})
    assert check(root, "book/intro.md", "sphereface_lib/module.py").returncode == 0
    finished = check(root, "book/intro.md", "notebooks/scratch.ipynb")
    assert finished.returncode == 1
    assert "notebooks/scratch.ipynb: notebooks are committed as Jupytext" in finished.stderr


@pytest.mark.skipif(not (SCRIPT.parents[1] / ".git").exists(), reason="not a git checkout")
def test_the_repository_itself_is_clean() -> None:
    finished = check(SCRIPT.parents[1])
    assert finished.returncode == 0, finished.stderr
