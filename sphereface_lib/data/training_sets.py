"""The labelled image sets the training loop knows by name.

- ``"mnist"``: 60,000 training and 10,000 test digits, (1, 28, 28).
- ``"lfw"``: the LFW people with at least 10 images, minus every person who appears in folds 1
  and 2 of ``pairs.txt`` (so verification on those folds is identity-disjoint): 119 people,
  3,362 images. Each person's last tenth of images (at least one) is held out as the
  classification test set. (3, 112, 96) faces, cropped with :data:`LFW_DEEPFUNNELED_CROP`.
- ``"lfw_top6"``: the six people of ``"lfw"`` with the most images (1,133), split the same way;
  for 3-D feature plots of a few identities.
- ``"casia"``: CASIA-WebFace (or any folder of identities) in ``<data root>/faces/CASIA-WebFace``,
  decoded per batch (:class:`~sphereface_lib.data.lazy.LazyFaceImages`); last image of each
  identity held out.
- ``"att"``: AT&T/ORL subjects s1..s30 (s31..s40 are kept for verification), images 1-8 for
  training and 9-10 for testing. (3, 112, 96), grey replicated to three channels.
- ``"synthetic"``: 768 training and 256 test images of ten classes, (1, 28, 28) like MNIST,
  drawn in memory from a fixed seed (:func:`synthetic_digits`): for tests that train without
  any file.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from sphereface_lib.data.faces import (
    LFW_DEEPFUNNELED_CROP,
    FaceFolder,
    FacePreprocess,
    att_faces_folder,
    lfw_folder,
    load_face_tensors,
    pair_identities,
    read_lfw_pairs,
)
from sphereface_lib.data.lazy import LazyFaceImages
from sphereface_lib.data.mnist import load_mnist, normalize_images
from sphereface_lib.data.paths import data_root, default_cache_root

LFW_EVALUATION_FOLDS = (1, 2)  # the folds whose images the bundled LFW subset holds in full
ATT_TRAIN_SUBJECTS = tuple(f"s{i}" for i in range(1, 31))
ATT_VERIFY_SUBJECTS = tuple(f"s{i}" for i in range(31, 41))


@dataclass(frozen=True)
class TrainingData:
    """train/test images (N, C, H, W) float32 normalised; labels (N,) int64 in [0, num_classes)."""

    train_images: torch.Tensor | LazyFaceImages
    train_labels: torch.Tensor
    test_images: torch.Tensor | LazyFaceImages
    test_labels: torch.Tensor
    num_classes: int
    augmentation: str  # "shift" (digits) or "flip" (faces)


def on_device(data: TrainingData, device: torch.device) -> TrainingData:
    """``data`` with its in-memory images moved to a CUDA ``device`` once, so that a run on a GPU
    never copies a batch from the host (MNIST takes 188 MB as float32); labels stay on the host
    with the batch order. On the CPU, and for lazily decoded sets, ``data`` itself."""
    if device.type != "cuda":
        return data
    train, test = data.train_images, data.test_images
    return dataclasses.replace(
        data,
        train_images=train.to(device) if isinstance(train, torch.Tensor) else train,
        test_images=test.to(device) if isinstance(test, torch.Tensor) else test,
    )


def lfw_training_identities(root: str | os.PathLike[str] | None = None) -> FaceFolder:
    """The LFW people with >= 10 images that appear in no pair of the evaluation folds."""
    folder = lfw_folder(root)
    pairs = read_lfw_pairs(folder / "pairs.txt", folds=LFW_EVALUATION_FOLDS)
    return FaceFolder(folder, exclude=pair_identities(pairs), min_images=10)


def lfw_top_identities(root: str | os.PathLike[str] | None, count: int) -> FaceFolder:
    """The ``count`` people of :func:`lfw_training_identities` with the most images."""
    folder = lfw_training_identities(root)
    sizes = torch.bincount(torch.tensor([label for _, label in folder.samples]))
    ranked = sorted(range(len(sizes)), key=lambda label: (-int(sizes[label]), label))
    return FaceFolder(folder.folder, identities=[folder.identities[i] for i in ranked[:count]])


def _last_tenth_held_out(folder: FaceFolder) -> torch.Tensor:
    """(N,) bool: the last tenth (at least one) of each person's images, in file order."""
    labels = torch.tensor([label for _, label in folder.samples])
    is_test = torch.zeros(len(labels), dtype=torch.bool)
    for label in range(len(folder.identities)):
        indices = (labels == label).nonzero()[:, 0]
        is_test[indices[-max(1, len(indices) // 10) :]] = True
    return is_test


def _split_faces(
    folder: FaceFolder,
    preprocess: FacePreprocess,
    is_test: torch.Tensor,
    progress: bool,
) -> TrainingData:
    faces = load_face_tensors(
        folder, preprocess, cache_dir=default_cache_root() / "faces", progress=progress
    )
    return TrainingData(
        faces.images[~is_test],
        faces.labels[~is_test],
        faces.images[is_test],
        faces.labels[is_test],
        num_classes=len(faces.identities),
        augmentation="flip",
    )


def load_training_data(
    name: str,
    root: str | os.PathLike[str] | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
    download: bool = False,
    progress: bool = False,
) -> TrainingData:
    """The set called ``name`` (see the module docstring), optionally cut to the first images."""
    if name == "mnist":
        train = load_mnist("train", root, download=download)
        test = load_mnist("test", root, download=download)
        data = TrainingData(
            normalize_images(train.images),
            train.labels,
            normalize_images(test.images),
            test.labels,
            num_classes=10,
            augmentation="shift",
        )
    elif name == "mnist_open":
        # Open-set digits: train on the digits of OPEN_SET_TRAINED only (their labels are
        # already 0..5); the test set is those digits' test images. The other digits' test
        # images are the unseen classes (open_set_held_out).
        train = load_mnist("train", root, download=download)
        test = load_mnist("test", root, download=download)
        kept_train = train.labels < len(OPEN_SET_TRAINED)
        kept_test = test.labels < len(OPEN_SET_TRAINED)
        data = TrainingData(
            normalize_images(train.images[kept_train]),
            train.labels[kept_train],
            normalize_images(test.images[kept_test]),
            test.labels[kept_test],
            num_classes=len(OPEN_SET_TRAINED),
            augmentation="shift",
        )
    elif name in ("lfw", "lfw_top6"):
        folder = lfw_training_identities(root) if name == "lfw" else lfw_top_identities(root, 6)
        is_test = _last_tenth_held_out(folder)
        data = _split_faces(folder, FacePreprocess(crop=LFW_DEEPFUNNELED_CROP), is_test, progress)
    elif name == "att":
        folder = FaceFolder(att_faces_folder(root), identities=ATT_TRAIN_SUBJECTS)
        is_test = torch.tensor([path.stem in ("9", "10") for path, _ in folder.samples])
        data = _split_faces(folder, FacePreprocess(), is_test, progress)
    elif name == "casia":
        return _casia(root, train_limit, test_limit)
    elif name == "synthetic":
        data = synthetic_digits()
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(TRAINING_SETS)}")
    return TrainingData(
        data.train_images[:train_limit],
        data.train_labels[:train_limit],
        data.test_images[:test_limit],
        data.test_labels[:test_limit],
        data.num_classes,
        data.augmentation,
    )


TRAINING_SETS = ("mnist", "mnist_open", "lfw", "lfw_top6", "att", "casia", "synthetic")

# The digits the open-set runs train on; the others are never seen in training.
OPEN_SET_TRAINED = (0, 1, 2, 3, 4, 5)
OPEN_SET_HELD_OUT = (6, 7, 8, 9)


def open_set_held_out(
    root: str | os.PathLike[str] | None = None, download: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The MNIST test images (N, 1, 28, 28), normalised, and digits (N,) that the ``mnist_open``
    runs never see in training (:data:`OPEN_SET_HELD_OUT`)."""
    test = load_mnist("test", root, download=download)
    held_out = test.labels >= len(OPEN_SET_TRAINED)
    return normalize_images(test.images[held_out]), test.labels[held_out]


# The input shape (channels, height, width) of each set, to check a network against.
TRAINING_SET_INPUTS = {
    "mnist": (1, 28, 28),
    "lfw": (3, 112, 96),
    "lfw_top6": (3, 112, 96),
    "att": (3, 112, 96),
    "casia": (3, 112, 96),
    "synthetic": (1, 28, 28),
    "mnist_open": (1, 28, 28),
}

SYNTHETIC_SEED = 0  # the synthetic set is the same in every process and every run


def synthetic_digits(
    train_count: int = 768, test_count: int = 256, num_classes: int = 10
) -> TrainingData:
    """A small in-memory stand-in for MNIST: each class a fixed random 28 x 28 pattern, each
    image its class's pattern plus noise, normalised as MNIST is: learnable, but no run of a
    few updates gets every image right."""
    generator = torch.Generator().manual_seed(SYNTHETIC_SEED)
    # Smooth patterns: random 7 x 7 images scaled up, so that a 2-pixel shift keeps the class.
    patterns = torch.rand(num_classes, 1, 7, 7, generator=generator)
    patterns = torch.nn.functional.interpolate(patterns, size=(28, 28), mode="bilinear")

    def draw(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.arange(count) % num_classes
        labels = labels[torch.randperm(count, generator=generator)]
        noise = torch.randn(count, 1, 28, 28, generator=generator)
        images = patterns[labels] + 0.6 * noise
        return (images - images.mean()) / images.std(), labels

    train_images, train_labels = draw(train_count)
    test_images, test_labels = draw(test_count)
    return TrainingData(
        train_images, train_labels, test_images, test_labels, num_classes, augmentation="shift"
    )


def casia_folder(root: str | os.PathLike[str] | None = None) -> Path:
    """``<data root>/faces/CASIA-WebFace``: one folder per identity of aligned 112x96 faces."""
    return data_root(root) / "faces" / "CASIA-WebFace"


def _casia(
    root: str | os.PathLike[str] | None, train_limit: int | None, test_limit: int | None
) -> TrainingData:
    """CASIA-WebFace (or any folder of identities too large for memory), decoded per batch.

    The last image of every identity is held out to measure classification accuracy.
    """
    folder = FaceFolder(casia_folder(root))
    labels = torch.tensor([label for _, label in folder.samples])
    is_test = torch.zeros(len(labels), dtype=torch.bool)
    is_test[torch.cat([labels[1:] != labels[:-1], torch.tensor([True])])] = True
    paths = [path for path, _ in folder.samples]
    train_paths = [p for p, test in zip(paths, is_test.tolist(), strict=True) if not test]
    test_paths = [p for p, test in zip(paths, is_test.tolist(), strict=True) if test]
    preprocess = FacePreprocess()  # the images are already aligned and cropped to 112x96
    return TrainingData(
        LazyFaceImages(train_paths[:train_limit], preprocess),
        labels[~is_test][:train_limit],
        LazyFaceImages(test_paths[:test_limit], preprocess),
        labels[is_test][:test_limit],
        num_classes=len(folder.identities),
        augmentation="flip",
    )
