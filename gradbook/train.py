"""A small, explicit training loop with the guard rails the book talks about.

`fit` runs minibatch SGD or Adam, optionally clips gradients (by global norm or by value), records a
loss curve at intervals and stops with a `NonFiniteError` as soon as the loss, a gradient or a weight
stops being a finite number, naming the step that did it and where it happened. Steps count from 1:
step t is the t-th parameter update.

Checking costs one test per step: a bad gradient or weight at step t makes the loss at step t + 1
non-finite, and at that moment the gradients of step t are still in `.grad`, so the culprit can be
named after the fact without scanning every tensor at every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class NonFiniteError(FloatingPointError):
    """The loss, a gradient or a weight became inf or NaN.

    step: the update during which it happened (1-based); kind: "loss", "grad" or "weight";
    where: the first place it showed, in the order of computation (a layer for the loss, found by
    re-running the forward pass; a parameter name for gradients and weights).
    """

    def __init__(self, step: int, kind: str, where: str, detail: str = "") -> None:
        self.step, self.kind, self.where = step, kind, where
        message = f"non-finite {kind} at step {step}: first at {where}"
        super().__init__(message + (f" ({detail})" if detail else ""))


@dataclass
class History:
    """What a run recorded: full training loss at `steps` (step 0 is before training)."""

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    #: mean minibatch loss over each interval ending at steps[i] (NaN for step 0)
    batch_loss: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Eval:
    loss: float
    accuracy: float


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn = F.cross_entropy
) -> Eval:
    """Loss and accuracy in evaluation mode (batch norm uses running statistics); mode restored."""
    was_training = model.training
    model.eval()
    out = model(x)
    model.train(was_training)
    accuracy = float((out.argmax(dim=1) == y).double().mean()) if out.dim() == 2 else float("nan")
    return Eval(loss=float(loss_fn(out, y)), accuracy=accuracy)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return evaluate(model, x, y).accuracy


def make_optimizer(
    model: nn.Module,
    name: str = "sgd",
    lr: float = 0.1,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(
            model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay
        )
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; known: sgd, adam")


def _first_nonfinite(named: list[tuple[str, torch.Tensor | None]]) -> str | None:
    for name, t in named:
        if t is not None and not bool(torch.isfinite(t).all()):
            return name
    return None


def _points(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules whose outputs are worth checking, in forward order: named layers, else leaves."""
    if hasattr(model, "layers"):
        return list(model.layers.named_children())
    return [(n, m) for n, m in model.named_modules() if n and not list(m.children())]


@torch.no_grad()
def locate_nonfinite_forward(model: nn.Module, x: torch.Tensor, out_to_loss: Callable) -> str:
    """Re-run the forward pass and name the first thing that went non-finite."""
    if not bool(torch.isfinite(x).all()):
        return "input"
    bad = _first_nonfinite(list(model.named_parameters()))
    if bad is not None:
        return bad
    outputs: list[tuple[str, torch.Tensor]] = []
    handles = [
        m.register_forward_hook(lambda mod, i, o, n=n: outputs.append((n, o)))
        for n, m in _points(model)
    ]
    try:
        out = model(x)
    finally:
        for h in handles:
            h.remove()
    layer = _first_nonfinite([(n, o) for n, o in outputs if isinstance(o, torch.Tensor)])
    if layer is not None:
        return layer
    if not bool(torch.isfinite(out_to_loss(out)).all()):
        return "loss function"
    return "unknown"


def _diagnose(
    model: nn.Module,
    named: list[tuple[str, torch.Tensor]],
    step: int,
    xb: torch.Tensor,
    out_to_loss: Callable | None,
    loss: torch.Tensor | None,
) -> NonFiniteError:
    """Explain a non-finite loss at `step` (or non-finite weights after the last step)."""
    bad_weight = _first_nonfinite(named)
    if bad_weight is not None:
        # the update of the previous step broke a weight: through its gradient or otherwise
        grads = [(n, p.grad) for n, p in reversed(named)]  # backward runs from the output
        bad_grad = _first_nonfinite(grads)
        if bad_grad is not None:
            return NonFiniteError(step - 1, "grad", bad_grad, "gradient computed at that step")
        return NonFiniteError(step - 1, "weight", bad_weight, "weight after that step's update")
    where = locate_nonfinite_forward(model, xb, out_to_loss)
    return NonFiniteError(step, "loss", where, f"loss = {float(loss.detach())}")


def _batches(n: int, batch_size: int, generator: torch.Generator | None):
    """Endless minibatch indices: a fresh random permutation per epoch."""
    while True:
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n - batch_size + 1, batch_size):
            yield perm[start : start + batch_size]


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    lr: float,
    batch_size: int = 64,
    optimizer: str | torch.optim.Optimizer = "sgd",
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    loss_fn: LossFn = F.cross_entropy,
    log_every: int = 50,
    check_finite: bool = True,
    seed: int | None = None,
    on_step: Callable[[int, nn.Module], None] | None = None,
) -> History:
    """Train `model` on (x, y) for `steps` minibatch updates; returns the recorded History.

    The loss on all of (x, y) is recorded before training and every `log_every` steps (and at the
    end). Minibatches come from `seed` if given, else from torch's global generator. `on_step(t,
    model)` runs after update t (probes, or a test that wants to break something).
    """
    opt = (
        optimizer
        if isinstance(optimizer, torch.optim.Optimizer)
        else make_optimizer(model, optimizer, lr, momentum, weight_decay)
    )
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    batch_size = min(batch_size, len(x))
    history = History()

    def record(step: int, running: list[torch.Tensor]) -> None:
        history.steps.append(step)
        history.train_loss.append(evaluate(model, x, y, loss_fn).loss)
        history.batch_loss.append(float(torch.stack(running).mean()) if running else float("nan"))
        running.clear()

    running: list[torch.Tensor] = []
    record(0, running)
    model.train()
    batches = _batches(len(x), batch_size, generator)
    for step in range(1, steps + 1):
        idx = next(batches)
        xb, yb = x[idx], y[idx]
        loss = loss_fn(model(xb), yb)
        # One cheap test per step: a non-finite gradient or weight from step t makes the loss of
        # step t + 1 non-finite, and the gradients of step t are still in .grad to be examined.
        # (a Python float test: a tensor isfinite and its bool() cost more than the rest of a step's
        # bookkeeping)
        if check_finite and not math.isfinite(loss.item()):
            raise _diagnose(model, named, step, xb, lambda out, yb=yb: loss_fn(out, yb), loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip_value is not None:
            nn.utils.clip_grad_value_(params, clip_value)
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(params, clip_norm)
        opt.step()
        if on_step is not None:
            on_step(step, model)
        running.append(loss.detach())
        if step % log_every == 0 or step == steps:
            record(step, running)
    if check_finite and steps > 0 and _first_nonfinite(named) is not None:
        raise _diagnose(model, named, steps + 1, x[:1], None, None)
    return history
