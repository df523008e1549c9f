"""CosFace and ArcFace against the naive oracle, their gradients and their errors."""

import math

import pytest
import torch

from sphereface_lib.heads import build_head
from tests.heads.oracle import naive_normalized_logits

CASES = [("cosface", 0.35), ("cosface", 0.1), ("arcface", 0.5), ("arcface", 0.2), ("arcface", 1.2)]


def make(kind, dim, margin, scale=16.0, classes=10, dtype=torch.float64):
    torch.manual_seed(3)
    head = build_head(kind, dim, classes, scale=scale, margin=margin).to(dtype)
    features = torch.randn(9, dim, dtype=dtype) * 2
    labels = torch.randint(0, classes, (9,))
    return head, features, labels


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("dim", [2, 3, 512])
@pytest.mark.parametrize(("kind", "margin"), CASES)
@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_matches_the_naive_oracle(dtype, dim, kind, margin, lam):
    head, features, labels = make(kind, dim, margin, dtype=dtype)
    expected = naive_normalized_logits(
        features, head.weight.detach(), kind, labels, 16.0, margin, lam
    )
    tolerance = 1e-9 if dtype == torch.float64 else 2e-4 * 16
    torch.testing.assert_close(
        head(features, labels, lam).double(), expected, rtol=tolerance, atol=tolerance
    )


@pytest.mark.parametrize(("kind", "margin"), CASES)
def test_without_labels_logits_are_scaled_cosines(kind, margin):
    head, features, _ = make(kind, 3, margin)
    expected = naive_normalized_logits(features, head.weight.detach(), kind, None, 16.0, margin)
    torch.testing.assert_close(head(features), expected)


@pytest.mark.parametrize(("kind", "margin"), CASES)
def test_the_target_function_decreases_with_the_angle(kind, margin):
    head = build_head(kind, 2, 2, scale=1.0, margin=margin).double()
    theta = torch.linspace(0, math.pi, 2001, dtype=torch.float64)
    values = head.margin_cos(theta.cos())
    assert ((values[1:] - values[:-1]) <= 1e-12).all()
    assert (values <= theta.cos() + 1e-12).all(), "a margin never raises the target"


@pytest.mark.parametrize(("kind", "margin"), CASES)
def test_gradcheck_in_float64(kind, margin):
    head, features, labels = make(kind, 3, margin, classes=4)
    features.requires_grad_(True)
    weight = head.weight.detach().clone().requires_grad_(True)

    def logits(x, w):
        return torch.func.functional_call(head, {"weight": w}, (x, labels, 0.5))

    assert torch.autograd.gradcheck(logits, (features, weight))


@pytest.mark.parametrize(("kind", "margin"), CASES)
@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_gradients_are_finite_at_parallel_and_antiparallel_features(kind, margin, direction):
    head = build_head(kind, 3, 4, margin=margin).double()
    labels = torch.tensor([1, 3])
    features = (direction * head.weight.detach()[labels]).clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(head(features, labels), labels).backward()
    assert torch.isfinite(features.grad).all() and torch.isfinite(head.weight.grad).all()


@pytest.mark.parametrize("kind", ["cosface", "arcface"])
@pytest.mark.parametrize("option", [{"scale": 0}, {"scale": -1.0}, {"margin": 0}, {"margin": 2.5}])
def test_bad_scale_or_margin_is_a_value_error(kind, option):
    with pytest.raises(ValueError, match="must be a number in"):
        build_head(kind, 2, 10, **option)
