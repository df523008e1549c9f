import pytest
import torch

from sphereface_lib.nets import build_net, count_parameters
from tests.nets.test_sphere import derived_parameters


@pytest.mark.parametrize("name", ["mnist_small", "mnist_sphere20"])
@pytest.mark.parametrize("dim", [2, 3, 32])
def test_output_shape(name, dim):
    net = build_net(name, dim)
    assert net(torch.randn(4, 1, 28, 28)).shape == (4, dim)


@pytest.mark.parametrize("name", ["mnist_small", "mnist_sphere20"])
def test_every_parameter_gets_a_gradient(name):
    torch.manual_seed(0)
    net = build_net(name, 2)
    net(torch.randn(8, 1, 28, 28)).square().sum().backward()
    for parameter_name, parameter in net.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, parameter_name


def test_mnist_sphere20_is_sphereface_20_on_grey_28x28():
    # Stages at 14, 7, 4, 2 pixels: the fc layer sees 512 x 2 x 2 features.
    net = build_net("mnist_sphere20", 2)
    expected = derived_parameters(20, in_channels=1, fc_inputs=512 * 2 * 2) - (512 * 4 * 512 + 512)
    expected += 512 * 4 * 2 + 2
    assert count_parameters(net) == expected == 11_663_042
