"""A fingerprint of the library code that determines what a run computes.

The run cache keys a run by its configuration *and* this fingerprint, so that a change to a
head, a network, the data loading or the training loop retrains every run it could change,
instead of serving a run trained by the old code. Code that only shows or schedules runs
(plots, pages, the book's grids, progress bars, interrupts) is left out, so that editing it
retrains nothing.

Python files are fingerprinted by their syntax tree without docstrings, so comments, docstrings
and formatting do not count; other files (the data sets' checksum lists) by their bytes.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # sphereface_lib/

# Paths inside the package (a folder stands for every file under it) whose code determines a
# run: its numbers, or the files it leaves behind. The layers above training (analysis, book)
# cannot take part in a run, as nothing below them imports them (tests/test_layers.py); a new
# module in these folders counts until it is listed in NOT_RUN_SOURCES.
RUN_SOURCES = (
    "common/integrity.py",
    "common/seeding.py",
    "maths",
    "heads",
    "nets",
    "data",
    "training",
)
# Modules that training imports but that do not change what a run computes: they find, lock,
# stop or describe runs. tests/training/test_fingerprint.py checks that everything the loop
# imports is in RUN_SOURCES or here.
NOT_RUN_SOURCES = (
    "__init__.py",  # the library's version, recorded for provenance
    "common/__init__.py",  # a docstring
    "common/hardware.py",
    "common/progress.py",
    "training/cache.py",
    "training/fingerprint.py",
    "training/interrupts.py",
    "training/run_folder.py",
)


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


def _code_of(path: Path) -> bytes:
    """What of a file counts: a Python file's syntax tree without docstrings, else its bytes."""
    if path.suffix != ".py":
        return path.read_bytes()
    tree = _without_docstrings(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return ast.dump(tree, include_attributes=False).encode()


def source_files(sources: Sequence[str] = RUN_SOURCES, root: Path = PACKAGE_ROOT) -> list[Path]:
    """The files of ``sources`` under ``root``, sorted (compiled files left out)."""
    files = []
    excluded = {root / name for name in NOT_RUN_SOURCES}
    for name in sources:
        path = root / name
        if not path.exists():
            raise FileNotFoundError(f"{path} is listed in RUN_SOURCES but does not exist")
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        files += [
            p
            for p in candidates
            if p.is_file()
            and p not in excluded
            and "__pycache__" not in p.parts
            and p.suffix not in (".pyc", ".pyo")
        ]
    return sorted(set(files))


def fingerprint_of(sources: Sequence[str] = RUN_SOURCES, root: Path = PACKAGE_ROOT) -> str:
    """A short hash of the code of ``sources`` (see the module docstring)."""
    digest = hashlib.sha256()
    for path in source_files(sources, root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(_code_of(path) + b"\0")
    return digest.hexdigest()[:16]


@functools.cache
def code_fingerprint() -> str:
    """The fingerprint of this library's run-determining code (computed once per process)."""
    return fingerprint_of()
