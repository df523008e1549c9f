"""Shared fixtures: the data root (from SPHEREFACE_DATA) and small deterministic tensors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from sphereface_lib.data import DATA_ENV, att_faces_folder, lfw_folder

# CI sets this, so that a missing data set fails the tests that need it instead of skipping them.
REQUIRE_DATA_ENV = "SPHEREFACE_REQUIRE_DATA"


def _missing(reason: str) -> None:
    if os.environ.get(REQUIRE_DATA_ENV):
        pytest.fail(f"{reason}, and {REQUIRE_DATA_ENV} is set")
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that read the real data sets carry the ``data`` marker (``-m "not data"``)."""
    for item in items:
        if {"data_root", "faces_root"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.data)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The configured data root; tests that need the real files are skipped without it."""
    root = os.environ.get(DATA_ENV)
    if not root or not (Path(root) / "mnist" / "t10k-labels-idx1-ubyte.gz").exists():
        _missing(f"{DATA_ENV} is not set to a data root with mnist/ (see README)")
    return Path(str(root))


@pytest.fixture(scope="session")
def faces_root(data_root: Path) -> Path:
    """The data root, when it also holds the LFW subset and the AT&T faces."""
    if (
        not (lfw_folder(data_root) / "pairs.txt").exists()
        or not att_faces_folder(data_root).is_dir()
    ):
        _missing("the data root has no faces/lfw-deepfunneled or faces/att_faces (see README)")
    return data_root


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(1234)
