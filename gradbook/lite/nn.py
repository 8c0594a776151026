"""Layers built from engine ops: Linear, BatchNorm, activations as modules, RNN and LSTM cells.
(The MLP, the twin of gradbook.nets.MLP, is in `gradbook.lite.nets`.)

Parameters use torch's layouts and gate orders, so a test (or a curious reader) can copy weights
between a torch module and its lite twin and get the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .engine import Tensor, batch_norm, column_stats, linear
from .init import init_weight
from .rng import Rng


class Module:
    """Something with parameters and a train/eval switch (torch's `nn.Module`, much reduced)."""

    training = True

    def parameters(self) -> list[Tensor]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def modules(self) -> list[Module]:
        """This module and every module held in its attributes (directly, or in a list or dict)."""
        found: list[Module] = [self]
        for v in vars(self).values():
            items = v.values() if isinstance(v, dict) else v if isinstance(v, list | tuple) else [v]
            found += [m for item in items if isinstance(item, Module) for m in item.modules()]
        return found


class Linear(Module):
    """y = x W^T + b (torch's `nn.Linear`); W is (out, in), drawn by a scheme from `lite.init`."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        bias: bool = True,
        *,
        rng: Rng,
        init: str = "pytorch_default",
        init_kwargs: dict | None = None,
    ) -> None:
        self.weight = Tensor([[0.0] * n_in for _ in range(n_out)], True, "weight")
        self.bias = Tensor([[0.0] * n_out], True, "bias") if bias else None
        init_weight(self.weight, self.bias, init, rng=rng, **(init_kwargs or {}))

    def __call__(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)

    def parameters(self) -> list[Tensor]:
        return [self.weight] + ([self.bias] if self.bias is not None else [])


class BatchNorm(Module):
    """Batch normalisation over the rows of a batch (torch's BatchNorm1d).

    Training: normalise with the batch's mean and biased variance, and move the running statistics
    towards the batch's (the running variance uses the unbiased estimate, as torch does).
    Evaluation: normalise with the running statistics.
    """

    def __init__(self, n: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        self.gamma = Tensor([[1.0] * n], True, "gamma")
        self.beta = Tensor([[0.0] * n], True, "beta")
        self.running_mean = [0.0] * n
        self.running_var = [1.0] * n
        self.momentum, self.eps = momentum, eps

    def __call__(self, x: Tensor) -> Tensor:
        if not self.training:
            return batch_norm(
                x, self.gamma, self.beta, self.running_mean, self.running_var, self.eps, False
            )
        mean, var = column_stats(x)
        n, m = len(x.data), self.momentum
        unbiased = [v * n / (n - 1) for v in var] if n > 1 else var
        self.running_mean = [(1 - m) * r + m * b for r, b in zip(self.running_mean, mean)]
        self.running_var = [(1 - m) * r + m * b for r, b in zip(self.running_var, unbiased)]
        return batch_norm(x, self.gamma, self.beta, mean, var, self.eps, True)

    def parameters(self) -> list[Tensor]:
        return [self.gamma, self.beta]


class Identity(Module):
    """x -> x (where a layer has no batch norm, as torch's `nn.Identity`)."""

    def __call__(self, x: Tensor) -> Tensor:
        return x


class Activation(Module):
    """A parameter-free activation as a module, e.g. `Activation(Tensor.tanh)`."""

    def __init__(self, fn: Callable[[Tensor], Tensor]) -> None:
        self.fn = fn

    def __call__(self, x: Tensor) -> Tensor:
        return self.fn(x)


class PReLU(Module):
    """Leaky ReLU whose negative slope is learned, one per unit (torch's `nn.PReLU(n, init)`)."""

    def __init__(self, n: int = 1, init: float = 0.25) -> None:
        self.weight = Tensor([[init] * n], True, "weight")

    def __call__(self, x: Tensor) -> Tensor:
        return x.prelu(self.weight)

    def parameters(self) -> list[Tensor]:
        return [self.weight]


class RNNCell(Module):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), torch's RNNCell."""

    def __init__(self, n_in: int, n_hidden: int, rng: Rng) -> None:
        self.n_hidden = n_hidden
        self.ih = Linear(n_in, n_hidden, rng=rng)  # torch draws all four from U(+-1/sqrt(hidden))
        self.hh = Linear(n_hidden, n_hidden, rng=rng)
        a = n_hidden**-0.5
        for p in (self.ih.weight, self.ih.bias, self.hh.weight, self.hh.bias):
            p.data = rng.uniform_rows(*p.shape, -a, a)

    def __call__(self, x: Tensor, h: Tensor) -> Tensor:
        return (self.ih(x) + self.hh(h)).tanh()

    def parameters(self) -> list[Tensor]:
        return self.ih.parameters() + self.hh.parameters()


class LSTMCell(Module):
    """torch's LSTMCell: gates i, f, g, o from one (4 * hidden) linear map each of x and h.

        c' = f * c + i * g      (the additive path the gradient can travel unshrunk)
        h' = o * tanh(c')

    `forget_bias` is added to the forget gate's bias (Gers et al. 2000 suggest 1).
    """

    def __init__(self, n_in: int, n_hidden: int, rng: Rng, forget_bias: float = 0.0) -> None:
        self.n_hidden = n_hidden
        self.ih = Linear(n_in, 4 * n_hidden, rng=rng)
        self.hh = Linear(n_hidden, 4 * n_hidden, rng=rng)
        a = n_hidden**-0.5
        for p in (self.ih.weight, self.ih.bias, self.hh.weight, self.hh.bias):
            p.data = rng.uniform_rows(*p.shape, -a, a)
        if forget_bias:
            row = self.ih.bias.data[0]
            f = slice(n_hidden, 2 * n_hidden)
            self.ih.bias.data = [row[: f.start] + [v + forget_bias for v in row[f]] + row[f.stop :]]

    def __call__(self, x: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        h, c = state
        n = self.n_hidden
        z = self.ih(x) + self.hh(h)
        i, f = z.cols(0, n).sigmoid(), z.cols(n, 2 * n).sigmoid()
        g, o = z.cols(2 * n, 3 * n).tanh(), z.cols(3 * n, 4 * n).sigmoid()
        c = f * c + i * g
        return o * c.tanh(), c

    def parameters(self) -> list[Tensor]:
        return self.ih.parameters() + self.hh.parameters()


def zeros(rows: int, cols: int) -> Tensor:
    """A constant zero tensor (an initial hidden state)."""
    return Tensor([[0.0] * cols for _ in range(rows)])


def run_rnn(cell: RNNCell, xs: Sequence[Tensor]) -> list[Tensor]:
    """Hidden states h_1..h_T of `cell` over the inputs x_1..x_T, starting from h_0 = 0."""
    h = zeros(len(xs[0].data), cell.n_hidden)
    states = []
    for x in xs:
        h = cell(x, h)
        states.append(h)
    return states


def run_lstm(cell: LSTMCell, xs: Sequence[Tensor]) -> list[Tensor]:
    """Hidden states h_1..h_T of `cell` over x_1..x_T, starting from h_0 = c_0 = 0."""
    h = c = zeros(len(xs[0].data), cell.n_hidden)
    states = []
    for x in xs:
        h, c = cell(x, (h, c))
        states.append(h)
    return states
