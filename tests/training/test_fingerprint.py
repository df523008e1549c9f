"""The run cache keys on the code: an edit to code that computes a run changes the key, an edit
to code that only shows runs (plots, pages) or to a comment does not."""

import shutil

import pytest

from sphereface_lib.training import cache, fingerprint
from sphereface_lib.training.config import TrainConfig
from sphereface_lib.training.fingerprint import PACKAGE_ROOT, RUN_SOURCES, fingerprint_of


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the library's source, to edit without touching the real files."""
    copy = tmp_path / "sphereface_lib"
    shutil.copytree(PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def append(path, text):
    path.write_text(path.read_text() + text)


def test_an_edit_to_code_that_computes_a_run_changes_the_fingerprint(package_copy):
    before = fingerprint_of(root=package_copy)
    assert fingerprint_of(root=package_copy) == before  # deterministic
    append(package_copy / "heads" / "angular.py", "\nEXTRA_MARGIN = 1\n")
    assert fingerprint_of(root=package_copy) != before


@pytest.mark.parametrize(
    "name", ["maths/margins.py", "nets/sphere.py", "data/mnist.py", "training/loop.py"]
)
def test_every_run_source_counts(package_copy, name):
    before = fingerprint_of(root=package_copy)
    append(package_copy / name, "\nCHANGED = True\n")
    assert fingerprint_of(root=package_copy) != before


@pytest.mark.parametrize(
    "name", ["book/plots.py", "book/pages.py", "analysis/angles.py", "training/interrupts.py"]
)
def test_an_edit_to_presentation_code_leaves_the_fingerprint(package_copy, name):
    before = fingerprint_of(root=package_copy)
    append(package_copy / name, "\nCHANGED = True\n")
    assert fingerprint_of(root=package_copy) == before


def test_comments_and_docstrings_do_not_count(package_copy):
    before = fingerprint_of(root=package_copy)
    path = package_copy / "heads" / "angular.py"
    text = path.read_text().replace('"""', '"""Reworded. ', 1)
    path.write_text(text + "\n# a new comment\n")
    assert fingerprint_of(root=package_copy) == before


def test_a_listed_source_that_is_missing_is_an_error(package_copy):
    (package_copy / "common" / "seeding.py").unlink()
    with pytest.raises(FileNotFoundError, match="seeding.py is listed in RUN_SOURCES"):
        fingerprint_of(root=package_copy)


def test_the_run_key_changes_with_the_code(monkeypatch):
    config = TrainConfig(device="cpu")
    before = cache.run_key(config)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "0" * 16)
    assert cache.run_key(config) != before


def test_the_run_sources_exist():
    assert fingerprint.source_files(RUN_SOURCES)


def imported_modules(path, seen=None):
    """Every library module that ``path`` imports, directly or through others (files)."""
    from tests.test_layers import library_imports

    seen = set() if seen is None else seen
    for module in library_imports(path):
        parts = module.split(".") if module else []
        candidates = [PACKAGE_ROOT.joinpath(*parts).with_suffix(".py")]
        candidates.append(PACKAGE_ROOT.joinpath(*parts, "__init__.py"))
        for candidate in candidates:
            if candidate.is_file() and candidate not in seen:
                seen.add(candidate)
                imported_modules(candidate, seen)
    return seen


def test_everything_a_run_imports_is_fingerprinted_or_listed_as_not_changing_it():
    """A module the training loop reaches that is in neither list would change runs unseen."""
    from sphereface_lib.training.fingerprint import NOT_RUN_SOURCES, source_files

    loop = PACKAGE_ROOT / "training" / "loop.py"
    reached = imported_modules(loop) | {loop}
    counted = set(source_files()) | {PACKAGE_ROOT / name for name in NOT_RUN_SOURCES}
    missing = sorted(str(path.relative_to(PACKAGE_ROOT)) for path in reached - counted)
    assert missing == []
    # and the lists are not empty words: the loop does reach the fingerprinted maths and heads
    assert PACKAGE_ROOT / "maths" / "margins.py" in reached
    assert PACKAGE_ROOT / "heads" / "angular.py" in reached
