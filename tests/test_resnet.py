"""The reference ResNet: shapes, parameter counts, and that gradients reach every weight and the input."""

import math

import pytest
import torch

from gradbook.resnet import BasicBlock, ResNet, count_parameters, resnet18, shortcut_kind, structure


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions run fastest on one thread; two threads spin when the machine is busy."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(("in_channels", "size"), [(1, 8), (3, 32)])
def test_resnet18_output_shape(in_channels: int, size: int) -> None:
    torch.manual_seed(0)
    model = resnet18(in_channels=in_channels, num_classes=10, width=8)
    assert model(torch.randn(4, in_channels, size, size)).shape == (4, 10)


def test_resnet18_has_eighteen_weight_layers() -> None:
    model = resnet18(width=8)
    convs = [
        m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)
    ]
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(convs) + len(linears) == 18  # 1x1 projections are not counted, as in the paper


def test_parameter_count_matches_the_known_cifar_resnet18() -> None:
    # The CIFAR-style ResNet-18 (3x3 stem, width 64, projection shortcuts, 10 classes) has 11,173,962
    # parameters, the figure every public re-implementation reports.
    assert count_parameters(resnet18(in_channels=3, num_classes=10, width=64)) == 11_173_962


def test_parameters_scale_with_width_squared() -> None:
    small, big = (count_parameters(resnet18(width=w)) for w in (8, 16))
    assert 3.8 < big / small < 4.1


def test_projection_only_where_shapes_change() -> None:
    model = resnet18(width=8)
    kinds = [shortcut_kind(b) for stage in model.stages for b in stage]
    assert kinds == ["identity", "identity"] + ["projection", "identity"] * 3
    plain = resnet18(width=8, residual=False)
    assert {shortcut_kind(b) for stage in plain.stages for b in stage} == {"none"}


def test_structure_rows_follow_the_forward_pass() -> None:
    model = resnet18(width=8)
    rows = structure(model, (1, 8, 8))
    assert rows[0]["shape"] == [8, 8, 8]
    assert rows[-2] == {"name": "avgpool", "shape": [64], "params": 0}
    assert rows[-1]["shape"] == [10]
    assert sum(int(r["params"]) for r in rows) == count_parameters(model)
    assert model.training  # structure() restores the mode


def test_he_init_variance_of_convolutions() -> None:
    torch.manual_seed(0)
    block = ResNet(width=64, blocks=(1,)).stages[0][0]
    assert isinstance(block, BasicBlock)
    w = block.conv1.weight
    fan_out = w.shape[0] * w.shape[2] * w.shape[3]
    assert w.var().item() == pytest.approx(2.0 / fan_out, rel=0.1)


@pytest.mark.parametrize("residual", [True, False])
def test_every_parameter_gets_a_finite_nonzero_gradient(residual: bool) -> None:
    torch.manual_seed(0)
    model = resnet18(width=8, residual=residual)
    x = torch.randn(16, 1, 8, 8)
    y = torch.randint(0, 10, (16,))
    torch.nn.functional.cross_entropy(model(x), y).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum().item() > 0, name


def _input_grad_norm(blocks: int, seed: int) -> float:
    """||d(v . f(x)) / dx|| for a one-stage net of `blocks` identity-shortcut blocks."""
    torch.manual_seed(seed)
    model = ResNet(width=8, blocks=(blocks,))
    x = torch.randn(32, 1, 8, 8, requires_grad=True)
    out = model(x)
    (out * torch.randn_like(out)).sum().backward()
    return x.grad.norm().item()


def test_input_gradient_does_not_vanish_through_identity_shortcuts() -> None:
    shallow = sum(_input_grad_norm(1, s) for s in range(3)) / 3
    deep = sum(_input_grad_norm(32, s) for s in range(3)) / 3
    assert math.isfinite(deep)
    # every block passes the gradient on with a factor (1 + dF/dx): it cannot shrink to nothing
    assert deep > shallow


def test_zero_init_residual_makes_blocks_start_as_identity_plus_relu() -> None:
    torch.manual_seed(0)
    model = ResNet(width=8, blocks=(3,), zero_init_residual=True).eval()
    block = model.stages[0][0]
    x = torch.relu(torch.randn(2, 8, 8, 8))
    assert torch.allclose(block(x), x)
