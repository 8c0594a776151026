"""The networks the book measures: multilayer perceptrons with named layers, optionally with batch
normalisation and two-layer residual blocks.

Every hidden layer is a `Dense` module named "hidden1", "hidden2", ... (the last one is "output"), so a
probe can say "hidden 3" and a reader can find the parameter `layers.hidden3.linear.weight`. The input
of each layer's activation module is its pre-activation: that is where `gradbook.probes` hooks in.
Recurrent nets come in a later chapter; they expose the same `probe_points()` method.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from gradbook.init import apply_init

#: activation name -> factory taking the layer width (PReLU learns one slope per unit).
ACTIVATIONS: dict[str, Callable[[int], nn.Module]] = {
    "sigmoid": lambda n: nn.Sigmoid(),
    "tanh": lambda n: nn.Tanh(),
    "relu": lambda n: nn.ReLU(),
    "leaky_relu": lambda n: nn.LeakyReLU(0.01),
    "prelu": lambda n: nn.PReLU(n, init=0.25),
    "elu": lambda n: nn.ELU(1.0),
    "selu": lambda n: nn.SELU(),
    "softplus": lambda n: nn.Softplus(),
    "gelu": lambda n: nn.GELU(),
    "identity": lambda n: nn.Identity(),
}


def make_activation(name: str, width: int) -> nn.Module:
    """A fresh activation module by name (a fresh one per layer, so hooks can tell layers apart)."""
    try:
        return ACTIVATIONS[name](width)
    except KeyError:
        known = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown activation {name!r}; known: {known}") from None


class Dense(nn.Module):
    """One layer: linear map, optional batch norm, activation.

    `skip`, if given, is added just before the activation: that is the second half of a residual block,
    out = act(norm(W h) + x).
    `tap`, if set on an instance (gradbook.probes does, and deletes it on leaving), is called with the
    pre-activation z of every forward pass: cheaper than a module hook, which puts every call of the
    activation module on torch's slow path.
    """

    tap: Callable[[torch.Tensor], None] | None = None

    def __init__(
        self, n_in: int, n_out: int, activation: str, batch_norm: bool = False, bias: bool = True
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, n_out, bias=bias)
        self.norm: nn.Module = nn.BatchNorm1d(n_out) if batch_norm else nn.Identity()
        self.act = make_activation(activation, n_out)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        z = self.norm(self.linear(x))
        if skip is not None:
            z = z + skip
        if self.tap is not None:
            self.tap(z)
        return self.act(z)


def _init_kwargs(init: str, activation: str, given: dict | None) -> dict:
    """Match He's gain to the activation unless the caller chose one."""
    kwargs = dict(given or {})
    if init in ("kaiming", "he", "kaiming_normal", "kaiming_uniform"):
        kwargs.setdefault("nonlinearity", "leaky_relu" if activation == "leaky_relu" else "relu")
    return kwargs


class MLP(nn.Module):
    """A multilayer perceptron: sizes = [inputs, hidden..., outputs].

    activation: a name from ACTIVATIONS, used in every hidden layer (the output layer is linear).
    init: a scheme name from gradbook.init applied to every linear layer; None keeps nn.Linear's own
        (PyTorch's default). He/Kaiming gets the gain of the activation (leaky ReLU's slope included).
    batch_norm: batch norm between each hidden linear map and its activation.
    residual: group the hidden layers after the first into two-layer residual blocks,
        h <- act(norm(W2 act(norm(W1 h))) + h); needs equal hidden widths and an odd hidden count.
    bias: whether linear layers have biases.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        init: str | None = None,
        batch_norm: bool = False,
        residual: bool = False,
        bias: bool = True,
        init_kwargs: dict | None = None,
    ) -> None:
        super().__init__()
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError("an MLP needs at least input and output sizes")
        self.sizes = sizes
        self.activation = activation
        self.init = init or "pytorch_default"
        n_hidden = len(sizes) - 2
        layers: dict[str, Dense] = {}
        for i in range(n_hidden):
            layers[f"hidden{i + 1}"] = Dense(sizes[i], sizes[i + 1], activation, batch_norm, bias)
        layers["output"] = Dense(sizes[-2], sizes[-1], "identity", batch_norm=False, bias=bias)
        self.layers = nn.ModuleDict(layers)
        self.stages = self._stages(n_hidden, residual)
        if init is not None:
            apply_init(self, init, **_init_kwargs(init, activation, init_kwargs))

    def _stages(self, n_hidden: int, residual: bool) -> list[tuple[str, ...]]:
        """The order of computation: single layers, or pairs of layers that form a residual block."""
        names = [f"hidden{i + 1}" for i in range(n_hidden)]
        if not residual:
            return [(n,) for n in names] + [("output",)]
        if n_hidden % 2 != 1 or len(set(self.sizes[1:-1])) != 1:
            raise ValueError(
                "residual blocks need equal hidden widths and an odd number of hidden layers "
                "(one input layer, then pairs)"
            )
        pairs = [(names[i], names[i + 1]) for i in range(1, n_hidden, 2)]
        return [(names[0],), *pairs, ("output",)]

    @classmethod
    def deep(cls, in_features: int, width: int, depth: int, out_features: int, **kwargs) -> MLP:
        """`depth` hidden layers of the same width: MLP.deep(64, 256, 10, 10, activation="tanh")."""
        return cls([in_features] + [width] * depth + [out_features], **kwargs)

    @property
    def hidden_names(self) -> list[str]:
        return [name for name in self.layers if name != "output"]

    @property
    def depth(self) -> int:
        """The number of hidden layers."""
        return len(self.sizes) - 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.stages:
            if len(stage) == 1:
                x = self.layers[stage[0]](x)
            else:
                first, second = stage
                x = self.layers[second](self.layers[first](x), skip=x)
        return x

    def probe_points(self, include_output: bool = False) -> dict[str, nn.Module]:
        """Layer name -> the module whose input is that layer's pre-activation, in forward order."""
        names = list(self.layers) if include_output else self.hidden_names
        return {name: self.layers[name].act for name in names}

    def pre_activation_taps(self, include_output: bool = False) -> dict[str, Dense]:
        """Layer name -> the `Dense` whose `tap` sees that layer's pre-activation (as probe_points)."""
        names = list(self.layers) if include_output else self.hidden_names
        return {name: self.layers[name] for name in names}

    def layer_weights(self, include_output: bool = True) -> dict[str, torch.Tensor]:
        """Layer name -> its weight matrix, in forward order."""
        names = list(self.layers) if include_output else self.hidden_names
        return {name: self.layers[name].linear.weight for name in names}
