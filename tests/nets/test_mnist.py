"""The MNIST networks: mnist_sphere20 is SphereFace-20 on grey 28 x 28 digits (shapes and
gradients of every net: test_registry.py)."""

from sphereface_lib.nets import build_net, count_parameters
from tests.nets.test_sphere import derived_parameters


def test_mnist_sphere20_is_sphereface_20_on_grey_28x28():
    # Stages at 14, 7, 4, 2 pixels: the fc layer sees 512 x 2 x 2 features.
    net = build_net("mnist_sphere20", 2)
    expected = derived_parameters(20, in_channels=1, fc_inputs=512 * 2 * 2) - (512 * 4 * 512 + 512)
    expected += 512 * 4 * 2 + 2
    assert count_parameters(net) == expected == 11_663_042
