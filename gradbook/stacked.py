"""Several seeds of an MLP with batch norm and residual blocks, trained together as one batched model.

`gradbook.seeds.StackedMLP` stacks plain MLPs. `StackedNet` stacks the rest of `gradbook.nets.MLP`:
batch norm between each hidden linear map and its activation (per seed: its own scale and shift, its
own running statistics), two-layer residual blocks, and layers without biases. Every member of the
stack is one net; its layer l runs as one batched matmul with the other members' layer l.

Members need not differ only by seed:

- `lr` may be one learning rate per member, so a learning-rate sweep over five seeds is one model
  (`seeds=[0, 1, 2, 3, 4] * 7` and seven learning rates, each repeated five times);
- `skip` is one factor per member on the residual connection: 1 is the residual net, 0 is the plain
  net with the same layers. `MLP(residual=True)` and `MLP(residual=False)` of the same sizes draw the
  same initial weights, so plain and residual members of one seed start from the same point.

A member whose loss becomes non-finite does not disturb the others: each member's gradient depends
only on its own loss. Member m computes what `gradbook.train.fit(net, ..., seed=seeds[m])` computes
for its net, to float rounding (tests/test_stacked.py checks it), including the training loss
recorded in evaluation mode at step 0, every `log_every` steps and at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gradbook.nets import MLP
from gradbook.seeds import SeedHistory, batch_order, seed_loss

#: forward(..., stats=...): "running" (evaluation), "batch" (training statistics, running ones left
#: alone), None (follow the module's mode; in training mode the running statistics are updated).
STATS = (None, "batch", "running")


class StackedNet(nn.Module):
    """The same `MLP` architecture once per member, computed as one batched model.

    Inputs are (members, batch, features), or (batch, features) shared by all members; outputs are
    (members, batch, classes). Parameters are stacked along a first axis of size `n_members`:
    `weights[l]` (members, fan_in, fan_out), `biases[l]` and batch norm's `gammas[l]`, `betas[l]`
    (members, 1, fan_out).
    """

    def __init__(self, nets: Sequence[MLP], skip: Sequence[float] | None = None) -> None:
        super().__init__()
        first = nets[0]
        for n in nets:
            if n.sizes != first.sizes or n.activation != first.activation:
                raise ValueError("all members need the same sizes and activation")
            if n.stages != first.stages:
                raise ValueError("all members need the same stages (build plain members with "
                                 "residual=True and skip=0)")  # fmt: skip
        self.names = list(first.layers)
        self.stages = list(first.stages)
        self.act = first.layers[self.names[0]].act
        if list(self.act.parameters()):
            raise ValueError("StackedNet needs parameter-free activations")
        hidden = [first.layers[name] for name in self.names[:-1]]
        self.batch_norm = bool(hidden) and isinstance(hidden[0].norm, nn.BatchNorm1d)
        if any(isinstance(d.norm, nn.BatchNorm1d) != self.batch_norm for d in hidden):
            raise ValueError("batch norm in every hidden layer or in none")
        self.has_bias = first.layers["output"].linear.bias is not None

        def stack(get: Callable[[MLP], torch.Tensor]) -> torch.Tensor:
            return torch.stack([get(n).detach() for n in nets]).contiguous()

        self.weights = nn.ParameterList(
            stack(lambda n, k=k: n.layers[k].linear.weight.T) for k in self.names
        )
        self.biases = nn.ParameterList(
            stack(lambda n, k=k: n.layers[k].linear.bias[None, :]) for k in self.names
        ) if self.has_bias else None  # fmt: skip
        if self.batch_norm:
            norms = [first.layers[k].norm for k in self.names[:-1]]
            self.eps, self.momentum = norms[0].eps, norms[0].momentum
            self.gammas = nn.ParameterList(
                stack(lambda n, k=k: n.layers[k].norm.weight[None, :]) for k in self.names[:-1]
            )
            self.betas = nn.ParameterList(
                stack(lambda n, k=k: n.layers[k].norm.bias[None, :]) for k in self.names[:-1]
            )
            for i, k in enumerate(self.names[:-1]):
                self.register_buffer(f"running_mean{i}", stack(lambda n, k=k: n.layers[k].norm.running_mean[None, :]))  # fmt: skip  # noqa: E501
                self.register_buffer(f"running_var{i}", stack(lambda n, k=k: n.layers[k].norm.running_var[None, :]))  # fmt: skip  # noqa: E501
        factors = [1.0] * len(nets) if skip is None else [float(s) for s in skip]
        if len(factors) != len(nets):
            raise ValueError(f"{len(factors)} skip factors for {len(nets)} members")
        self.register_buffer(
            "skip", torch.tensor(factors, dtype=self.weights[0].dtype)[:, None, None]
        )

    @classmethod
    def from_seeds(
        cls, build: Callable[[], MLP], seeds: Sequence[int], skip: Sequence[float] | None = None
    ) -> StackedNet:
        """One `build()` per member, each after `torch.manual_seed(seed)`."""
        nets = []
        for seed in seeds:
            torch.manual_seed(seed)
            nets.append(build())
        return cls(nets, skip)

    @property
    def n_members(self) -> int:
        return self.weights[0].shape[0]

    def _norm(self, i: int, z: torch.Tensor, stats: str | None) -> torch.Tensor:
        """Batch norm of (members, batch, units) as one `F.batch_norm` over members x units
        features: each member's unit is normalised over the batch with its own statistics."""
        s, b, n = z.shape
        update = stats is None and self.training
        use_batch = stats == "batch" or update
        running = [getattr(self, f"running_{k}{i}").view(-1) for k in ("mean", "var")]
        flat = z.transpose(0, 1).reshape(b, s * n)
        out = F.batch_norm(
            flat, *(running if (update or not use_batch) else (None, None)),
            self.gammas[i].view(-1), self.betas[i].view(-1), use_batch, self.momentum, self.eps,
        )  # fmt: skip
        return out.view(b, s, n).transpose(0, 1)

    def _layer(self, i: int, h: torch.Tensor, stats: str | None, skip: torch.Tensor | None,
               capture: list | None, capture_linear: list | None) -> torch.Tensor:  # fmt: skip
        w = self.weights[i]
        z = torch.baddbmm(self.biases[i], h, w) if self.has_bias else torch.bmm(h, w)
        last = i == len(self.names) - 1
        if last:
            return z
        if capture_linear is not None:
            capture_linear.append(z)
        if self.batch_norm:
            z = self._norm(i, z, stats)
        if skip is not None:
            z = z + self.skip * skip
        if capture is not None:
            capture.append(z)
        return self.act(z)

    def forward(
        self,
        x: torch.Tensor,
        *,
        stats: str | None = None,
        capture: list[torch.Tensor] | None = None,
        capture_linear: list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Logits (members, batch, classes). `capture`, a list, receives each hidden layer's
        pre-activation (the input of its activation: after batch norm and the skip), input side
        first; `capture_linear` each hidden layer's linear output (before batch norm)."""
        if stats not in STATS:
            raise ValueError(f"stats must be one of {STATS}")
        h = x if x.dim() == 3 else x.expand(self.n_members, *x.shape)
        index = {name: i for i, name in enumerate(self.names)}
        for stage in self.stages:
            if len(stage) == 1:
                h = self._layer(index[stage[0]], h, stats, None, capture, capture_linear)
            else:
                a, b = (index[name] for name in stage)
                inner = self._layer(a, h, stats, None, capture, capture_linear)
                h = self._layer(b, inner, stats, h, capture, capture_linear)
        return h

    def skip_stage(self, stage: int) -> Callable[[], None]:
        """Drop stage `stage` (a block, or one hidden layer) from the forward pass, as a lesion;
        returns the function that puts it back."""
        kept = self.stages
        self.stages = kept[:stage] + kept[stage + 1 :]

        def restore() -> None:
            self.stages = kept

        return restore


@torch.no_grad()
def member_loss_and_accuracy(
    model: StackedNet, x: torch.Tensor, y: torch.Tensor, stats: str = "running"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per member: mean cross-entropy and accuracy on (x, y), by default in evaluation mode."""
    out = model(x, stats=stats)
    return seed_loss(out, y), (out.argmax(dim=2) == y).double().mean(dim=1)


def preact_grad_norms(model: StackedNet, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """||dLoss/dz|| per member and hidden layer, (members, layers), loss = mean cross-entropy on
    (x, y) with batch statistics (the running statistics are left alone); .grad cleared after."""
    zs: list[torch.Tensor] = []
    out = model(x, stats="batch", capture=zs)
    for z in zs:
        z.retain_grad()
    seed_loss(out, y).sum().backward()
    norms = torch.stack([z.grad.norm(dim=(1, 2)) for z in zs], dim=1)
    for p in model.parameters():
        p.grad = None
    return norms


def fit_stacked(
    model: StackedNet,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    seeds: Sequence[int],
    steps: int,
    lr: float | Sequence[float],
    batch_size: int = 64,
    log_every: int = 50,
    log_from: int = 0,
    on_step: Callable[[int, StackedNet], None] | None = None,
) -> SeedHistory:
    """Plain minibatch SGD on every member at once, as `gradbook.train.fit` trains one net.

    Member m draws its minibatches as `fit(..., seed=seeds[m])` does; `lr` is one step size or one
    per member. The training loss on all of (x, y), in evaluation mode, is recorded at step 0, every
    `log_every` steps from step `log_from` on, and at the end; a member that diverged records inf or NaN and trains on (the
    others are unaffected). `on_step(t, model)` runs after update t and, with t = 0, before training.
    """
    if len(seeds) != model.n_members:
        raise ValueError(f"{len(seeds)} seeds for a stack of {model.n_members} nets")
    dtype = model.weights[0].dtype
    rates = [float(lr)] * len(seeds) if isinstance(lr, int | float) else [float(r) for r in lr]
    if len(rates) != len(seeds):
        raise ValueError(f"{len(rates)} learning rates for {len(seeds)} members")
    lr_view = torch.tensor(rates, dtype=dtype)[:, None, None]
    params = list(model.parameters())
    batch_size = min(batch_size, len(x))
    orders = [batch_order(len(x), batch_size, seed) for seed in seeds]
    history = SeedHistory()

    def record(step: int) -> None:
        history.train_loss.append(member_loss_and_accuracy(model, x, y)[0])
        history.steps.append(step)

    model.train()
    record(0)
    if on_step is not None:
        on_step(0, model)
    for step in range(1, steps + 1):
        idx = torch.stack([next(order) for order in orders])  # (members, batch)
        loss = seed_loss(model(x[idx]), y[idx]).sum()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(lr_view * p.grad)
        if on_step is not None:
            on_step(step, model)
        if (step % log_every == 0 and step >= log_from) or step == steps:
            record(step)
    return history
