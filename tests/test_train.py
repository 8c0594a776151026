"""gradbook.train: learning, clipping, determinism and non-finite detection."""

import pytest
import torch

from gradbook import data
from gradbook.nets import MLP
from gradbook.train import NonFiniteError, accuracy, evaluate, fit


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def _net(**kw) -> MLP:
    torch.manual_seed(0)
    return MLP.deep(64, 32, 2, 10, **kw)


def test_fit_learns_digits_and_records_curve(digits):
    net = _net(activation="relu", init="kaiming")
    hist = fit(net, digits.x_train, digits.y_train, steps=200, lr=0.1, log_every=50, seed=0)
    assert hist.steps == [0, 50, 100, 150, 200]
    assert hist.train_loss[-1] < 0.3 * hist.train_loss[0]
    assert accuracy(net, digits.x_test, digits.y_test) > 0.9
    assert evaluate(net, digits.x_test, digits.y_test).loss < 1.0


def test_fit_is_deterministic_with_a_seed(digits):
    runs = []
    for _ in range(2):
        net = _net(activation="tanh", init="xavier")
        runs.append(fit(net, digits.x_train, digits.y_train, steps=30, lr=0.05, seed=3).train_loss)
    assert runs[0] == runs[1]


def test_clipping_bounds_the_update(digits):
    net = _net(activation="relu", init="kaiming")
    before = [p.detach().clone() for p in net.parameters()]
    fit(net, digits.x_train, digits.y_train, steps=1, lr=1.0, clip_norm=0.01, optimizer="sgd")
    with torch.no_grad():
        moved = torch.sqrt(
            sum(((p - b) ** 2).sum() for p, b in zip(net.parameters(), before, strict=True))
        )
    assert float(moved) == pytest.approx(0.01, rel=1e-3)
    net = _net(activation="relu", init="kaiming")
    before = [p.detach().clone() for p in net.parameters()]
    fit(net, digits.x_train, digits.y_train, steps=1, lr=1.0, clip_value=1e-3, optimizer="adam")
    for p, b in zip(net.parameters(), before, strict=True):
        assert float((p - b).detach().abs().max()) <= 1.0 + 1e-6  # adam: each step is at most lr


def test_nan_in_a_weight_names_step_and_layer(digits):
    net = _net(activation="relu")

    def poison(step, model):
        if step == 7:
            with torch.no_grad():
                model.layers["hidden2"].linear.weight[0, 0] = float("nan")

    with pytest.raises(NonFiniteError) as err:
        fit(net, digits.x_train, digits.y_train, steps=20, lr=0.1, on_step=poison)
    assert err.value.step == 7 and err.value.kind == "weight"
    assert err.value.where == "layers.hidden2.linear.weight"
    assert "step 7" in str(err.value) and "hidden2" in str(err.value)
    assert isinstance(err.value, FloatingPointError)


def test_overflow_in_forward_names_the_first_layer(digits):
    net = _net(activation="identity")
    with torch.no_grad():
        net.layers["hidden1"].linear.weight.fill_(1e18)
        net.layers["hidden2"].linear.weight.fill_(1e18)  # 1e18 * 32 * 1e18 ... overflows here
    with pytest.raises(NonFiniteError) as err:
        fit(net, digits.x_train, digits.y_train, steps=5, lr=0.1)
    assert err.value.step == 1 and err.value.kind == "loss" and err.value.where == "hidden2"


def test_bad_input_and_bad_loss(digits):
    x = digits.x_train.clone()
    x[:, 3] = float("nan")
    with pytest.raises(NonFiniteError) as err:
        fit(_net(), x, digits.y_train, steps=5, lr=0.1)
    assert err.value.where == "input"

    def log_of_zero(out, y):
        return -torch.log(torch.zeros(())) + 0 * out.sum()

    with pytest.raises(NonFiniteError) as err:
        fit(_net(), digits.x_train, digits.y_train, steps=5, lr=0.1, loss_fn=log_of_zero)
    assert err.value.where == "loss function"


def test_nonfinite_gradient_is_named_from_the_output_side(digits):
    def sqrt_at_zero(out, y):  # finite loss (0), infinite derivative
        return (out - out.detach()).pow(2).sum().sqrt()

    with pytest.raises(NonFiniteError) as err:
        fit(_net(), digits.x_train, digits.y_train, steps=5, lr=0.1, loss_fn=sqrt_at_zero)
    assert err.value.kind == "grad" and err.value.step == 1
    assert err.value.where == "layers.output.linear.bias"
