"""The twin of `gradbook.nets`: the same MLP (names, arguments, residual blocks) in pure Python.

A test copies the weights of a `gradbook.nets.MLP` into this one and gets the same outputs and
gradients (tests/test_lite_twin.py), so a cell really is a small version of a chapter's experiment.
Two differences, both because lite has no global state: every random draw comes from the `rng=`
keyword, and the pre-activations are recorded on each call (`pre_activations`) where torch hooks
the modules `probe_points()` returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .engine import Tensor
from .nn import Activation, BatchNorm, Identity, Linear, Module, PReLU
from .rng import Rng

#: activation name -> factory taking the layer width (PReLU learns one slope per unit).
ACTIVATIONS: dict[str, Callable[[int], Module]] = {
    "sigmoid": lambda n: Activation(Tensor.sigmoid),
    "tanh": lambda n: Activation(Tensor.tanh),
    "relu": lambda n: Activation(Tensor.relu),
    "leaky_relu": lambda n: Activation(Tensor.leaky_relu),  # slope 0.01
    "prelu": lambda n: PReLU(n, init=0.25),
    "elu": lambda n: Activation(Tensor.elu),  # alpha 1.0
    "selu": lambda n: Activation(Tensor.selu),
    "softplus": lambda n: Activation(Tensor.softplus),
    "gelu": lambda n: Activation(Tensor.gelu),
    "identity": lambda n: Identity(),
}


def make_activation(name: str, width: int) -> Module:
    """A fresh activation module by name."""
    try:
        return ACTIVATIONS[name](width)
    except KeyError:
        known = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown activation {name!r}; known: {known}") from None


class Dense(Module):
    """One layer: linear map, optional batch norm, activation.

    `skip`, if given, is added just before the activation: that is the second half of a residual
    block, out = act(norm(W h) + x). The activation's input of the last call is `pre_activation`.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str,
        batch_norm: bool = False,
        bias: bool = True,
        *,
        rng: Rng,
        init: str = "pytorch_default",
        init_kwargs: dict | None = None,
    ) -> None:
        self.linear = Linear(n_in, n_out, bias, rng=rng, init=init, init_kwargs=init_kwargs)
        self.norm: Module = BatchNorm(n_out) if batch_norm else Identity()
        self.act = make_activation(activation, n_out)
        self.pre_activation: Tensor | None = None

    def __call__(self, x: Tensor, skip: Tensor | None = None) -> Tensor:
        z = self.norm(self.linear(x))
        if skip is not None:
            z = z + skip
        self.pre_activation = z
        return self.act(z)

    def parameters(self) -> list[Tensor]:
        return self.linear.parameters() + self.norm.parameters() + self.act.parameters()


def _init_kwargs(init: str, activation: str, given: dict | None) -> dict:
    """Match He's gain to the activation unless the caller chose one."""
    kwargs = dict(given or {})
    if init in ("kaiming", "he", "kaiming_normal", "kaiming_uniform"):
        kwargs.setdefault("nonlinearity", "leaky_relu" if activation == "leaky_relu" else "relu")
    return kwargs


class MLP(Module):
    """A multilayer perceptron: sizes = [inputs, hidden..., outputs].

    activation: a name from ACTIVATIONS, used in every hidden layer (the output layer is linear).
    init: a scheme name from gradbook.lite.init applied to every linear layer; None means
        "pytorch_default" (nn.Linear's own). He/Kaiming gets the gain of the activation.
    batch_norm: batch norm between each hidden linear map and its activation.
    residual: group the hidden layers after the first into two-layer residual blocks,
        h <- act(norm(W2 act(norm(W1 h))) + h); needs equal hidden widths and an odd hidden count.
    bias: whether linear layers have biases.
    rng: where the weights come from (keyword only; torch uses its global generator).

    Layers are named "hidden1", "hidden2", ..., "output" (`net.layers["hidden3"].linear.weight`).
    After each call, `pre_activations[i]` holds hidden layer i+1's input to its activation, the
    tensor whose gradient chapter 02 measures.
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
        *,
        rng: Rng,
    ) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError("an MLP needs at least input and output sizes")
        self.sizes = sizes
        self.activation = activation
        self.init = init or "pytorch_default"
        kwargs = _init_kwargs(self.init, activation, init_kwargs) if init is not None else {}
        n_hidden = len(sizes) - 2
        self.stages = self._stages(n_hidden, residual)
        layers: dict[str, Dense] = {}
        for i in range(n_hidden):
            layers[f"hidden{i + 1}"] = Dense(
                sizes[i], sizes[i + 1], activation, batch_norm, bias,
                rng=rng, init=self.init, init_kwargs=kwargs,
            )  # fmt: skip
        layers["output"] = Dense(
            sizes[-2],
            sizes[-1],
            "identity",
            False,
            bias,
            rng=rng,
            init=self.init,
            init_kwargs=kwargs,
        )
        self.layers = layers
        self.pre_activations: list[Tensor] = []

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
        """`depth` hidden layers of the same width: MLP.deep(64, 32, 10, 10, activation="tanh", rng=rng)."""
        return cls([in_features] + [width] * depth + [out_features], **kwargs)

    @property
    def hidden_names(self) -> list[str]:
        return [name for name in self.layers if name != "output"]

    @property
    def depth(self) -> int:
        """The number of hidden layers."""
        return len(self.sizes) - 2

    def __call__(self, x: Tensor) -> Tensor:
        for stage in self.stages:
            if len(stage) == 1:
                x = self.layers[stage[0]](x)
            else:
                first, second = stage
                x = self.layers[second](self.layers[first](x), skip=x)
        self.pre_activations = [self.layers[name].pre_activation for name in self.hidden_names]
        return x

    def layer_weights(self, include_output: bool = True) -> dict[str, Tensor]:
        """Layer name -> its weight matrix, in forward order."""
        names = list(self.layers) if include_output else self.hidden_names
        return {name: self.layers[name].linear.weight for name in names}

    def parameters(self) -> list[Tensor]:
        """Layer by layer, as torch orders them: weight, bias, BN scale and shift, PReLU slope."""
        return [p for layer in self.layers.values() for p in layer.parameters()]
