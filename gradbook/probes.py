"""Look inside a network while it runs: gradient norms per layer and activation statistics.

Both probes are context managers that install hooks on entry and remove them on exit, so a model
leaves a `with` block exactly as it entered it:

    with probes.grad_norms(model) as g:
        model(x).sum().backward()
    g.pre_activation["hidden1"]   # ||dLoss/dz|| of layer 1's pre-activation z, last backward pass
    g.weight["hidden1"]           # ||dLoss/dW|| of layer 1's weight matrix

    with probes.activations(model) as a:
        model(x_test)
    a.post["hidden3"].dead_fraction

Layers are found by `model.probe_points()` (gradbook's nets define it: layer name -> the activation
module, whose input is the pre-activation). Any other model falls back to its activation modules,
named by their module path. Hooks keep tensors and convert them to floats only when read, so the
probes cost a few reductions per layer and step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

_ACTIVATION_TYPES = (
    nn.Sigmoid,
    nn.Tanh,
    nn.ReLU,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.GELU,
    nn.Softplus,
)


def probe_points(model: nn.Module) -> dict[str, nn.Module]:
    """Layer name -> module whose input is the layer's pre-activation, in forward order."""
    if hasattr(model, "probe_points"):
        return model.probe_points()
    return {name: m for name, m in model.named_modules() if isinstance(m, _ACTIVATION_TYPES)}


def layer_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """Layer name -> weight matrix; falls back to every parameter called `weight` with 2+ dims."""
    if hasattr(model, "layer_weights"):
        return model.layer_weights()
    return {
        name.removesuffix(".weight"): p
        for name, p in model.named_parameters()
        if name.endswith("weight") and p.dim() >= 2
    }


def _taps(model: nn.Module, points: dict[str, nn.Module]) -> dict[str, nn.Module] | None:
    """Layer name -> module with a `tap` seeing the pre-activation, when the model offers one per point.

    Only when the taps see what the probe points' inputs are: the same activation modules, none of
    them in place (the module hooks read z's gradient from the node that computed it).
    """
    if not hasattr(model, "pre_activation_taps"):
        return None
    taps = model.pre_activation_taps()
    same = list(taps) == list(points) and all(
        getattr(t, "act", None) is points[name] for name, t in taps.items()
    )
    if not same or any(getattr(m, "inplace", False) for m in points.values()):
        return None
    return taps


class GradNorms:
    """Per-layer gradient norms, one entry per backward pass (`history`), newest last.

    In a recorded forward pass each layer's pre-activation z is caught on its way into the
    activation: by the layer's `tap` when the model offers one (gradbook's nets), else by a forward
    pre-hook on the activation module. A tap gives z's node (`z.grad_fn`) a pre-hook that is a
    list's own `append` (autograd hands it the node's output gradients, z's among them, and no
    Python frame runs), except on the first layer, which every backward through the net reaches
    last: its hook also schedules the readout. A module hook puts a Python pre-hook on each
    `z.grad_fn` that hands over dLoss/dz when backward reaches it. When the
    backward pass ends, one batched call computes the norms of those gradients and of the weights'
    `.grad` and keeps them as one tensor; they become Python floats only when read. That reads the
    gradients before anything, such as clipping, can modify them in place. A weight's norm is that
    of its `.grad`, so it includes earlier passes if they were not zeroed. The probe keeps no z and
    retains no gradient in a tensor's `.grad`.
    """

    def __init__(self, model: nn.Module, every: int = 1) -> None:
        self.model = model
        self.points = probe_points(model)
        self.weights = layer_weights(model)
        self.every = every
        self._forwards = 0  # forward passes with gradients seen
        self._active = True  # whether this pass is recorded
        # gradients of the backward pass under way, and what each one is
        self._pending_keys: list[tuple[str, str]] = []
        self._pending: list[torch.Tensor] = []
        self._weight_keys = tuple(("weight", name) for name in self.weights)
        self._weight_list = list(self.weights.values())
        self._records: list[tuple[tuple[tuple[str, str], ...], torch.Tensor]] = []
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._tapped: list[nn.Module] = []  # modules whose `tap` this probe set
        # tap path: per layer, in forward order, its key, what its node's pre-hooks were handed
        # (the node's output gradients) and which of them is z's
        self._slots: list[tuple[tuple[str, str], list[tuple], list[int]]] = []
        self._queued = False  # whether the readout of the backward under way is scheduled
        self._started = False  # whether the forward pass under way has had a z with a gradient

    def _attach(self) -> None:
        taps = _taps(self.model, self.points)
        if taps is not None:
            for i, (name, module) in enumerate(taps.items()):
                module.tap = self._tap(name, first=i == 0)
                self._tapped.append(module)
            return
        # a pre-hook: it needs only the input z, and torch's module call does less work around it
        for name, module in self.points.items():
            self._handles.append(module.register_forward_pre_hook(self._forward_hook(name)))

    def _tap(self, name: str, first: bool) -> Callable[[torch.Tensor], None]:
        # the node's gradients: a pre-hook on z's node gets all of them, z's is at z.output_nr
        grads: list[tuple] = []
        index = [0]
        self._slots.append((("pre_activation", name), grads, index))
        append = grads.append

        def scheduling_hook(grad_outputs: tuple) -> None:  # on the last z a backward reaches
            append(grad_outputs)
            if not self._queued and not self._pending:
                torch.autograd.Variable._execution_engine.queue_callback(self._flush)
            self._queued = True

        def tap(z: torch.Tensor) -> None:
            if first:
                self._started = False
            if not z.requires_grad:
                return
            hook = append
            if not self._started:  # the pass's first z with a gradient: every later z depends on it
                self._started = True
                self._active = self._forwards % self.every == 0
                self._forwards += 1
                hook = scheduling_hook
            if not self._active:
                return
            node = z.grad_fn
            if node is None:  # z is a leaf: no node computed it
                z.register_hook(lambda grad: hook((grad,)))
                index[0] = 0
                return
            index[0] = z.output_nr
            node.register_prehook(hook)  # a builtin append: no Python frame runs in backward

        return tap

    def _collect(self, key: tuple[str, str], grad: torch.Tensor | None) -> None:
        if grad is None:
            return
        if not self._pending and not self._queued:  # first gradient of this backward pass
            torch.autograd.Variable._execution_engine.queue_callback(self._flush)
        self._pending_keys.append(key)
        self._pending.append(grad)

    def _forward_hook(self, name: str) -> Callable:
        key = ("pre_activation", name)
        first = name == next(iter(self.points))
        collect = self._collect

        def tensor_hook(grad: torch.Tensor) -> None:  # z is a leaf: no node computed it
            collect(key, grad)

        def hook(module: nn.Module, inputs: tuple) -> None:
            z = inputs[0]
            if not z.requires_grad:
                return
            if first:  # a new forward pass: is it one we record?
                self._active = self._forwards % self.every == 0
                self._forwards += 1
            if not self._active:
                return
            node = z.grad_fn
            if node is None:
                z.register_hook(tensor_hook)
                return
            index = z.output_nr  # which of the node's outputs z is

            def pre_hook(grad_outputs: tuple) -> None:  # runs when backward reaches z's node
                collect(key, grad_outputs[index])

            node.register_prehook(pre_hook)

        return hook

    def _read_slots(self) -> None:
        """Move the tapped dLoss/dz into the pending list, the last layer first, as backward runs."""
        for key, grads, index in reversed(self._slots):
            if grads:
                i = index[0]
                for outputs in grads:
                    if outputs[i] is not None:
                        self._pending_keys.append(key)
                        self._pending.append(outputs[i])
                grads.clear()

    def _flush(self) -> None:
        """End of a backward pass: all norms in one call, stored as one tensor."""
        if self._queued:
            self._queued = False
            self._read_slots()
        if not self._pending:
            return
        # weight gradients are complete in .grad now, and nothing has touched them yet
        grads, keys = self._pending, self._pending_keys
        weight_grads = [w.grad for w in self._weight_list]
        if any(g is None for g in weight_grads):  # name only the weights that got a gradient
            for key, grad in zip(self._weight_keys, weight_grads, strict=True):
                if grad is not None:
                    keys.append(key)
                    grads.append(grad)
        else:
            keys += self._weight_keys
            grads += weight_grads
        self._records.append((tuple(keys), torch.stack(torch._foreach_norm(grads))))
        self._pending = []
        self._pending_keys = []

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        for module in self._tapped:
            del module.tap  # back to the class's None: the module's state is as it was
        self._tapped.clear()
        for _, grads, _ in self._slots:
            grads.clear()

    def clear(self) -> None:
        """Forget the recorded history (hooks stay installed)."""
        self._records.clear()

    def _names(self, kind: str) -> list[str]:
        return list(self.points if kind == "pre_activation" else self.weights)

    def history(self, kind: str = "pre_activation") -> dict[str, list[float]]:
        """Every recorded norm: layer -> list over backward passes; kind is pre_activation or weight."""
        out: dict[str, list[float]] = {name: [] for name in self._names(kind)}
        for keys, norms in self._records:
            for (k, name), value in zip(keys, norms.tolist(), strict=True):
                if k == kind:
                    out[name].append(value)
        return out

    def _last(self, kind: str) -> dict[str, float]:
        for keys, norms in reversed(self._records):
            values = {
                name: v for (k, name), v in zip(keys, norms.tolist(), strict=True) if k == kind
            }
            if values:
                return {name: values[name] for name in self._names(kind) if name in values}
        return {}

    @property
    def pre_activation(self) -> dict[str, float]:
        """||dLoss/dz|| per layer (z = pre-activation, over the whole batch) of the last backward."""
        return self._last("pre_activation")

    @property
    def weight(self) -> dict[str, float]:
        """||dLoss/dW|| per layer of the last backward."""
        return self._last("weight")


@contextmanager
def grad_norms(model: nn.Module, every: int = 1) -> Iterator[GradNorms]:
    """Record per-layer gradient norms of pre-activations and weights during backward passes.

    every: record one forward/backward pass in `every` (1 = all); the others cost almost nothing.
    """
    probe = GradNorms(model, every)
    probe._attach()
    try:
        yield probe
    finally:
        probe.remove()


@dataclass(frozen=True)
class ActStats:
    """Summary of one layer's values over every unit and sample seen."""

    mean: float
    std: float
    #: mean over units of each unit's std across inputs; near 0: every input gets the same value
    spread: float
    percentiles: dict[float, float]
    #: share of units that were never positive on any input seen (a dead ReLU unit)
    dead_fraction: float


_MAX_QUANTILE = 1_000_000  # torch.quantile is limited in size; a strided subsample is plenty


def _summarise(chunks: list[torch.Tensor], percentiles: Sequence[float]) -> ActStats:
    values = torch.cat([c.reshape(c.shape[0], -1) for c in chunks]).double()
    flat = values.flatten()
    if flat.numel() > _MAX_QUANTILE:
        flat = flat[:: flat.numel() // _MAX_QUANTILE + 1]
    qs = torch.quantile(flat, torch.tensor([p / 100 for p in percentiles], dtype=flat.dtype))
    fired = (values > 0).any(dim=0)
    return ActStats(
        mean=float(values.mean()),
        std=float(values.std()),
        spread=float(values.std(dim=0).mean()) if len(values) > 1 else 0.0,
        percentiles={p: float(q) for p, q in zip(percentiles, qs, strict=True)},
        dead_fraction=float(1 - fired.double().mean()),
    )


class Activations:
    """Values at each layer's pre-activation (`pre`) and activation (`post`) over every forward pass."""

    def __init__(self, model: nn.Module, percentiles: Sequence[float]) -> None:
        self.points = probe_points(model)
        self.percentiles = tuple(percentiles)
        self._pre: dict[str, list[torch.Tensor]] = {name: [] for name in self.points}
        self._post: dict[str, list[torch.Tensor]] = {name: [] for name in self.points}
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        # summaries are costly (quantiles over every layer); computed once per batch of forwards
        self._summaries: dict[str, dict[str, ActStats]] = {}

    def _attach(self) -> None:
        for name, module in self.points.items():

            def hook(module, inputs, output, name=name):
                self._summaries.clear()
                self._pre[name].append(inputs[0].detach())
                self._post[name].append(output.detach())

            self._handles.append(module.register_forward_hook(hook))

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _stats(self, stores: dict[str, list[torch.Tensor]]) -> dict[str, ActStats]:
        return {name: _summarise(s, self.percentiles) for name, s in stores.items() if s}

    @property
    def pre(self) -> dict[str, ActStats]:
        if "pre" not in self._summaries:
            self._summaries["pre"] = self._stats(self._pre)
        return self._summaries["pre"]

    @property
    def post(self) -> dict[str, ActStats]:
        if "post" not in self._summaries:
            self._summaries["post"] = self._stats(self._post)
        return self._summaries["post"]


@contextmanager
def activations(
    model: nn.Module, percentiles: Sequence[float] = (15, 50, 85)
) -> Iterator[Activations]:
    """Record pre-activations and activations of each layer during forward passes (detached)."""
    probe = Activations(model, percentiles)
    probe._attach()
    try:
        yield probe
    finally:
        probe.remove()


def grad_norms_at(
    model: nn.Module,
    x: torch.Tensor,
    loss: Callable[[torch.Tensor], torch.Tensor] = torch.sum,
) -> dict[str, float]:
    """||dLoss/dz|| per hidden layer for one batch, loss = sum of outputs by default.

    Sets the parameters' .grad to None afterwards, so nothing leaks into a later step.
    """
    with grad_norms(model) as g:
        loss(model(x)).backward()
    model.zero_grad(set_to_none=True)
    return g.pre_activation


@torch.no_grad()
def dead_fraction(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    """Per layer, the share of units that output <= 0 on every row of x (never fire)."""
    was_training = model.training
    model.eval()
    with activations(model, percentiles=(50,)) as a:
        model(x)
    model.train(was_training)
    return {name: s.dead_fraction for name, s in a.post.items()}
