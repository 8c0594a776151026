"""A training monitor: per-layer gradient norms, update ratios, and the first non-finite value.

One line attaches it to any torch model and its optimiser; leaving the `with` block removes every
hook:

    with diagnose.watch(model, optimizer) as mon:
        for x, y in batches:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()          # raises NonFiniteError before a bad update is applied
    mon.first                         # Event(step=37, phase="forward", where="layers.hidden4.linear", ...)
    mon.history("grad_norm")          # layer -> ||dLoss/dW|| at every step
    mon.history("update_ratio")       # layer -> ||W_after - W_before|| / ||W_before||

Where it looks, in the order the values are computed in one step:

- `input`: the model's input (a forward pre-hook on the model);
- `forward`: the output of each leaf module; the first one that is non-finite while its input was
  finite is the module that produced the bad value;
- `loss`: the gradient arriving at the model's output, dLoss/d(output). If the forward pass was
  finite and this is not, the loss function made it;
- `backward`: the gradient each module sends to its input, in backward order; the first
  non-finite one names the module whose backward produced it (overflow in the backward pass);
- `grad`: the parameters' `.grad` just before the update (anything the hooks above missed);
- `weight`: the parameters just after the update.

Steps count from 1: step t is the t-th call of `optimizer.step()`, as in `gradbook.train.fit`. An
event found during step t's forward or backward pass stops `optimizer.step()` of step t with
`gradbook.train.NonFiniteError` (when `stop=True`), so the weights stay as they were before the bad
update and can be examined. The checks cost one `isfinite` reduction per module output and
gradient; the statistics, a few norms per layer and step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from gradbook.probes import layer_weights
from gradbook.train import NonFiniteError

PHASES = ("input", "forward", "loss", "backward", "grad", "weight")


@dataclass(frozen=True)
class Event:
    """The first non-finite value: during which step, in which phase, where, and what it was."""

    step: int
    phase: str  # one of PHASES
    where: str  # a module name, a parameter name, "input" or "loss"
    value: str  # "nan" or "inf" (the first non-finite entry's kind)

    @property
    def blamed(self) -> str:
        """What to look at first: "input", "loss", or "<phase>: <module or parameter>"."""
        return self.phase if self.phase in ("input", "loss") else f"{self.phase}: {self.where}"


class Monitor:
    """Hooks on a model (and its optimiser) that watch every step; see the module docstring.

    model: any nn.Module. optimizer: the optimiser that updates it; its step hooks read the
    gradients just before each update and the weights just after. Without one, call `end_step()`
    after each update yourself. every: record the statistics every `every` steps (the
    non-finite checks run at every step). stop: raise NonFiniteError at the first event.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | None = None,
        every: int = 1,
        stop: bool = True,
    ) -> None:
        self.model, self.optimizer = model, optimizer
        self.every, self.stop = every, stop
        self.step = 1  # the update being computed
        self.first: Event | None = None
        self.weights = layer_weights(model)
        self.param_names = [n for n, p in model.named_parameters() if p.requires_grad]
        self._params = [p for p in model.parameters() if p.requires_grad]
        self._leaves = [(n, m) for n, m in model.named_modules() if n and not list(m.children())]
        self._before: list[torch.Tensor] | None = None
        self._steps: list[int] = []
        self._stats: list[torch.Tensor] = []  # per recorded step: (3, layers) grad, weight, update
        self._handles: list = []
        self._checks: list[tuple[str, str, torch.Tensor]] = []
        self._flags: list[torch.Tensor] = []

    # --- hooks ---------------------------------------------------------------------------------
    # Each check appends (phase, where, flag) with flag = isfinite(t).all() as a tensor; nothing
    # is read back until the update, so a healthy step costs one synchronisation, not one per
    # module. The lists are in the order the values were computed.
    def _note(self, phase: str, where: str, t: torch.Tensor) -> None:
        self._checks.append((phase, where, t))
        self._flags.append(torch.isfinite(t).all())

    def _resolve(self) -> None:
        """Turn the pending checks into the first Event, if any value was non-finite."""
        checks, flags = self._checks, self._flags
        self._checks, self._flags = [], []
        if self.first is not None or not flags or bool(torch.stack(flags).all()):
            return
        forward = [c for c, f in zip(checks, flags, strict=True) if not bool(f)]
        phase, where, t = forward[0]
        self.first = Event(self.step, phase, where, "nan" if bool(torch.isnan(t).any()) else "inf")

    def _attach(self) -> None:
        self._handles.append(self.model.register_forward_pre_hook(self._input_hook))
        self._handles.append(self.model.register_forward_hook(self._output_hook))
        for name, module in self._leaves:
            self._handles.append(module.register_forward_hook(self._leaf_hook(name)))
        if self.optimizer is not None:
            self._handles.append(self.optimizer.register_step_pre_hook(self._pre_step))
            self._handles.append(self.optimizer.register_step_post_hook(self._post_step))

    def _input_hook(self, module: nn.Module, inputs: tuple) -> None:
        for x in inputs:
            if isinstance(x, torch.Tensor):
                self._note("input", "input", x)

    def _output_hook(self, module: nn.Module, inputs: tuple, output: object) -> None:
        if isinstance(output, torch.Tensor) and output.requires_grad:
            # dLoss/d(output) is what the loss function sent back: checked first in backward
            output.register_hook(lambda grad: self._note("loss", "loss", grad))

    def _leaf_hook(self, name: str):
        def hook(module: nn.Module, inputs: tuple, output: object) -> None:
            if not isinstance(output, torch.Tensor):
                return
            self._note("forward", name, output)
            x = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
            if x is not None and x.requires_grad and x is not output:
                # the gradient this module's backward sends to its input
                x.register_hook(lambda grad: self._note("backward", name, grad))

        return hook

    def _pre_step(self, optimizer: torch.optim.Optimizer, args: tuple, kwargs: dict) -> None:
        for name, p in zip(reversed(self.param_names), reversed(self._params), strict=True):
            if p.grad is not None:
                self._note("grad", name, p.grad)
        self._resolve()
        if self.first is not None and self.stop:
            e = self.first
            raise NonFiniteError(e.step, e.phase, e.where, f"{e.value}; update not applied")
        if self.step % self.every == 0:
            self._before = [w.detach().clone() for w in self.weights.values()]

    def _post_step(self, optimizer: torch.optim.Optimizer, args: tuple, kwargs: dict) -> None:
        self.end_step()

    # --- the reader's side ---------------------------------------------------------------------
    @torch.no_grad()
    def end_step(self) -> None:
        """Close step t: check the weights, record the statistics, count the step."""
        for name, p in zip(self.param_names, self._params, strict=True):
            self._note("weight", name, p)
        self._resolve()
        if self._before is not None:
            ws = [w.detach() for w in self.weights.values()]
            grads = [
                g if (g := w.grad) is not None else torch.zeros_like(w)
                for w in self.weights.values()
            ]
            deltas = [w - b for w, b in zip(ws, self._before, strict=True)]
            gn = torch.stack(torch._foreach_norm(grads))
            bn = torch.stack(torch._foreach_norm(self._before))
            wn = torch.stack(torch._foreach_norm(ws))
            dn = torch.stack(torch._foreach_norm(deltas))
            self._stats.append(torch.stack([gn, wn, dn / bn]))
            self._steps.append(self.step)
            self._before = None
        self.step += 1
        if self.first is not None and self.stop:
            e = self.first
            raise NonFiniteError(e.step, e.phase, e.where, e.value)

    @property
    def steps(self) -> list[int]:
        """The steps at which statistics were recorded."""
        return list(self._steps)

    def history(self, what: str = "grad_norm") -> dict[str, list[float]]:
        """layer -> values over the recorded steps; what: grad_norm, weight_norm or update_ratio."""
        row = {"grad_norm": 0, "weight_norm": 1, "update_ratio": 2}[what]
        if not self._stats:
            return {name: [] for name in self.weights}
        table = torch.stack(self._stats)[:, row].T.tolist()  # (layers, steps)
        return dict(zip(self.weights, table, strict=True))

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


@contextmanager
def watch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    every: int = 1,
    stop: bool = True,
) -> Iterator[Monitor]:
    """Attach a Monitor for the duration of a `with` block; every hook is removed on exit."""
    monitor = Monitor(model, optimizer, every, stop)
    monitor._attach()
    try:
        yield monitor
    finally:
        monitor.remove()
