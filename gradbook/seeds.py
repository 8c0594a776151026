"""Several seeds of one experiment, trained together as one batched model, and their summary.

A number measured once says little about the next run; five seeds trained one after another cost five
runs. `StackedMLP` holds the seeds' weights side by side, as (seeds, fan_in, fan_out) tensors, and
runs every layer of every seed as one batched matmul (`torch.baddbmm`), so five small nets cost
little more than one. Each seed keeps its own initial weights (those `MLP` draws after
`torch.manual_seed(seed)`) and its own minibatch order (the order `gradbook.train.fit` draws with
`seed=seed`): seed s of the stack computes what a single run with seed s computes, to float
rounding (tests/test_seeds.py checks it).

`publish` turns per-seed results into what results.json holds: the mean under the key, the values
per seed under `<key>_by_seed` (same shape, a list over seeds at each leaf) and the sample standard
deviation over seeds under `<key>_sd`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gradbook.nets import MLP


class StackedMLP(nn.Module):
    """The same MLP architecture once per seed, computed as one batched model.

    Layer l of seed s is `weights[l][s]` (fan_in, fan_out) and `biases[l][s]` (1, fan_out); the
    forward pass takes inputs of shape (seeds, batch, features), or (batch, features) shared by all
    seeds, and returns (seeds, batch, outputs). Plain MLPs only: no batch norm, no residual blocks,
    activations without parameters.
    """

    def __init__(self, nets: Sequence[MLP]) -> None:
        super().__init__()
        first = nets[0]
        if any(n.sizes != first.sizes or n.activation != first.activation for n in nets):
            raise ValueError("all seeds need the same sizes and activation")
        if any(len(stage) > 1 for stage in first.stages):
            raise ValueError("StackedMLP stacks plain MLPs; residual blocks are not supported")
        self.names = list(first.layers)
        self.act = first.layers[self.names[0]].act
        for name in self.names:
            layer = first.layers[name]
            if not isinstance(layer.norm, nn.Identity) or list(layer.act.parameters()):
                raise ValueError(
                    f"{name}: StackedMLP needs no batch norm, parameter-free activations"
                )
        self.weights = nn.ParameterList(
            torch.stack([n.layers[name].linear.weight.detach().T for n in nets]).contiguous()
            for name in self.names
        )
        self.biases = nn.ParameterList(
            torch.stack([n.layers[name].linear.bias.detach()[None, :] for n in nets]).contiguous()
            for name in self.names
        )

    @classmethod
    def from_seeds(cls, build: Callable[[], MLP], seeds: Sequence[int]) -> StackedMLP:
        """One `build()` per seed, each after `torch.manual_seed(seed)`: the nets single runs get."""
        nets = []
        for seed in seeds:
            torch.manual_seed(seed)
            nets.append(build())
        return cls(nets)

    @property
    def n_seeds(self) -> int:
        return self.weights[0].shape[0]

    def layers_out(self, x: torch.Tensor) -> Iterator[torch.Tensor]:
        """Each layer's output in forward order: the hidden activations, then the logits."""
        h = x if x.dim() == 3 else x.expand(self.n_seeds, *x.shape)
        last = len(self.names) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = torch.baddbmm(b, h, w)
            h = z if i == last else self.act(z)
            yield h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *_, out = self.layers_out(x)
        return out

    def layer_weights(self) -> dict[str, torch.Tensor]:
        """Layer name -> the seeds' weights, (seeds, fan_out, fan_in) as in `MLP.layer_weights`."""
        return {name: w.transpose(1, 2) for name, w in zip(self.names, self.weights, strict=True)}


def seed_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per seed, (seeds,), from logits (seeds, batch, classes)."""
    s, b, c = logits.shape
    labels = y if y.dim() == 2 else y.expand(s, b)
    per_example = F.cross_entropy(logits.reshape(s * b, c), labels.reshape(s * b), reduction="none")
    return per_example.view(s, b).mean(dim=1)


@torch.no_grad()
def seed_accuracy(model: StackedMLP, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Accuracy of each seed's net on (x, y)."""
    hits = (model(x).argmax(dim=2) == y).double().mean(dim=1)
    return hits.tolist()


def batch_order(n: int, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
    """The minibatch order of `gradbook.train.fit(..., seed=seed)`: a fresh permutation per epoch.

    Public so that experiments that step their own stacked models (gradbook.stacked, chapter 08)
    see exactly the batches a single-seed `fit` would.
    """
    generator = torch.Generator().manual_seed(seed)
    while True:
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n - batch_size + 1, batch_size):
            yield perm[start : start + batch_size]


@dataclass
class SeedHistory:
    """What `fit_seeds` recorded, seeds along the last axis of every tensor."""

    steps: list[int] = field(default_factory=list)
    #: full training loss at each of `steps`, one (seeds,) tensor per checkpoint
    train_loss: list[torch.Tensor] = field(default_factory=list)
    #: layer name -> ||dLoss/dW|| at every update, (steps, seeds)
    weight_grad_norm: dict[str, torch.Tensor] = field(default_factory=dict)


def fit_seeds(
    model: StackedMLP,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    seeds: Sequence[int],
    steps: int,
    lr: float | Sequence[float],
    batch_size: int = 64,
    log_every: int = 50,
    optimizer: str = "sgd",
    on_log: Callable[[int, StackedMLP], None] | None = None,
) -> SeedHistory:
    """Plain minibatch SGD on every seed at once, as `gradbook.train.fit` runs one seed.

    Seed s draws its minibatches as `fit(..., seed=s)` does. The loss summed over seeds has, for each
    seed's weights, exactly that seed's gradient, so one backward pass serves all of them. The
    training loss on all of (x, y) is recorded at step 0, every `log_every` steps and at the end.

    `lr` is one step size, or one per member of the stack (a learning-rate sweep over five seeds is
    one stack: `seeds=[0, 1, 2, 3, 4] * 3` with each rate repeated five times). `optimizer="adam"`
    runs `torch.optim.Adam(lr)` on the stacked parameters instead of SGD: Adam works entry by entry,
    so each member gets exactly the update it would get alone (one shared `lr` only). `on_log(step,
    model)` runs after each recorded loss (a probe that reads the nets at the checkpoints).
    """
    if len(seeds) != model.n_seeds:
        raise ValueError(f"{len(seeds)} seeds for a stack of {model.n_seeds} nets")
    params = [*model.weights, *model.biases]
    per_member = not isinstance(lr, int | float)
    if per_member and (len(lr) != len(seeds) or optimizer != "sgd"):
        raise ValueError("one learning rate per member needs len(lr) == len(seeds) and SGD")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"unknown optimizer {optimizer!r}; known: sgd, adam")
    adam = torch.optim.Adam(params, lr=float(lr), foreach=True) if optimizer == "adam" else None
    lr_view = (
        torch.tensor([float(r) for r in lr], dtype=params[0].dtype)[:, None, None]
        if per_member else None
    )  # fmt: skip
    batch_size = min(batch_size, len(x))
    orders = [batch_order(len(x), batch_size, seed) for seed in seeds]
    history = SeedHistory()
    grad_norms: list[torch.Tensor] = []

    def record(step: int) -> None:
        with torch.no_grad():
            history.train_loss.append(seed_loss(model(x), y))
        history.steps.append(step)
        if on_log is not None:
            on_log(step, model)

    record(0)
    for step in range(1, steps + 1):
        idx = torch.stack([next(order) for order in orders])  # (seeds, batch)
        loss = seed_loss(model(x[idx]), y[idx]).sum()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            grad_norms.append(torch.stack([w.grad.norm(dim=(1, 2)) for w in model.weights]))
            if adam is not None:
                adam.step()
            for p in params if adam is None else ():
                if lr_view is None:
                    p.add_(p.grad, alpha=-lr)
                else:
                    p.sub_(lr_view * p.grad)
        if step % log_every == 0 or step == steps:
            record(step)
    if grad_norms:
        stacked = torch.stack(grad_norms)  # (steps, layers, seeds)
        history.weight_grad_norm = {name: stacked[:, i] for i, name in enumerate(model.names)}
    return history


# --- per-seed values -> results.json ---------------------------------------------------------------


def _tree(value: Any) -> Any:
    """Tensors and numpy arrays as nested lists, everything else as it is."""
    return value.tolist() if hasattr(value, "tolist") and callable(value.tolist) else value


def by_seed(values: Sequence[Any]) -> Any:
    """Per-seed values of one shape (numbers, lists, dicts) -> that shape, a list over seeds at each
    leaf: `by_seed([[1, 2], [3, 4]]) == [[1, 3], [2, 4]]`."""
    values = [_tree(v) for v in _tree(values)]
    first = values[0]
    if isinstance(first, Mapping):
        if any(not isinstance(v, Mapping) or list(v) != list(first) for v in values):
            raise ValueError("per-seed dicts must have the same keys in the same order")
        return {k: by_seed([v[k] for v in values]) for k in first}
    if isinstance(first, list | tuple):
        if any(not isinstance(v, list | tuple) or len(v) != len(first) for v in values):
            raise ValueError("per-seed lists must have the same length")
        return [by_seed([v[i] for v in values]) for i in range(len(first))]
    return [float(v) for v in values]


def map_leaves(tree: Any, fn: Callable[[list[float]], float]) -> Any:
    """Apply `fn` to every leaf list of a `by_seed` tree."""
    if isinstance(tree, Mapping):
        return {k: map_leaves(v, fn) for k, v in tree.items()}
    if tree and isinstance(tree[0], list | Mapping):
        return [map_leaves(v, fn) for v in tree]
    return fn(tree)


def mean(xs: list[float]) -> float:
    return math.fsum(xs) / len(xs)


def sd(xs: list[float]) -> float:
    """Sample standard deviation (n - 1); 0 for a single seed."""
    return statistics.stdev(xs) if len(xs) > 1 else 0.0


def publish(results: dict[str, Any], key: str, per_seed: Sequence[Any]) -> Any:
    """Write `key` (mean over seeds), `<key>_by_seed` and `<key>_sd` into `results`; return the mean.

    `per_seed` runs over seeds first: a list of per-seed values, or a tensor whose first axis is the
    seed.
    """
    return _write(results, key, by_seed(per_seed))


def _leaf_lists(tree: Any) -> Any:
    if isinstance(tree, Mapping):
        return {k: _leaf_lists(v) for k, v in tree.items()}
    return [float(v) for v in _tree(tree)]


def publish_tree(results: dict[str, Any], key: str, tree: Any) -> Any:
    """`publish` for values already keyed first and seeds last: `{"float32": [per seed], ...}`
    (dicts down to a list or 1-d tensor over seeds)."""
    return _write(results, key, _leaf_lists(tree))


def _write(results: dict[str, Any], key: str, tree: Any) -> Any:
    results[key] = map_leaves(tree, mean)
    results[f"{key}_by_seed"] = tree
    results[f"{key}_sd"] = map_leaves(tree, sd)
    return results[key]
