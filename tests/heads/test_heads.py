"""The three heads against the naive oracle, their gradients, and their errors."""

import math

import numpy as np
import pytest
import torch

from sphereface_lib.heads import HEADS, build_head
from tests.heads.oracle import naive_logits

MARGINS = [1, 2, 3, 4, 5]
LAMBDAS = [0.0, 0.5, 5.0, 1000.0]
# Per-dtype tolerances of the oracle comparisons.
TOLERANCE = {
    torch.float64: {"rtol": 1e-9, "atol": 1e-9},
    torch.float32: {"rtol": 2e-4, "atol": 2e-4},
}


def make(kind, dim, classes=10, dtype=torch.float64, seed=0, **options):
    torch.manual_seed(seed)
    head = build_head(kind, dim, classes, **options).to(dtype)
    features = torch.randn(7, dim, dtype=dtype) * 3
    labels = torch.randint(0, classes, (7,))
    return head, features, labels


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("dim", [2, 3, 512])
@pytest.mark.parametrize("m", MARGINS)
@pytest.mark.parametrize("lam", LAMBDAS)
def test_angular_matches_the_naive_oracle(dtype, dim, m, lam):
    head, features, labels = make("angular", dim, dtype=dtype, margin=m)
    expected = naive_logits(features, head.weight.detach(), "angular", labels, m, lam)
    torch.testing.assert_close(head(features, labels, lam).double(), expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("dim", [2, 3, 512])
@pytest.mark.parametrize("kind", ["original", "modified", "angular"])
def test_logits_without_labels_are_margin_free(dim, kind):
    head, features, _ = make(kind, dim)
    bias = getattr(head, "bias", None)
    bias = None if bias is None else bias.detach()
    plain = "original" if kind == "original" else "modified"
    expected = naive_logits(features, head.weight.detach(), plain, bias=bias)
    torch.testing.assert_close(head(features), expected, **TOLERANCE[torch.float64])


@pytest.mark.parametrize("kind", ["original", "modified"])
def test_margin_free_heads_ignore_labels_and_lambda(kind):
    head, features, labels = make(kind, 3)
    torch.testing.assert_close(head(features, labels, 7.0), head(features), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_margin_one_without_annealing_equals_modified_exactly(dtype):
    angular, features, labels = make("angular", 5, dtype=dtype, margin=1)
    modified = build_head("modified", 5, 10).to(dtype)
    modified.load_state_dict(angular.state_dict())
    assert torch.equal(angular(features, labels, 0.0), modified(features, labels))


@pytest.mark.parametrize("m", [2, 3, 4, 5])
def test_only_the_target_logit_carries_the_margin(m):
    head, features, labels = make("angular", 3, margin=m)
    with_margin, plain = head(features, labels), head(features)
    changed = with_margin != plain
    target = torch.zeros_like(changed)
    target[torch.arange(len(labels)), labels] = True
    assert not (changed & ~target).any()
    # psi(theta) <= cos(theta), so the margin can only lower the target logit.
    assert (with_margin[target] <= plain[target] + 1e-12).all()


def test_forward_does_not_mutate_the_weight():
    head, features, labels = make("angular", 3)
    before = head.weight.detach().clone()
    head(features, labels).sum().backward()
    assert torch.equal(head.weight.detach(), before)
    assert not torch.allclose(before.norm(dim=1), torch.ones(10, dtype=before.dtype))


@pytest.mark.parametrize(
    ("kind", "options", "lam"),
    [
        ("original", {}, 0.0),
        ("modified", {}, 0.0),
        *[("angular", {"margin": m}, lam) for m in MARGINS for lam in (0.0, 2.0)],
    ],
)
def test_gradcheck_in_float64(kind, options, lam):
    head, features, labels = make(kind, 3, classes=4, **options)
    features.requires_grad_(True)
    weight = head.weight.detach().clone().requires_grad_(True)

    assert torch.autograd.gradcheck(
        lambda x, w: _with_weight(head, w, x, labels, lam), (features, weight)
    )


def _with_weight(head, weight, features, labels, lam):
    """The head as a function of its weight, via a functional call."""
    return torch.func.functional_call(
        head, {**dict(head.named_parameters()), "weight": weight}, (features, labels, lam)
    )


@pytest.mark.parametrize("m", MARGINS)
@pytest.mark.parametrize("lam", [0.0, 5.0])
@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_gradients_are_finite_at_parallel_and_antiparallel_features(m, lam, direction):
    head = build_head("angular", 3, 4, margin=m).double()
    labels = torch.tensor([0, 2])
    features = (direction * 2.5 * head.weight.detach()[labels]).clone().requires_grad_(True)
    logits = head(features, labels, lam)
    torch.nn.functional.cross_entropy(logits, labels).backward()
    assert torch.isfinite(logits).all()
    assert torch.isfinite(features.grad).all()
    assert torch.isfinite(head.weight.grad).all()


@pytest.mark.parametrize("kind", list(HEADS))
def test_every_parameter_gets_a_gradient(kind):
    head, features, labels = make(kind, 3)
    torch.nn.functional.cross_entropy(head(features, labels, 1.0), labels).backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("margin", [0, 2.5, -3, "4"])
def test_bad_margin_is_a_value_error(margin):
    with pytest.raises(ValueError, match="margin must be an integer >= 1"):
        build_head("angular", 2, 10, margin=margin)


@pytest.mark.parametrize("bad_label", [-1, 10])
@pytest.mark.parametrize("kind", list(HEADS))
def test_labels_out_of_range_are_a_value_error(kind, bad_label):
    head, features, labels = make(kind, 3)
    labels[2] = bad_label
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        head(features, labels)


@pytest.mark.parametrize("kind", list(HEADS))
def test_wrong_feature_dimension_is_a_value_error(kind):
    head, _, labels = make(kind, 3)
    with pytest.raises(
        ValueError, match="features have dimension 4 but this head was built for embedding_dim=3"
    ):
        head(torch.randn(7, 4, dtype=torch.float64), labels)
    with pytest.raises(ValueError, match="2-D tensor"):
        head(torch.randn(3, dtype=torch.float64))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("kind", list(HEADS))
def test_non_finite_features_are_a_value_error(kind, bad):
    head, features, labels = make(kind, 3)
    features[1, 0] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        head(features, labels)


@pytest.mark.parametrize(
    "lam",
    [-0.1, math.nan, math.inf, True, "5", 1j, np.float32(-1), torch.tensor([5.0]), None],
    ids=repr,
)
def test_bad_lambda_is_a_value_error(lam):
    head, features, labels = make("angular", 3)
    with pytest.raises(ValueError, match="lam must be a finite real number >= 0"):
        head(features, labels, lam)


@pytest.mark.parametrize(
    "lam",
    [np.float32(5.0), np.float64(5.0), np.int64(5), 5, torch.tensor(5.0), torch.tensor(5)],
    ids=repr,
)
def test_lambda_may_be_any_real_scalar(lam):
    head, features, labels = make("angular", 3)
    assert torch.equal(head(features, labels, lam), head(features, labels, 5.0))


def test_labels_of_the_wrong_length_or_type_are_a_value_error():
    head, features, labels = make("angular", 3)
    with pytest.raises(ValueError, match="length N=7"):
        head(features, labels[:5])
    with pytest.raises(ValueError, match="integer tensor"):
        head(features, labels.float())


def test_unknown_head_or_option_is_a_value_error():
    with pytest.raises(ValueError, match="unknown head 'cos'"):
        build_head("cos", 2, 10)
    with pytest.raises(ValueError, match="does not take options"):
        build_head("original", 2, 10, margin=4)
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer"):
        build_head("modified", 0, 10)
