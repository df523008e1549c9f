"""MNIST from the four canonical IDX ``.gz`` files, verified by SHA-256 before use.

Files live in ``<data root>/mnist/`` (see :func:`sphereface_lib.data.paths.data_root`). With
``download=True`` missing or damaged files are fetched from torchvision's MNIST mirrors and
verified (a damaged file is kept aside as ``<name>.corrupt``).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from sphereface_lib.data.errors import DataFileError
from sphereface_lib.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, sha256_of, verify_sha256
from sphereface_lib.data.paths import DATA_ENV, data_root


@dataclass(frozen=True)
class MnistFile:
    name: str
    sha256: str  # of the .gz file as distributed
    size: int  # bytes of the .gz file
    magic: int


MNIST_FILES: dict[str, tuple[MnistFile, MnistFile]] = {
    "train": (
        MnistFile(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            9_912_422,
            IMAGES_MAGIC,
        ),
        MnistFile(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            28_881,
            LABELS_MAGIC,
        ),
    ),
    "test": (
        MnistFile(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            1_648_877,
            IMAGES_MAGIC,
        ),
        MnistFile(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            4_542,
            LABELS_MAGIC,
        ),
    ),
}

Split = Literal["train", "test"]


@dataclass(frozen=True)
class MnistSplit:
    """images: (N, 28, 28) uint8; labels: (N,) int64 in 0..9."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


def mnist_folder(root: str | os.PathLike[str] | None = None) -> Path:
    return data_root(root) / "mnist"


def _how_to_fix(folder: Path) -> str:
    return (
        f"put the canonical file in {folder} (or point {DATA_ENV} at a data root whose mnist/ "
        "folder holds it), or call with download=True / pass --download on a machine with internet"
    )


def download_mnist(root: str | os.PathLike[str] | None = None) -> Path:
    """Fetch missing or damaged MNIST files the torchvision way (its mirrors and MD5s).

    Each download is verified against its SHA-256 before it takes the file's place. A file that
    is there with a wrong checksum is replaced, and the damaged copy is kept beside it as
    ``<name>.corrupt`` (numbered when that exists), so nothing is lost.
    """
    from torchvision.datasets import MNIST
    from torchvision.datasets.utils import download_url

    folder = mnist_folder(root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataFileError(
            f"cannot create the MNIST folder {folder} ({error.strerror or error}); set "
            f"{DATA_ENV} (or pass --data-root) to a writable folder"
        ) from None
    md5s = dict(MNIST.resources)
    for files in MNIST_FILES.values():
        for file in files:
            target = folder / file.name
            if target.exists() and sha256_of(target) == file.sha256:
                continue
            staging = folder / f".download-{os.getpid()}"  # one per process: no collisions
            staging.mkdir(exist_ok=True)
            try:
                errors = []
                for mirror in MNIST.mirrors:
                    try:
                        download_url(
                            mirror + file.name, str(staging), file.name, md5s.get(file.name)
                        )
                        break
                    except Exception as error:  # a mirror can fail in many ways; try the next
                        errors.append(f"{mirror}: {error}")
                else:
                    raise DataFileError(
                        f"could not download {file.name} from any torchvision mirror "
                        f"({'; '.join(errors)}); " + _how_to_fix(folder)
                    )
                fresh = staging / file.name
                verify_sha256(fresh, file.sha256, file.size, _how_to_fix(folder))
                if target.exists():
                    aside = _set_aside(target)
                    print(
                        f"{target} did not match its SHA-256: replaced by a fresh download, "
                        f"the damaged copy kept as {aside.name}",
                        file=sys.stderr,
                    )
                os.replace(fresh, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return folder


def _set_aside(path: Path) -> Path:
    """Rename a damaged file to ``<name>.corrupt`` (or ``.corrupt-N``) and return the new path."""
    aside = path.with_name(path.name + ".corrupt")
    number = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{number}")
        number += 1
    os.replace(path, aside)
    return aside


def load_mnist(
    split: Split,
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
) -> MnistSplit:
    """Load the ``"train"`` (60,000) or ``"test"`` (10,000) split, verifying every file first."""
    if split not in MNIST_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = mnist_folder(root)
    if download:
        download_mnist(root)
    arrays = []
    for file in MNIST_FILES[split]:
        path = folder / file.name
        if not path.exists():
            raise DataFileError(f"MNIST file {path} is missing; " + _how_to_fix(folder))
        verify_sha256(path, file.sha256, file.size, _how_to_fix(folder))
        arrays.append(read_idx(path, file.magic))
    images, labels = arrays
    if len(images) != len(labels):
        raise DataFileError(
            f"{split} images ({len(images)}) and labels ({len(labels)}) differ in number"
        )
    return MnistSplit(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype("int64")))


def normalize_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W) -> float32 (N, 1, H, W) as (pixel - 127.5) / 128, the paper's scaling."""
    return (images.float().unsqueeze(1) - 127.5) / 128.0
