"""Mixed precision: the heads compute in their weight's dtype whatever the autocast state and
whatever the dtype of the features (issue 15: psi with m = 4 amplifies a bf16 cosine's error)."""

import pytest
import torch
import torch.nn.functional as F

from sphereface_lib.heads import build_head

OPTIONS = {
    "original": {},
    "modified": {},
    "angular": {"margin": 4},
    "cosface": {"scale": 16.0, "margin": 0.35},
    "arcface": {"scale": 16.0, "margin": 0.5},
}
LAMBDA = 0.5  # a little annealing: psi carries most of the target logit


def head_and_inputs(kind, dim=64, classes=40):
    torch.manual_seed(0)
    head = build_head(kind, dim, classes, **OPTIONS[kind])
    features = torch.randn(32, dim) * 4
    labels = torch.randint(0, classes, (32,))
    return head, features, labels


def logits_and_gradients(head, features, labels, autocast):
    """Logits, d(loss)/d(features) and d(loss)/d(weight), with the head under ``autocast``."""
    head.zero_grad(set_to_none=True)
    features = features.detach().requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        logits = head(features, labels, LAMBDA)
    loss = F.cross_entropy(logits.float(), labels)
    (feature_grad,) = torch.autograd.grad(loss, features, retain_graph=True)
    loss.backward()
    return logits, feature_grad, head.weight.grad


@pytest.mark.parametrize("kind", list(OPTIONS))
def test_under_bf16_autocast_the_head_gives_its_float32_outputs_and_gradients(kind):
    head, features, labels = head_and_inputs(kind)
    expected = logits_and_gradients(head, features, labels, autocast=False)
    under_autocast = logits_and_gradients(head, features, labels, autocast=True)
    assert under_autocast[0].dtype == torch.float32
    for got, want in zip(under_autocast, expected, strict=True):
        torch.testing.assert_close(got, want)  # float32 tolerances


@pytest.mark.parametrize("kind", list(OPTIONS))
def test_bf16_features_of_an_autocast_backbone_are_computed_on_in_float32(kind):
    head, features, labels = head_and_inputs(kind)
    low = features.bfloat16()
    expected = logits_and_gradients(head, low.float(), labels, autocast=False)
    got = logits_and_gradients(head, low, labels, autocast=True)
    torch.testing.assert_close(got[0], expected[0])
    assert got[1].dtype == torch.bfloat16  # the gradient goes back in the features' dtype
    torch.testing.assert_close(got[1], expected[1].bfloat16())
    torch.testing.assert_close(got[2], expected[2])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_features_of_another_floating_dtype_are_cast_to_the_weights(dtype):
    head, features, labels = head_and_inputs("angular")
    features = features.to(dtype)
    logits = head(features, labels, LAMBDA)
    assert logits.dtype == torch.float32
    torch.testing.assert_close(logits, head(features.float(), labels, LAMBDA))
    double = head.double()
    assert double(features, labels, LAMBDA).dtype == torch.float64
