"""Verification pairs among images of classes, folds disjoint in classes — LFW's protocol for
digits that a network never saw in training (the book's open-set experiment).

LFW's ten folds share no person; here each fold holds its own classes (digits), so a threshold
chosen on the other folds is tested on classes it was never chosen on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PairIndices:
    """Pairs (P,) of indices into a set of images: first, second, same class, fold number."""

    first: torch.Tensor
    second: torch.Tensor
    same: torch.Tensor
    fold: torch.Tensor

    def __len__(self) -> int:
        return len(self.same)


def class_disjoint_pairs(
    labels: torch.Tensor,
    folds: Sequence[Sequence[int]],
    pairs_per_fold: int,
    seed: int = 0,
) -> PairIndices:
    """Same and different pairs of the images with ``labels`` (N,): fold ``k`` (numbered from 1)
    draws only from the classes ``folds[k-1]``, half same-class pairs (as many for each class)
    and half different-class pairs; no pair is drawn twice, and an image is never paired with
    itself. Seeded: the same arguments give the same pairs."""
    if pairs_per_fold < 2 or pairs_per_fold % 2:
        raise ValueError(f"pairs_per_fold must be an even number >= 2, got {pairs_per_fold}")
    seen_classes = [c for fold in folds for c in fold]
    if len(set(seen_classes)) != len(seen_classes):
        raise ValueError(f"the folds must not share a class: {list(map(list, folds))}")
    generator = torch.Generator().manual_seed(seed)
    members = {int(c): (labels == c).nonzero()[:, 0] for c in seen_classes}
    for label, indices in members.items():
        if len(indices) < 2:
            raise ValueError(f"class {label} has {len(indices)} images; a pair needs two")
    first, second, same, fold_of = [], [], [], []
    for number, classes in enumerate(folds, start=1):
        if len(classes) < 2:
            raise ValueError(f"fold {number} holds {list(classes)}: different pairs need 2 classes")
        chosen: set[tuple[int, int]] = set()
        half = pairs_per_fold // 2
        for kind in ("same", "different"):
            drawn, attempts = 0, 0
            while drawn < half:
                attempts += 1
                if attempts > 100 * half:
                    raise ValueError(
                        f"fold {number} has too few images for {half} distinct {kind} pairs; "
                        "ask for fewer pairs"
                    )
                if kind == "same":
                    pool = members[int(classes[drawn % len(classes)])]
                    a, b = pool[torch.randperm(len(pool), generator=generator)[:2]].tolist()
                else:
                    pick = torch.randperm(len(classes), generator=generator)[:2].tolist()
                    pools = [members[int(classes[k])] for k in pick]
                    a, b = (
                        int(pool[torch.randint(len(pool), (1,), generator=generator)])
                        for pool in pools
                    )
                key = (min(a, b), max(a, b))
                if key in chosen:
                    continue
                chosen.add(key)
                first.append(a)
                second.append(b)
                same.append(kind == "same")
                fold_of.append(number)
                drawn += 1
    return PairIndices(
        torch.tensor(first), torch.tensor(second), torch.tensor(same), torch.tensor(fold_of)
    )
