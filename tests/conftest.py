"""Shared fixtures: the data root (from SPHEREFACE_DATA) and small deterministic tensors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from sphereface_lib.data import DATA_ENV


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The configured data root; tests that need the real files are skipped without it."""
    root = os.environ.get(DATA_ENV)
    if not root or not (Path(root) / "mnist" / "t10k-labels-idx1-ubyte.gz").exists():
        pytest.skip(f"{DATA_ENV} is not set to a data root with mnist/ (see README)")
    return Path(root)


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(1234)
