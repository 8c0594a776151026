"""gradbook.seeds: the batched model computes what separate single-seed runs compute, and per-seed
results become mean, `_by_seed` and `_sd` of the same shape."""

from __future__ import annotations

import pytest
import torch

from gradbook import probes
from gradbook.nets import MLP
from gradbook.seeds import StackedMLP, by_seed, fit_seeds, publish, publish_tree, seed_accuracy
from gradbook.train import accuracy, fit

SEEDS = [0, 1, 2]
STEPS, LR, BATCH, LOG_EVERY = 30, 0.5, 32, 10


def problem(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(123)
    x = torch.randn(200, 8, generator=g, dtype=dtype)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    return x, y


def build(dtype: torch.dtype):
    return lambda: MLP.deep(8, 16, 4, 3, activation="sigmoid", init="xavier").to(dtype)


def single_runs(dtype: torch.dtype) -> list[dict]:
    x, y = problem(dtype)
    runs = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        net = build(dtype)()
        with probes.grad_norms(net) as g:
            hist = fit(net, x, y, steps=STEPS, lr=LR, batch_size=BATCH, log_every=LOG_EVERY,
                       seed=seed)  # fmt: skip
        runs.append({
            "weights": {n: w.detach().clone() for n, w in net.layer_weights().items()},
            "loss": hist.train_loss, "steps": hist.steps, "grads": g.history("weight"),
            "acc": accuracy(net, x, y),
        })  # fmt: skip
    return runs


@pytest.mark.parametrize(("dtype", "rtol"), [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_stack_matches_separate_single_seed_runs(dtype: torch.dtype, rtol: float) -> None:
    x, y = problem(dtype)
    model = StackedMLP.from_seeds(build(dtype), SEEDS)
    hist = fit_seeds(model, x, y, seeds=SEEDS, steps=STEPS, lr=LR, batch_size=BATCH,
                     log_every=LOG_EVERY)  # fmt: skip
    weights = model.layer_weights()
    acc = seed_accuracy(model, x, y)
    for i, run in enumerate(single_runs(dtype)):
        assert hist.steps == run["steps"]
        torch.testing.assert_close(
            torch.stack(hist.train_loss)[:, i], torch.tensor(run["loss"], dtype=dtype), rtol=rtol,
            atol=0,
        )  # fmt: skip
        for name, w in run["weights"].items():
            torch.testing.assert_close(weights[name][i], w, rtol=rtol, atol=rtol * 1e-3)
        for name, norms in run["grads"].items():
            torch.testing.assert_close(
                hist.weight_grad_norm[name][:, i], torch.tensor(norms, dtype=dtype), rtol=rtol,
                atol=0,
            )  # fmt: skip
        assert acc[i] == run["acc"]


def test_initial_weights_are_the_single_seed_nets() -> None:
    model = StackedMLP.from_seeds(build(torch.float64), SEEDS)
    torch.manual_seed(SEEDS[1])
    net = build(torch.float64)()
    for name, w in net.layer_weights().items():
        assert torch.equal(model.layer_weights()[name][1], w.detach())


def test_rejects_what_it_cannot_stack() -> None:
    with pytest.raises(ValueError, match="batch norm"):
        StackedMLP([MLP([4, 8, 2], batch_norm=True)])
    with pytest.raises(ValueError, match="same sizes"):
        StackedMLP([MLP([4, 8, 2]), MLP([4, 9, 2])])


def test_by_seed_puts_a_list_over_seeds_at_each_leaf() -> None:
    per_seed = [{"a": [1.0, 2.0], "b": 3.0}, {"a": [5.0, 6.0], "b": 7.0}]
    assert by_seed(per_seed) == {"a": [[1.0, 5.0], [2.0, 6.0]], "b": [3.0, 7.0]}
    assert by_seed(torch.tensor([[1.0, 2.0], [3.0, 4.0]])) == [[1.0, 3.0], [2.0, 4.0]]
    with pytest.raises(ValueError):
        by_seed([[1.0], [1.0, 2.0]])


def test_publish_writes_mean_by_seed_and_sd() -> None:
    results: dict = {}
    mean = publish(results, "acc", [{"relu": 0.9}, {"relu": 0.8}, {"relu": 1.0}])
    assert mean == results["acc"] == {"relu": pytest.approx(0.9)}
    assert results["acc_by_seed"] == {"relu": [0.9, 0.8, 1.0]}
    assert results["acc_sd"] == {"relu": pytest.approx(0.1)}
    assert list(results) == ["acc", "acc_by_seed", "acc_sd"]


def test_publish_tree_takes_values_keyed_first_and_seeds_last() -> None:
    results: dict = {}
    publish_tree(results, "changed", {"float64": torch.tensor([1.0, 1.0]), "float32": [0.4, 0.6]})
    assert results["changed"] == {"float64": 1.0, "float32": pytest.approx(0.5)}
    assert results["changed_by_seed"] == {"float64": [1.0, 1.0], "float32": [0.4, 0.6]}
    assert results["changed_sd"]["float64"] == 0.0


def test_one_learning_rate_per_member_matches_single_runs() -> None:
    x, y = problem(torch.float64)
    seeds, rates = [0, 1, 0], [0.5, 0.5, 0.05]
    model = StackedMLP.from_seeds(build(torch.float64), seeds)
    logged: list[int] = []
    hist = fit_seeds(model, x, y, seeds=seeds, steps=STEPS, lr=rates, batch_size=BATCH,
                     log_every=LOG_EVERY, on_log=lambda step, m: logged.append(step))  # fmt: skip
    assert logged == hist.steps
    for i, (seed, rate) in enumerate(zip(seeds, rates, strict=True)):
        torch.manual_seed(seed)
        net = build(torch.float64)()
        single = fit(net, x, y, steps=STEPS, lr=rate, batch_size=BATCH, log_every=LOG_EVERY,
                     seed=seed)  # fmt: skip
        torch.testing.assert_close(
            torch.stack(hist.train_loss)[:, i], torch.tensor(single.train_loss, dtype=x.dtype),
            rtol=1e-10, atol=0,
        )  # fmt: skip
    with pytest.raises(ValueError, match="one learning rate per member"):
        fit_seeds(model, x, y, seeds=seeds, steps=1, lr=[0.1, 0.1])


def test_adam_on_the_stack_matches_adam_on_each_net() -> None:
    x, y = problem(torch.float64)
    model = StackedMLP.from_seeds(build(torch.float64), SEEDS)
    hist = fit_seeds(model, x, y, seeds=SEEDS, steps=STEPS, lr=1e-2, batch_size=BATCH,
                     log_every=LOG_EVERY, optimizer="adam")  # fmt: skip
    for i, seed in enumerate(SEEDS):
        torch.manual_seed(seed)
        net = build(torch.float64)()
        single = fit(net, x, y, steps=STEPS, lr=1e-2, batch_size=BATCH, log_every=LOG_EVERY,
                     seed=seed, optimizer="adam")  # fmt: skip
        torch.testing.assert_close(
            torch.stack(hist.train_loss)[:, i], torch.tensor(single.train_loss, dtype=x.dtype),
            rtol=1e-9, atol=0,
        )  # fmt: skip
        for name, w in net.layer_weights().items():
            torch.testing.assert_close(model.layer_weights()[name][i], w.detach(), rtol=1e-9,
                                       atol=1e-12)  # fmt: skip
