"""The optimiser's parameter groups: uniform, and the official prototxts' bias treatment."""

import pytest
import torch
from torch import nn

from sphereface_lib.heads import build_head
from sphereface_lib.nets import build_net
from sphereface_lib.training import train
from sphereface_lib.training.config import preset
from sphereface_lib.training.optim import build_optimizer, parameter_groups, set_learning_rate

# The bias lr_mult of every convolution of train/code/sphereface_model.prototxt (SphereFace-20),
# in the order of the file, then fc5: conv1_1 (2), conv1_2-1_3 (0), conv2_1 (2), conv2_2-2_5 (0),
# conv3_1 (2), conv3_2-3_9 (0), conv4_1 (2), conv4_2-4_3 (0), fc5 (2). Every bias has
# decay_mult 0, every weight lr_mult 1 and decay_mult 1.
SPHERE20_BIAS_LR_MULTS = [2, 0, 0] + [2] + [0] * 4 + [2] + [0] * 8 + [2, 0, 0] + [2]


def official(**overrides):
    return preset("full", bias_treatment="official", net="sphere20", dataset="lfw", **overrides)


def sphere20_and_head(head="angular", embedding_dim=8, num_classes=5):
    torch.manual_seed(0)
    net = build_net("sphere20", embedding_dim)
    return net, build_head(head, embedding_dim, num_classes)


def group_of(groups):
    """id(parameter) -> its group."""
    return {id(p): group for group in groups for p in group["params"]}


def test_uniform_is_one_group_of_every_parameter_in_order():
    net, head = sphere20_and_head()
    config = preset("full", dataset="lfw", net="sphere20")
    assert config.bias_treatment == "uniform"
    groups = parameter_groups(net, head, config)
    assert len(groups) == 1 and groups[0]["lr_mult"] == 1.0
    assert [id(p) for p in groups[0]["params"]] == [
        id(p) for p in [*net.parameters(), *head.parameters()]
    ]
    optimizer = build_optimizer(net, head, config)
    assert optimizer.param_groups[0]["weight_decay"] == config.weight_decay
    assert all(p.requires_grad for p in net.parameters())


def test_official_biases_follow_the_sphereface_20_prototxt():
    net, head = sphere20_and_head()
    config = official()
    groups = group_of(parameter_groups(net, head, config))
    layers = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert len(layers) == len(SPHERE20_BIAS_LR_MULTS)  # 20 convolutions and fc5
    for layer, lr_mult in zip(layers, SPHERE20_BIAS_LR_MULTS, strict=True):
        assert groups[id(layer.bias)]["lr_mult"] == lr_mult
        assert groups[id(layer.bias)]["weight_decay"] == 0.0
        assert groups[id(layer.weight)]["lr_mult"] == 1.0
        assert groups[id(layer.weight)]["weight_decay"] == config.weight_decay
    # PReLU slopes and the A-Softmax weights: Caffe's defaults, lr x1 with weight decay.
    others = [m.weight for m in net.modules() if isinstance(m, nn.PReLU)] + [head.weight]
    for parameter in others:
        assert groups[id(parameter)]["lr_mult"] == 1.0
        assert groups[id(parameter)]["weight_decay"] == config.weight_decay
    # Every parameter is in exactly one group.
    assert sorted(groups) == sorted(id(p) for p in [*net.parameters(), *head.parameters()])


def test_the_frozen_biases_start_at_zero_as_the_prototxt_fills_them():
    net, head = sphere20_and_head()
    layers = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    for layer, lr_mult in zip(layers, SPHERE20_BIAS_LR_MULTS, strict=False):
        if lr_mult == 0:
            assert torch.equal(layer.bias, torch.zeros_like(layer.bias))


def test_the_head_comes_last_in_the_optimizer_state():
    # The sharded-head checkpoints address the head's momentum by position.
    net, head = sphere20_and_head(head="original")
    optimizer = build_optimizer(net, head, official())
    ordered = [p for group in optimizer.param_groups for p in group["params"]]
    first_head = len(list(net.parameters()))
    assert len(ordered) == first_head + len(list(head.parameters()))
    assert {id(p) for p in ordered[first_head:]} == {id(p) for p in head.parameters()}
    # The original head's bias is a bias like fc5's.
    assert group_of(optimizer.param_groups)[id(head.bias)]["lr_mult"] == 2.0


def test_batch_norm_shifts_are_not_biases():
    torch.manual_seed(0)
    net, head = build_net("mnist_small", 2), build_head("angular", 2, 10)
    groups = group_of(parameter_groups(net, head, preset("full", bias_treatment="official")))
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            assert groups[id(module.bias)]["lr_mult"] == 1.0
        if isinstance(module, nn.Linear):
            assert groups[id(module.bias)]["lr_mult"] == 2.0


def test_the_learning_rate_is_scaled_per_group():
    net, head = sphere20_and_head()
    optimizer = build_optimizer(net, head, official())
    set_learning_rate(optimizer, 0.05)
    assert sorted(group["lr"] for group in optimizer.param_groups) == [0.0, 0.05, 0.05, 0.1]


class TinyResidual(nn.Module):
    """A stride-2 convolution, one residual unit and a linear layer, in float64."""

    def __init__(self):
        super().__init__()
        from sphereface_lib.nets.sphere import ResidualUnit, conv3x3

        self.down = conv3x3(1, 2, 2, init_std=None)
        self.unit = ResidualUnit(2)
        self.fc = nn.Linear(2 * 2 * 2, 3)

    def forward(self, x):
        return self.fc(self.unit(self.down(x)).flatten(1))


def test_one_step_matches_the_caffe_update_by_hand():
    """First SGD step, momentum buffer empty: Caffe's v = lr*lr_mult*(g + wd*decay_mult*w),
    applied with PyTorch's Nesterov form p -= lr*lr_mult*(1 + mu)*(g + wd*decay_mult*w)."""
    torch.manual_seed(0)
    net = TinyResidual().double()
    for parameter in net.parameters():  # non-zero everywhere, frozen biases included
        nn.init.normal_(parameter)
    head = build_head("modified", 3, 2).double()
    config = preset("full", bias_treatment="official", learning_rate=0.1, weight_decay=0.01)
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    optimizer = build_optimizer(net, head, config)
    set_learning_rate(optimizer, 0.1)
    x = torch.randn(4, 1, 4, 4, dtype=torch.float64)
    head(net(x), torch.tensor([0, 1, 0, 1]), 0.0).square().sum().backward()
    grads = {name: p.grad for name, p in net.named_parameters()}
    optimizer.step()
    mu, lr, wd = config.momentum, 0.1, 0.01
    expected_rule = {
        "down.weight": (1.0, wd),
        "down.bias": (2.0, 0.0),
        "unit.body.0.weight": (1.0, wd),
        "unit.body.1.weight": (1.0, wd),  # PReLU
        "unit.body.2.weight": (1.0, wd),
        "unit.body.3.weight": (1.0, wd),
        "fc.weight": (1.0, wd),
        "fc.bias": (2.0, 0.0),
    }
    for name, parameter in net.named_parameters():
        if name in ("unit.body.0.bias", "unit.body.2.bias"):
            assert grads[name] is None and not parameter.requires_grad
            assert torch.equal(parameter, before[name])  # frozen, even at a non-zero value
            continue
        lr_mult, decay = expected_rule[name]
        step = lr * lr_mult * (1 + mu) * (grads[name] + decay * before[name])
        torch.testing.assert_close(parameter.detach(), before[name] - step, rtol=1e-14, atol=1e-14)


def test_presets():
    assert preset("casia").bias_treatment == "official"
    assert preset("full").bias_treatment == "uniform"
    assert preset("smoke").bias_treatment == "uniform"
    with pytest.raises(ValueError, match="bias_treatment must be 'uniform' or 'official'"):
        preset("full", bias_treatment="caffe")


def tiny_official(**overrides):
    values = dict(
        dataset="synthetic",
        bias_treatment="official",
        max_steps=3,
        batch_size=32,
        train_limit=96,
        test_limit=32,
        snapshot_points=0,
        device="cpu",
    )
    return preset("smoke", **{**values, **overrides})


def test_training_keeps_the_residual_biases_at_zero(tmp_path):
    config = tiny_official(net="mnist_sphere20", embedding_dim=3, max_steps=2, batch_size=16)
    result = train(config, tmp_path, progress=False)
    net, _ = result.load_model()
    layers = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    for layer, lr_mult in zip(layers, SPHERE20_BIAS_LR_MULTS, strict=True):
        if lr_mult == 0:
            assert torch.equal(layer.bias, torch.zeros_like(layer.bias))
        else:
            assert layer.bias.abs().sum() > 0  # learned, from zero


def test_an_official_run_resumes_identically(tmp_path):
    config = tiny_official()
    whole = train(config, tmp_path / "whole", progress=False)
    train(config, tmp_path / "split", progress=False, stop_at_step=1)
    resumed = train(config, tmp_path / "split", progress=False)
    drop = {"train_seconds", "eval_seconds"}
    strip = [{k: v for k, v in row.items() if k not in drop} for row in whole.metrics]
    assert [{k: v for k, v in row.items() if k not in drop} for row in resumed.metrics] == strip
    for part in ("net", "head"):
        a = torch.load(tmp_path / "whole" / "model.pt", weights_only=True)[part]
        b = torch.load(tmp_path / "split" / "model.pt", weights_only=True)[part]
        assert all(torch.equal(a[key], b[key]) for key in a)
