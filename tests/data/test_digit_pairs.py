"""Class-disjoint verification folds for digits the network never saw."""

import pytest
import torch

from sphereface_lib.data.digit_pairs import class_disjoint_pairs

LABELS = torch.arange(60) % 4 + 6  # digits 6..9, fifteen images each


def test_folds_hold_their_own_classes_half_same_half_different():
    pairs = class_disjoint_pairs(LABELS, [(6, 7), (8, 9)], pairs_per_fold=40, seed=3)
    assert len(pairs) == 80
    for number, classes in ((1, {6, 7}), (2, {8, 9})):
        chosen = pairs.fold == number
        assert int(chosen.sum()) == 40 and int(pairs.same[chosen].sum()) == 20
        drawn = set(LABELS[pairs.first[chosen]].tolist()) | set(
            LABELS[pairs.second[chosen]].tolist()
        )
        assert drawn == classes
    same_labels = LABELS[pairs.first] == LABELS[pairs.second]
    assert torch.equal(same_labels, pairs.same)
    assert not torch.any(pairs.first == pairs.second)


def test_no_pair_is_drawn_twice_and_the_seed_fixes_the_draw():
    pairs = class_disjoint_pairs(LABELS, [(6, 7), (8, 9)], pairs_per_fold=40, seed=3)
    ends = zip(pairs.first.tolist(), pairs.second.tolist(), strict=True)
    keys = {(min(a, b), max(a, b)) for a, b in ends}
    assert len(keys) == len(pairs)
    again = class_disjoint_pairs(LABELS, [(6, 7), (8, 9)], pairs_per_fold=40, seed=3)
    assert torch.equal(again.first, pairs.first) and torch.equal(again.second, pairs.second)
    other = class_disjoint_pairs(LABELS, [(6, 7), (8, 9)], pairs_per_fold=40, seed=4)
    assert not torch.equal(other.first, pairs.first)


@pytest.mark.parametrize(
    ("folds", "count", "message"),
    [
        ([(6, 7), (7, 8)], 10, "must not share a class"),
        ([(6,), (8, 9)], 10, "different pairs need 2 classes"),
        ([(6, 7), (8, 9)], 7, "even number"),
        ([(6, 7), (8, 9)], 1000, "too few images"),
    ],
)
def test_impossible_requests_are_clear_errors(folds, count, message):
    with pytest.raises(ValueError, match=message):
        class_disjoint_pairs(LABELS, folds, pairs_per_fold=count)
