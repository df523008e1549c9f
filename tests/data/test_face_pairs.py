"""Identity-disjoint verification pairs: an oracle loop, the AT&T hold-out and the LFW subset."""

import itertools

import pytest
import torch

from sphereface_lib.data import FacePair
from sphereface_lib.data.face_pairs import (
    att_verification_pairs,
    first_pairs_per_fold,
    identity_fold_pairs,
    lfw_verification_pairs,
)


def naive_fold_pairs(labels, num_folds):
    """Oracle: fold of each identity by its rank, then a double loop over the images."""
    identities = sorted(set(labels))
    fold_of = {
        name: 1 + rank * num_folds // len(identities) for rank, name in enumerate(identities)
    }
    pairs = [
        (i, j, labels[i] == labels[j], fold_of[labels[i]])
        for i, j in itertools.combinations(range(len(labels)), 2)
        if fold_of[labels[i]] == fold_of[labels[j]]
    ]
    return sorted(pairs, key=lambda pair: pair[3])  # stable: keeps (i, j) order within a fold


@pytest.mark.parametrize("num_folds", [1, 2, 3, 7])
def test_identity_fold_pairs_match_a_double_loop(num_folds, generator):
    labels = torch.randint(10, 17, (40,), generator=generator)  # 7 identities, not 0-based
    first, second, same, fold = identity_fold_pairs(labels, num_folds)
    got = list(zip(first.tolist(), second.tolist(), same.tolist(), fold.tolist(), strict=True))
    assert got == naive_fold_pairs(labels.tolist(), num_folds)
    assert same.dtype == torch.bool and fold.dtype == torch.int64


def test_att_shaped_folds_are_nearly_balanced_and_identity_disjoint():
    labels = torch.arange(10).repeat_interleave(10)  # 10 people x 10 images
    first, second, same, fold = identity_fold_pairs(labels, 5)
    assert len(same) == 950 and int(same.sum()) == 450  # 5 x (2 x 45 same + 10 x 10 different)
    for fold_id in range(1, 6):
        chosen = fold == fold_id
        people = set(labels[first[chosen]].tolist()) | set(labels[second[chosen]].tolist())
        assert len(people) == 2
        assert int(same[chosen].sum()) == 90 and int((~same[chosen]).sum()) == 100
    assert bool((labels[first] == labels[second]).eq(same).all())


def test_identity_fold_pairs_reject_bad_arguments():
    labels = torch.tensor([0, 0, 1, 1])
    with pytest.raises(ValueError, match="identity-disjoint"):
        identity_fold_pairs(labels, 3)
    with pytest.raises(ValueError, match="positive integer"):
        identity_fold_pairs(labels, 0)
    with pytest.raises(ValueError, match="1-D"):
        identity_fold_pairs(labels.view(2, 2), 1)


def test_first_pairs_per_fold_keeps_the_first_of_each_class_and_fold(tmp_path):
    pairs = [
        FacePair(tmp_path / f"{fold}{same}{n}a", tmp_path / "b", same, fold)
        for fold in (1, 2)
        for same in (True, False)
        for n in range(3)
    ]
    kept = first_pairs_per_fold(pairs, 2)
    assert [(p.fold, p.same, p.path_a.name[-2]) for p in kept] == [
        (fold, same, str(n)) for fold in (1, 2) for same in (True, False) for n in range(2)
    ]
    with pytest.raises(ValueError, match="positive"):
        first_pairs_per_fold(pairs, 0)


def test_att_verification_pairs_cover_the_held_out_subjects(faces_root, tmp_path):
    pairs = att_verification_pairs(faces_root, num_folds=5, cache_dir=tmp_path)
    assert pairs.images.shape == (100, 3, 112, 96)
    assert len(pairs) == 950 and int(pairs.same.sum()) == 450
    assert pairs.fold.unique().tolist() == [1, 2, 3, 4, 5]


def test_lfw_verification_pairs_keep_folds_one_and_two(faces_root, tmp_path):
    pairs = lfw_verification_pairs(faces_root, per_class=2, cache_dir=tmp_path)
    assert len(pairs) == 8
    assert pairs.fold.tolist() == [1, 1, 1, 1, 2, 2, 2, 2]
    assert pairs.same.tolist() == [True, True, False, False] * 2
    assert pairs.images.shape[1:] == (3, 112, 96)
