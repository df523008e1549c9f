"""The heads with cross-entropy against pytorch-metric-learning's losses, in float64.

A-Softmax (lambda = 0) against ``SphereFaceLoss`` (scale 1, m = 1..5), CosFace against
``CosFaceLoss`` and ArcFace against ``ArcFaceLoss`` (same s and m): the loss and its gradients
with respect to the features and the class weights.

How pytorch-metric-learning (2.9, losses/large_margin_softmax_loss.py and the three subclasses)
is set up so that the two compute the same function:

- Its class weights ``W`` are (D, C), the heads' ``weight`` (C, D): ``W`` is set to the head's
  weight transposed, and its gradient is compared transposed.
- ``CosineSimilarity`` normalises the features and the columns of ``W``, as the heads normalise
  the rows of ``weight``; a target cosine is replaced by the margin function and the other
  logits stay cosines.
- ``SphereFaceLoss.scale_logits`` multiplies every logit by ||x|| * scale: with scale 1 that is
  ||x|| cos(theta_j), and ||x|| psi(theta_y) for the target, A-Softmax without annealing
  (lambda = 0; the library has no lambda). Its psi uses the binomial expansion of cos(m theta)
  and k = floor(theta / (pi / m)) from ``acos``; the head uses the Chebyshev recursion and k from
  comparisons of cos theta, so the two agree to rounding, away from the interval boundaries.
- ``CosFaceLoss`` and ``ArcFaceLoss`` multiply every logit by ``scale`` alone; the heads scale the
  normalised feature by s, which gives the same logits.
- ``ArcFaceLoss`` takes its margin in degrees (``init_margin``: ``np.radians``): the head is built
  with the margin in radians that pml computes.
- pml's default reducer (``MeanReducer``) averages the per-sample cross-entropy, as
  ``F.cross_entropy`` does.

Every case agrees to float64 rounding (largest relative difference seen: 1.4e-13, in the
ArcFace gradients); no configuration needed a looser comparison.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from pytorch_metric_learning.losses import ArcFaceLoss, CosFaceLoss, SphereFaceLoss

from sphereface_lib.heads import build_head
from sphereface_lib.maths.margins import margin_interval

# pml 2.9 builds its binomial coefficients with scipy on tensors, which NumPy 2 warns about.
pytestmark = pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context")

DIM, CLASSES = 5, 4
TOLERANCE = {"rtol": 1e-12, "atol": 1e-13}


def features_at_angles(weight, labels, angles, norms, generator):
    """Features (N, D) at exactly ``angles`` (N,) from their class weight row, norms (N,)."""
    directions = F.normalize(weight[labels], dim=1)
    other = torch.randn(len(labels), weight.shape[1], generator=generator, dtype=torch.float64)
    other = other - (other * directions).sum(1, keepdim=True) * directions
    other = F.normalize(other, dim=1)
    unit = angles.cos()[:, None] * directions + angles.sin()[:, None] * other
    return norms[:, None] * unit


def angles_in_every_interval(m, generator, per_interval=3):
    """Angles inside each interval [k pi / m, (k + 1) pi / m), k = 0..m-1, kept off the ends."""
    k = torch.arange(m, dtype=torch.float64).repeat_interleave(per_interval)
    position = 0.1 + 0.8 * torch.rand(len(k), generator=generator, dtype=torch.float64)
    return (k + position) * math.pi / m


def compare(head, loss_function, angles, generator, lam=0.0):
    """Loss and gradients of head + cross-entropy against the pml loss on the same inputs."""
    labels = torch.randint(0, CLASSES, (len(angles),), generator=generator)
    norms = 0.5 + 2.5 * torch.rand(len(angles), generator=generator, dtype=torch.float64)
    weight = head.weight.detach()
    features = features_at_angles(weight, labels, angles, norms, generator)

    ours_features = features.clone().requires_grad_(True)
    ours = F.cross_entropy(head(ours_features, labels, lam), labels)
    ours.backward()

    loss_function.W = torch.nn.Parameter(weight.T.clone())  # (D, C)
    pml_features = features.clone().requires_grad_(True)
    theirs = loss_function(pml_features, labels)
    theirs.backward()

    torch.testing.assert_close(ours, theirs, **TOLERANCE)
    torch.testing.assert_close(ours_features.grad, pml_features.grad, **TOLERANCE)
    torch.testing.assert_close(head.weight.grad, loss_function.W.grad.T, **TOLERANCE)
    return features, labels


def head_in_float64(kind, **options):
    torch.manual_seed(11)
    head = build_head(kind, DIM, CLASSES, **options).double()
    with torch.no_grad():  # rows of different norms: the normalisation must be compared too
        head.weight.mul_(torch.linspace(0.5, 3.0, CLASSES, dtype=torch.float64)[:, None])
    return head


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5])
def test_angular_head_equals_sphereface_loss(m):
    generator = torch.Generator().manual_seed(m)
    head = head_in_float64("angular", margin=m)
    angles = angles_in_every_interval(m, generator)
    loss_function = SphereFaceLoss(num_classes=CLASSES, embedding_size=DIM, margin=m, scale=1)
    features, labels = compare(head, loss_function, angles, generator)
    # The inputs cover every interval k = 0..m-1 of psi (Eq. 7).
    cos_target = F.cosine_similarity(features, head.weight.detach()[labels], dim=1)
    assert set(margin_interval(cos_target, m).long().tolist()) == set(range(m))


@pytest.mark.parametrize(("scale", "margin"), [(16.0, 0.35), (30.0, 0.1), (64.0, 0.5)])
def test_cosface_head_equals_cosface_loss(scale, margin):
    generator = torch.Generator().manual_seed(int(scale))
    head = head_in_float64("cosface", scale=scale, margin=margin)
    angles = angles_in_every_interval(4, generator)  # anywhere in (0, pi)
    loss_function = CosFaceLoss(num_classes=CLASSES, embedding_size=DIM, margin=margin, scale=scale)
    compare(head, loss_function, angles, generator)


@pytest.mark.parametrize(("scale", "degrees"), [(16.0, 28.6), (64.0, 10.0), (30.0, 60.0)])
def test_arcface_head_equals_arcface_loss(scale, degrees):
    generator = torch.Generator().manual_seed(int(degrees))
    loss_function = ArcFaceLoss(
        num_classes=CLASSES, embedding_size=DIM, margin=degrees, scale=scale
    )
    margin = float(loss_function.margin)  # pml converts degrees to radians
    assert margin == pytest.approx(math.radians(degrees))
    head = head_in_float64("arcface", scale=scale, margin=margin)
    # Both branches: cos(theta + m) up to theta = pi - m, and cos theta - m sin m beyond.
    below = torch.linspace(0.05, math.pi - margin - 0.05, 6, dtype=torch.float64)
    beyond = torch.linspace(math.pi - margin + 0.05, math.pi - 0.05, 4, dtype=torch.float64)
    compare(head, loss_function, torch.cat([below, beyond]), generator)
