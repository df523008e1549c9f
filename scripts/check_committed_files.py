"""Refuse files that must not be committed: build products, notebook outputs, large binaries.

    python scripts/check_committed_files.py              # every file git tracks (CI)
    python scripts/check_committed_files.py FILE ...     # these files (the pre-commit hook)

Executed notebooks, figures, GIFs and checkpoints are written by the build and would grow the
repository with every rebuild; the chapters are the Jupytext text notebooks in notebooks/.
Exits with 1 and names every offending file, 0 when there is none.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path, PurePosixPath

MAX_BYTES = 1_000_000  # 1 MB: larger files are data or build products, not sources
BUILD_FOLDERS = ("_build", "book/_executed")
REFUSED_SUFFIXES = {
    ".ipynb": "notebooks are committed as Jupytext text notebooks (notebooks/*.py), not .ipynb",
    ".gif": "animations are written by the build",
    ".png": "figures are written by the build",
    ".pt": "model checkpoints belong in the run cache",
    ".pth": "model checkpoints belong in the run cache",
    ".ckpt": "model checkpoints belong in the run cache",
}


def problem(path: str, root: Path) -> str | None:
    """Why ``path`` (relative to ``root``, POSIX separators) must not be committed, or None."""
    posix = PurePosixPath(path)
    for folder in BUILD_FOLDERS:
        if posix.is_relative_to(folder):
            return f"{folder}/ is a build product (scripts/build_book.py writes it)"
    reason = REFUSED_SUFFIXES.get(posix.suffix.lower())
    if reason:
        return reason
    file = root / path
    if file.is_file() and file.stat().st_size > MAX_BYTES:
        size = file.stat().st_size / 1e6
        return (
            f"{size:.1f} MB, more than {MAX_BYTES / 1e6:.0f} MB: keep data and binaries out of git"
        )
    return None


def tracked_files(root: Path) -> list[str]:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True)
    if listing.returncode != 0:
        sys.exit(f"git ls-files failed in {root} (not a git checkout?): {listing.stderr.strip()}")
    return [name for name in listing.stdout.split("\0") if name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", help="files to check (default: git ls-files)")
    arguments = parser.parse_args(argv)
    root = Path.cwd()
    files = arguments.files or tracked_files(root)
    refused = [(name, reason) for name in files if (reason := problem(name, root))]
    for name, reason in refused:
        print(f"{name}: {reason}", file=sys.stderr)
    if refused:
        print(
            f"{len(refused)} file(s) must not be committed: `git rm --cached` them "
            "(they stay on disk); .gitignore already lists the build products.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
