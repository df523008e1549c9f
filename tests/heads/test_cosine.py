"""The hand-written backward of the cosine logits against autograd on the plain formula."""

import pytest
import torch

from sphereface_lib.heads.cosine import WEIGHT_NORM_EPS, cosine_logits, cosine_logits_with_target


def reference(features, weight, labels):
    """Eq. 5 written out for autograd: x W_j / max(||W_j||, eps), and the target column."""
    logits = (features @ weight.T) / weight.norm(dim=1).clamp_min(WEIGHT_NORM_EPS)
    return logits, logits.gather(1, labels[:, None])[:, 0]


def inputs(samples=6, dim=5, classes=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(samples, dim, dtype=torch.float64, generator=generator)
    # Rows of very different norms, so that the normalisation's gradient matters.
    scales = torch.logspace(-1, 1, classes, dtype=torch.float64)[:, None]
    weight = torch.randn(classes, dim, dtype=torch.float64, generator=generator) * scales
    # Repeated classes: the target gradient of several samples lands in one row.
    labels = torch.tensor([0, 2, 2, 3, 0, 2])[:samples]
    return features.requires_grad_(), weight.requires_grad_(), labels


def test_gradcheck_of_logits_and_target_logits():
    features, weight, labels = inputs()
    assert torch.autograd.gradcheck(
        lambda x, w: cosine_logits_with_target(x, w, labels), (features, weight)
    )


def test_values_and_gradients_equal_autograd_on_the_formula():
    features, weight, labels = inputs(samples=6, dim=7, classes=4, seed=3)
    upstream = torch.randn(6, 4, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    ours = cosine_logits_with_target(features, weight, labels)
    theirs = reference(features, weight, labels)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    grads = torch.autograd.grad(
        sum((o * u).sum() for o, u in zip(ours, upstream, strict=True)), (features, weight)
    )
    expected = torch.autograd.grad(
        sum((t * u).sum() for t, u in zip(theirs, upstream, strict=True)), (features, weight)
    )
    for a, b in zip(grads, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_a_zero_weight_row_gives_zero_logits_and_finite_gradients():
    features, weight, labels = inputs()
    weight = weight.detach().clone()
    weight[1] = 0.0
    weight.requires_grad_()
    logits = cosine_logits(features, weight)
    assert torch.equal(logits[:, 1], torch.zeros(6, dtype=torch.float64))
    (grad,) = torch.autograd.grad(logits.sum(), weight)
    (expected,) = torch.autograd.grad(reference(features, weight, labels)[0].sum(), weight)
    assert torch.isfinite(grad).all()
    torch.testing.assert_close(grad, expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_logits_can_take_an_in_place_correction(dtype):
    """Margin heads add to the returned logits in place; backward must not need them."""
    features, weight, labels = inputs()
    features = features.detach().to(dtype).requires_grad_()
    weight = weight.detach().to(dtype).requires_grad_()
    logits, target = cosine_logits_with_target(features, weight, labels)
    shifted = logits.scatter_add_(1, labels[:, None], -target[:, None])
    shifted.sum().backward()
    assert torch.isfinite(features.grad).all() and torch.isfinite(weight.grad).all()
