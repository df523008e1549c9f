"""LFW verification: mirrored features, threshold choice, k-fold accuracy, ROC and AUC."""

import math

import pytest
import torch
from torch import nn

from sphereface_lib.verification import (
    accuracy_at,
    best_threshold,
    cosine_similarity,
    kfold_accuracy,
    mirror_features,
    roc_auc,
    roc_curve,
)


def naive_auc(scores, same):
    """The probability that a same pair outscores a different one, ties counting one half."""
    positives = [float(s) for s, y in zip(scores, same, strict=True) if y]
    negatives = [float(s) for s, y in zip(scores, same, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


class ColumnMeans(nn.Module):
    """A flip-invariant toy net: (N, C, H, W) -> (N, H) means over channels and columns."""

    def forward(self, images):
        return images.mean(dim=(1, 3))


class LeftColumn(nn.Module):
    """A net that sees mirroring: (N, C, H, W) -> (N, H) of the first column of channel 0."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, images):
        return self.scale * images[:, 0, :, 0]


def test_mirror_features_concatenate_the_image_and_its_mirror(generator):
    images = torch.randn(5, 3, 8, 6, generator=generator)
    net = LeftColumn()
    features = mirror_features(net, images, batch_size=2)
    assert features.shape == (5, 16)
    assert torch.equal(features[:, :8], images[:, 0, :, 0])
    assert torch.equal(features[:, 8:], images[:, 0, :, -1])
    assert not features.requires_grad and net.training  # no graph kept; mode restored


def test_a_flip_invariant_net_gives_equal_halves(generator):
    images = torch.randn(7, 3, 8, 6, generator=generator)
    features = mirror_features(ColumnMeans(), images, batch_size=3)
    assert features.shape == (7, 16)
    torch.testing.assert_close(features[:, :8], features[:, 8:])


def test_mirror_features_run_in_eval_mode():
    net = nn.Sequential(nn.Flatten(), nn.Dropout(p=0.9))
    images = torch.ones(4, 1, 2, 3)
    assert torch.equal(mirror_features(net, images), torch.ones(4, 12))


def test_cosine_similarity_of_rows():
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    b = torch.tensor([[0.0, 3.0], [2.0, 2.0], [-1.0, 0.0]])
    torch.testing.assert_close(cosine_similarity(a, b), torch.tensor([0.0, 1.0, -1.0]))


def test_best_threshold_on_a_hand_computed_example():
    # Sorted: 0.1 diff, 0.35 same, 0.4 diff, 0.8 same. Correct per cut: 2, 3, 2, 3, 2;
    # the first of the two best cuts lies between 0.1 and 0.35.
    scores = torch.tensor([0.1, 0.4, 0.35, 0.8])
    same = torch.tensor([False, False, True, True])
    threshold, accuracy = best_threshold(scores, same)
    assert threshold == pytest.approx(0.225) and accuracy == 0.75
    assert accuracy_at(scores, same, threshold) == 0.75


def test_best_threshold_never_splits_tied_scores():
    scores = torch.tensor([0.5, 0.5, 0.5, 0.9])
    same = torch.tensor([False, True, True, True])
    threshold, accuracy = best_threshold(scores, same)
    assert threshold == -math.inf and accuracy == 0.75


def test_best_threshold_can_reject_everything():
    threshold, accuracy = best_threshold(torch.tensor([0.2, 0.3]), torch.tensor([False, False]))
    assert threshold == math.inf and accuracy == 1.0


def separable_pairs(generator, num_folds=2, per_fold=50):
    same = torch.arange(num_folds * per_fold) % 2 == 0
    scores = torch.where(same, 0.6, 0.1) + 0.3 * torch.rand(len(same), generator=generator)
    fold = torch.arange(num_folds * per_fold) // per_fold + 1
    return scores, same, fold


@pytest.mark.parametrize("num_folds", [2, 3, 10])
def test_separable_scores_give_perfect_accuracy_and_auc(generator, num_folds):
    scores, same, fold = separable_pairs(generator, num_folds)
    result = kfold_accuracy(scores, same, fold)
    assert result.folds == tuple(range(1, num_folds + 1))
    assert result.accuracies == (1.0,) * num_folds and result.mean == 1.0 and result.std == 0.0
    assert all(0.4 <= threshold <= 0.6 for threshold in result.thresholds)
    assert roc_auc(scores, same) == 1.0


def test_each_fold_uses_the_threshold_of_the_other_folds():
    # Fold 2's best threshold (0.75) misses fold 1's 0.6 same pair; fold 1's (0.4) misses
    # fold 2's 0.7 different pair.
    scores = torch.tensor([0.2, 0.6, 0.9, 0.7, 0.8, 0.95])
    same = torch.tensor([False, True, True, False, True, True])
    fold = torch.tensor([1, 1, 1, 2, 2, 2])
    result = kfold_accuracy(scores, same, fold)
    assert result.thresholds == pytest.approx((0.75, 0.4))
    assert result.accuracies == pytest.approx((2 / 3, 2 / 3))
    assert result.mean == pytest.approx(2 / 3) and result.std == 0.0


def test_summary_statistics_follow_the_lfw_protocol():
    # Fold 1 takes fold 2's threshold (0.475) and misses its 0.45 same pair; fold 2 takes
    # fold 1's (0.275) and gets all four right.
    scores = torch.tensor([0.1, 0.45, 0.6, 0.7, 0.2, 0.25, 0.7, 0.8])
    same = torch.tensor([False, True, True, True, False, False, True, True])
    fold = torch.tensor([1, 1, 1, 1, 2, 2, 2, 2])
    result = kfold_accuracy(scores, same, fold)
    assert result.thresholds == pytest.approx((0.475, 0.275))
    assert result.accuracies == (0.75, 1.0)
    assert result.mean == pytest.approx(0.875)
    sample_std = math.sqrt(((0.75 - 0.875) ** 2 + (1.0 - 0.875) ** 2) / (2 - 1))
    assert result.std == pytest.approx(sample_std)
    assert result.standard_error == pytest.approx(sample_std / math.sqrt(2))


def test_kfold_needs_two_folds():
    with pytest.raises(ValueError, match="at least 2 folds"):
        kfold_accuracy(
            torch.rand(4), torch.tensor([True, False] * 2), torch.ones(4, dtype=torch.long)
        )


def test_roc_points_on_a_hand_computed_example():
    scores = torch.tensor([0.6, 0.9, 0.7, 0.8])
    same = torch.tensor([False, True, True, False])
    false_positive_rate, true_positive_rate, thresholds = roc_curve(scores, same)
    assert false_positive_rate.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert true_positive_rate.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert thresholds.tolist() == pytest.approx([math.inf, 0.9, 0.8, 0.7, 0.6])
    assert roc_auc(scores, same) == 0.75 == naive_auc(scores, same)


def test_roc_steps_diagonally_through_tied_scores():
    scores = torch.tensor([0.5, 0.5, 0.9])
    same = torch.tensor([True, False, True])
    false_positive_rate, true_positive_rate, _ = roc_curve(scores, same)
    assert false_positive_rate.tolist() == [0.0, 0.0, 1.0]
    assert true_positive_rate.tolist() == [0.0, 0.5, 1.0]
    assert roc_auc(scores, same) == 0.75 == naive_auc(scores, same)


def test_auc_matches_the_naive_pairwise_count_with_ties(generator):
    scores = torch.randint(0, 8, (300,), generator=generator).float() / 8  # many ties
    same = torch.rand(300, generator=generator) < scores * 0.8 + 0.1
    assert roc_auc(scores, same) == pytest.approx(naive_auc(scores, same), abs=1e-12)


def test_scores_independent_of_labels_give_auc_near_one_half(generator):
    scores = torch.rand(4000, generator=generator)
    same = torch.rand(4000, generator=generator) < 0.5
    assert abs(roc_auc(scores, same) - 0.5) < 0.03


def test_roc_needs_both_classes():
    with pytest.raises(ValueError, match="both same and different"):
        roc_curve(torch.rand(3), torch.ones(3, dtype=torch.bool))
