"""Verification pairs for the face chapter: LFW folds 1-2 and all pairs of the AT&T hold-out.

LFW's View 2 folds are identity-disjoint (Huang et al. 2007): a threshold chosen on some folds
is tested on people it never saw. :func:`identity_fold_pairs` builds pairs the same way for any
labelled set: identities are split into folds, and a pair joins two images of one fold.

Legend: N images, P pairs, K folds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from sphereface_lib.data.faces import (
    LFW_DEEPFUNNELED_CROP,
    FaceFolder,
    FacePair,
    FacePreprocess,
    PairTensors,
    att_faces_folder,
    lfw_folder,
    load_face_tensors,
    load_pair_images,
    read_lfw_pairs,
)
from sphereface_lib.data.paths import default_cache_root
from sphereface_lib.data.training_sets import ATT_VERIFY_SUBJECTS, LFW_EVALUATION_FOLDS


def identity_fold_pairs(
    labels: torch.Tensor, num_folds: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every pair of images whose identities share a fold: (first, second, same, fold), each (P,).

    labels: (N,) integer identity of each image. The sorted distinct identities are cut into
    ``num_folds`` contiguous blocks of (nearly) equal size; fold ids count from 1, as in LFW.
    Pairs (i, j) have i < j and come in fold order, then in order of i, then j.
    """
    if labels.dim() != 1:
        raise ValueError(f"labels must be 1-D (one identity per image), got {tuple(labels.shape)}")
    identities = labels.unique()  # sorted
    if isinstance(num_folds, bool) or not isinstance(num_folds, int) or num_folds < 1:
        raise ValueError(f"num_folds must be a positive integer, got {num_folds!r}")
    if num_folds > len(identities):
        raise ValueError(
            f"cannot split {len(identities)} identities into {num_folds} identity-disjoint folds; "
            "use at most one fold per identity"
        )
    # Identity number k of I goes to fold 1 + floor(k K / I): contiguous, sizes differ by <= 1.
    fold_of_identity = torch.arange(len(identities)) * num_folds // len(identities) + 1
    image_fold = fold_of_identity[torch.searchsorted(identities, labels)]
    first, second = torch.triu_indices(len(labels), len(labels), offset=1)
    keep = image_fold[first] == image_fold[second]
    first, second = first[keep], second[keep]
    fold = image_fold[first]
    order = torch.argsort(fold, stable=True)
    first, second, fold = first[order], second[order], fold[order]
    return first, second, labels[first] == labels[second], fold


def att_verification_pairs(
    root: str | os.PathLike[str] | None = None,
    num_folds: int = 5,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> PairTensors:
    """All pairs among the AT&T subjects held out of training (s31..s40, 10 images each).

    With 5 folds of two subjects, each fold has 2 x 45 same-person pairs and 10 x 10
    different-person pairs: 950 pairs in all, nearly balanced, no sampling needed. Images are
    preprocessed as for training (centred 112x96 crop, grey replicated to RGB).
    """
    folder = FaceFolder(att_faces_folder(root), identities=ATT_VERIFY_SUBJECTS)
    cache = cache_dir if cache_dir is not None else default_cache_root() / "faces"
    faces = load_face_tensors(folder, FacePreprocess(), cache_dir=cache, progress=progress)
    first, second, same, fold = identity_fold_pairs(faces.labels, num_folds)
    return PairTensors(faces.images, first, second, same, fold)


def first_pairs_per_fold(pairs: Sequence[FacePair], per_class: int) -> list[FacePair]:
    """The first ``per_class`` same and ``per_class`` different pairs of every fold, in order."""
    if per_class < 1:
        raise ValueError(f"per_class must be a positive integer, got {per_class!r}")
    seen: dict[tuple[int, bool], int] = {}
    kept = []
    for pair in pairs:
        key = (pair.fold, pair.same)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= per_class:
            kept.append(pair)
    return kept


def lfw_verification_pairs(
    root: str | os.PathLike[str] | None = None,
    per_class: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> PairTensors:
    """The pairs of LFW View 2 folds 1 and 2 (600 each), cropped as the ``"lfw"`` training set.

    ``per_class`` keeps only the first that many same and different pairs of each fold (smoke
    runs); None keeps all 1,200. No identity of these pairs is in the ``"lfw"`` training set.
    """
    pairs = read_lfw_pairs(lfw_folder(root) / "pairs.txt", folds=LFW_EVALUATION_FOLDS)
    if per_class is not None:
        pairs = first_pairs_per_fold(pairs, per_class)
    cache = cache_dir if cache_dir is not None else default_cache_root() / "faces"
    return load_pair_images(
        pairs, FacePreprocess(crop=LFW_DEEPFUNNELED_CROP), cache_dir=cache, progress=progress
    )
