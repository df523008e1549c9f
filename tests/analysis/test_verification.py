"""LFW verification: mirrored features, threshold choice, k-fold accuracy, ROC and AUC."""

import math

import pytest
import torch
from torch import nn

from sphereface_lib.analysis.verification import (
    PROTOCOLS,
    accuracy_at,
    best_threshold,
    centred_cosine_similarity,
    cosine_similarity,
    kfold_accuracy,
    kfold_protocols,
    mirror_features,
    official_accuracy_at,
    official_kfold_accuracy,
    official_threshold,
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


# -- the official protocol (wy1iu/sphereface test/code/evaluation.m) --------------------------


def naive_official_protocol(first, second, same, fold, centre=True):
    """evaluation.m written out with loops over folds, features, grid points and pairs, in
    Python floats (float64): per test fold, mu = mean of the other folds' left and right
    features (lines 63-65), subtracted, L2-normalised (66-67), cosine (70); threshold = mean of
    the grid points (-10000:10000)/10000 of best accuracy on the other folds (115-122);
    accuracy = same pairs above plus different pairs below the threshold (124-127).
    Returns (accuracies, thresholds) per fold in increasing fold order."""
    first = first.double().tolist()
    second = second.double().tolist()
    same = [bool(value) for value in same]
    fold = [int(value) for value in fold]
    pairs, dimension = len(same), len(first[0])
    accuracies, thresholds = [], []
    for test_fold in sorted(set(fold)):
        train = [i for i in range(pairs) if fold[i] != test_fold]
        test = [i for i in range(pairs) if fold[i] == test_fold]
        mu = [0.0] * dimension
        if centre:
            for d in range(dimension):
                total = sum(first[i][d] for i in train) + sum(second[i][d] for i in train)
                mu[d] = total / (2 * len(train))
        scores = []
        for i in range(pairs):
            a = [first[i][d] - mu[d] for d in range(dimension)]
            b = [second[i][d] - mu[d] for d in range(dimension)]
            norm_a = math.sqrt(sum(v * v for v in a))
            norm_b = math.sqrt(sum(v * v for v in b))
            scores.append(sum((x / norm_a) * (y / norm_b) for x, y in zip(a, b, strict=True)))

        def right(indices, threshold, scores=scores):
            return sum(
                1
                for i in indices
                if (same[i] and scores[i] > threshold) or (not same[i] and scores[i] < threshold)
            )

        best, best_thresholds = -1, []
        for step in range(-10_000, 10_001):
            threshold = step / 10_000
            count = right(train, threshold)
            if count > best:
                best, best_thresholds = count, [threshold]
            elif count == best:
                best_thresholds.append(threshold)
        threshold = sum(best_thresholds) / len(best_thresholds)
        thresholds.append(threshold)
        accuracies.append(right(test, threshold) / len(test))
    return accuracies, thresholds


def offset_identity_features(generator, num_folds=4, per_fold=10, dimension=6, offset=4.0):
    """Pair features around a large common offset: raw cosines crowd near 1, centred ones do
    not. Half the pairs share an identity direction; every feature carries noise."""
    pairs = num_folds * per_fold
    identities = torch.nn.functional.normalize(
        torch.randn(pairs, dimension, generator=generator, dtype=torch.float64), dim=1
    )
    others = torch.nn.functional.normalize(
        torch.randn(pairs, dimension, generator=generator, dtype=torch.float64), dim=1
    )
    same = torch.arange(pairs) % 2 == 0
    common = torch.full((dimension,), offset / math.sqrt(dimension), dtype=torch.float64)
    noise = 0.6 * torch.randn(2, pairs, dimension, generator=generator, dtype=torch.float64)
    first = common + identities + noise[0]
    second = common + torch.where(same[:, None], identities, others) + noise[1]
    fold = torch.arange(pairs) // per_fold + 1
    return first.float(), second.float(), same, fold


def test_official_protocol_matches_the_naive_loops_where_centring_matters(generator):
    first, second, same, fold = offset_identity_features(generator)
    result = official_kfold_accuracy(first, second, same, fold)
    accuracies, thresholds = naive_official_protocol(first, second, same, fold)
    assert result.folds == (1, 2, 3, 4)
    assert result.accuracies == pytest.approx(accuracies, abs=1e-12)
    assert result.thresholds == pytest.approx(thresholds, abs=1e-12)
    # The data are such that centring changes the answer (else this test would not show that
    # the mean is subtracted): the same rule without centring scores differently.
    uncentred, _ = naive_official_protocol(first, second, same, fold, centre=False)
    assert uncentred != pytest.approx(accuracies)
    assert result.mean == pytest.approx(sum(accuracies) / 4)


def test_the_plain_and_official_protocols_differ_on_the_same_features(generator):
    first, second, same, fold = offset_identity_features(generator)
    results = kfold_protocols(first, second, same, fold)
    assert tuple(results) == PROTOCOLS == ("official", "plain")
    plain = kfold_accuracy(cosine_similarity(first, second), same, fold)
    assert results["plain"] == plain
    assert results["official"] == official_kfold_accuracy(first, second, same, fold)
    assert results["official"].accuracies != plain.accuracies


def test_official_threshold_is_the_mean_of_every_best_grid_point():
    # Sorted: -0.5 different, -0.3 same, 0.2 different, 0.6 same. Three of four are right for
    # thresholds in (-0.5, -0.3) (grid -0.4999 ... -0.3001, 1,999 points, mean -0.4) and in
    # (0.2, 0.6) (0.2001 ... 0.5999, 3,999 points, mean 0.4): the official threshold is the mean
    # of all 5,998, 800 / 5998 = 0.1334, where only two of four are right. The plain protocol
    # takes the lowest best cut, -0.4. (float64: the grid points equal to a score must be the
    # same doubles, as in MATLAB.)
    scores = torch.tensor([-0.5, -0.3, 0.2, 0.6], dtype=torch.float64)
    same = torch.tensor([False, True, False, True])
    assert official_threshold(scores, same) == pytest.approx(800 / 5998, abs=1e-12)
    assert official_accuracy_at(scores, same, 800 / 5998) == 0.5
    assert best_threshold(scores, same) == pytest.approx((-0.4, 0.75))


def test_official_threshold_of_separable_scores_is_the_middle_of_the_gap():
    scores = torch.tensor([-0.2, 0.1, 0.5, 0.7], dtype=torch.float64)
    same = torch.tensor([False, False, True, True])
    assert official_threshold(scores, same) == pytest.approx(0.3, abs=1e-12)


def test_a_score_at_the_threshold_is_wrong_either_way():
    scores = torch.tensor([0.5, 0.5, 0.8, 0.1])
    same = torch.tensor([True, False, True, False])
    assert official_accuracy_at(scores, same, 0.5) == 0.5  # the two at 0.5 are both wrong
    assert accuracy_at(scores, same, 0.5) == 0.75  # plain: "same iff score > threshold"


def test_centring_uses_both_images_of_the_reference_pairs_only():
    first = torch.tensor([[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]])
    second = torch.tensor([[0.0, 1.0], [5.0, 2.0], [-7.0, 3.0]])
    reference = torch.tensor([True, True, False])
    mean = torch.tensor([9.0, 7.0], dtype=torch.float64) / 4  # of the four reference features
    expected = cosine_similarity(first.double() - mean, second.double() - mean)
    torch.testing.assert_close(
        centred_cosine_similarity(first, second, reference), expected, rtol=0, atol=1e-15
    )
    with pytest.raises(ValueError, match="at least one pair"):
        centred_cosine_similarity(first, second, torch.zeros(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="equals the mean"):
        centred_cosine_similarity(first[:1], first[:1], torch.tensor([True]))
