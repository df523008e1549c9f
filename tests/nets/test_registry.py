"""Every network of the registry (``sphereface_lib.nets.NETS``), the ones the book trains
included: output shape, a gradient for every parameter, and no NaN or infinity, also for inputs
that are all zero or far out of the training range."""

import pytest
import torch

from sphereface_lib.nets import NET_INPUTS, NETS, build_net

# Two images: the batch norm of mnist_small needs more than one value per channel.
BATCH = 2


def images(name, scale=1.0, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(BATCH, *NET_INPUTS[name], generator=generator)


@pytest.mark.parametrize("name", sorted(NETS))
@pytest.mark.parametrize("dimension", [2, 3, 512])
def test_every_net_gives_features_of_the_asked_dimension(name, dimension):
    net = build_net(name, dimension).eval()
    with torch.no_grad():
        features = net(images(name))
    assert features.shape == (BATCH, dimension) and features.dtype == torch.float32


@pytest.mark.parametrize("name", sorted(NETS))
def test_every_parameter_of_every_net_gets_a_finite_gradient(name):
    torch.manual_seed(0)
    net = build_net(name, 3)
    features = net(images(name))
    assert torch.isfinite(features).all()
    features.square().sum().backward()
    for parameter_name, parameter in net.named_parameters():
        assert parameter.grad is not None, parameter_name
        assert torch.isfinite(parameter.grad).all(), parameter_name
        assert parameter.grad.abs().sum() > 0, parameter_name


@pytest.mark.parametrize("name", sorted(NETS))
@pytest.mark.parametrize("kind", ["zeros", "large"])
def test_no_nan_for_blank_or_extreme_images(name, kind):
    torch.manual_seed(0)
    net = build_net(name, 3)
    batch = torch.zeros(BATCH, *NET_INPUTS[name]) if kind == "zeros" else images(name, 1e3)
    batch.requires_grad_(True)
    features = net(batch)
    features.sum().backward()
    assert torch.isfinite(features).all()
    assert torch.isfinite(batch.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
