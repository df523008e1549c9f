"""The library's layers: imports only go down, from the book's presentation to the paper's maths.

    common -> maths -> heads -> nets -> data -> training -> analysis -> book -> cli

A module may import its own layer and those to its left, never one to its right (imports inside
functions included), so that each layer can be read, tested and reused without those above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sphereface_lib.training.fingerprint import PACKAGE_ROOT

LAYERS = ("common", "maths", "heads", "nets", "data", "training", "analysis", "book", "cli")


def layer_of(module: str) -> int:
    """The layer of a module path inside the package ("heads.angular", "cli", "" for the root)."""
    first = module.split(".")[0]
    if first in ("", "__init__", "__version__"):
        return -1  # the package itself: its version, which imports nothing
    if first == "__main__":
        return LAYERS.index("cli")
    if first not in LAYERS:
        raise ValueError(f"sphereface_lib.{module} belongs to no layer; add it to one of {LAYERS}")
    return LAYERS.index(first)


def library_imports(path: Path, package: str = "sphereface_lib") -> set[str]:
    """The library modules (paths inside the package) that the file at ``path`` imports."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == package:
            names = [f"{package}.{alias.name}" for alias in node.names]  # sub-packages
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            if name == package or name.startswith(package + "."):
                imported.add(name[len(package) + 1 :])
    return imported


def upward_imports(root: Path) -> list[str]:
    """ "importer -> imported" for every import of a higher layer under the package ``root``."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        layer_of(module)  # every module belongs to a layer
        for imported in sorted(library_imports(path, root.name)):
            if layer_of(imported) > layer_of(module):
                problems.append(f"{module} -> {imported}")
    return problems


def test_imports_only_go_down():
    assert upward_imports(PACKAGE_ROOT) == []


def test_an_upward_import_is_found(tmp_path):
    package = tmp_path / "sphereface_lib"
    for folder in ("heads", "book"):
        (package / folder).mkdir(parents=True)
    (package / "book" / "plots.py").write_text("from sphereface_lib.heads import HEADS\n")
    (package / "heads" / "angular.py").write_text(
        "def f():\n    from sphereface_lib.book.plots import draw\n"
    )
    assert upward_imports(package) == ["heads.angular -> book.plots"]


def test_a_module_outside_the_layers_is_an_error(tmp_path):
    package = tmp_path / "sphereface_lib"
    package.mkdir()
    (package / "helpers.py").write_text("")
    with pytest.raises(ValueError, match="sphereface_lib.helpers belongs to no layer"):
        upward_imports(package)
