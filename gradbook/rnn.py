"""Recurrent nets, several seeds at once: a tanh RNN and an LSTM with a linear readout, the forget-gate
bias, and the Jacobian of the last hidden state with respect to the first (BPTT).

`StackedRNN` and `StackedLSTM` hold one single-layer torch net per seed side by side and run all seeds
as batched matmuls (`torch.baddbmm`), so five seeds cost little more than one. Seed s starts from the
weights that `torch.nn.RNN` / `torch.nn.LSTM` and a `torch.nn.Linear` readout draw after
`torch.manual_seed(s)` (PyTorch's default init: every weight and bias from U(-1/sqrt(H), 1/sqrt(H))),
and computes what those modules compute, to float rounding (tests/test_rnn.py checks it).

Shapes: weights are stored transposed from torch's layout, as (seeds, fan_in, fan_out):

    w_ih (S, n_in, G*H)   w_hh (S, H, G*H)   b_ih, b_hh (S, 1, G*H)   w_out (S, H, n_out)   b_out (S, 1, n_out)

with G = 1 for the RNN and G = 4 for the LSTM (torch's gate order i, f, g, o). Inputs are
(seeds, batch, T, n_in), or (batch, T, n_in) shared by all seeds; outputs are (seeds, batch, n_out),
read from the last hidden state. Summing a per-seed loss over seeds gives each seed's weights exactly
that seed's gradient, so one backward pass and one optimiser serve all of them.

    model = StackedLSTM.from_seeds(n_in=2, n_hidden=64, n_out=1, seeds=range(5), forget_bias=1.0)
    loss = seed_mse(model(x).squeeze(-1), y)   # (seeds,)
    loss.sum().backward()

`jacobian_norms` measures ||dh_t/dh_0||_2 of a tanh recurrence for every t along a trajectory, and
`scale_to_top_singular_value` sets a recurrent matrix's largest singular value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn

__all__ = [
    "StackedLSTM",
    "StackedRNN",
    "jacobian_norms",
    "scale_to_top_singular_value",
    "seed_mse",
]


class _Stacked(nn.Module):
    """Shared parts: the stacked parameters, the input projection and the readout."""

    gates = 1

    def __init__(self, cells: Sequence[nn.RNNBase], heads: Sequence[nn.Linear]) -> None:
        super().__init__()
        if len(cells) != len(heads) or not cells:
            raise ValueError("one cell and one readout per seed")
        first = cells[0]
        for c in cells:
            if (c.input_size, c.hidden_size) != (first.input_size, first.hidden_size):
                raise ValueError("all seeds need the same sizes")
            if c.num_layers != 1 or c.bidirectional or not c.bias or not c.batch_first:
                raise ValueError("single-layer, unidirectional, batch_first nets with biases only")

        def stack(tensors: Iterable[torch.Tensor]) -> nn.Parameter:
            return nn.Parameter(torch.stack([t.detach() for t in tensors]).contiguous())

        self.n_in, self.n_hidden = first.input_size, first.hidden_size
        self.w_ih = stack(c.weight_ih_l0.T for c in cells)
        self.w_hh = stack(c.weight_hh_l0.T for c in cells)
        self.b_ih = stack(c.bias_ih_l0[None, :] for c in cells)
        self.b_hh = stack(c.bias_hh_l0[None, :] for c in cells)
        self.w_out = stack(h.weight.T for h in heads)
        self.b_out = stack(h.bias[None, :] for h in heads)

    @property
    def n_seeds(self) -> int:
        return self.w_ih.shape[0]

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        """x (S, B, T, in) or (B, T, in) -> the input terms x_t W_ih + b_ih + b_hh, (T, S, B, G*H)."""
        if x.dim() == 3:
            x = x.expand(self.n_seeds, *x.shape)
        s, b, t, n = x.shape
        if s != self.n_seeds or n != self.n_in:
            raise ValueError(
                f"inputs {tuple(x.shape)} for {self.n_seeds} seeds of {self.n_in} inputs"
            )
        z = torch.baddbmm(self.b_ih + self.b_hh, x.reshape(s, b * t, n), self.w_ih)
        return z.view(s, b, t, -1).permute(2, 0, 1, 3)

    def states(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden states h_1..h_T, (S, B, T, H), from h_0 (= c_0) = 0."""
        raise NotImplementedError

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        """The linear readout of hidden states (S, B, H) -> (S, B, n_out)."""
        return torch.baddbmm(self.b_out, h, self.w_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.states(x)[:, :, -1])

    @classmethod
    def _torch_cell(cls, n_in: int, n_hidden: int) -> nn.RNNBase:
        raise NotImplementedError

    @classmethod
    def _build(
        cls, n_in: int, n_hidden: int, n_out: int, seeds: Iterable[int], dtype: torch.dtype
    ) -> tuple[list[nn.RNNBase], list[nn.Linear]]:
        cells, heads = [], []
        for seed in seeds:
            torch.manual_seed(seed)
            cells.append(cls._torch_cell(n_in, n_hidden).to(dtype))
            heads.append(nn.Linear(n_hidden, n_out).to(dtype))
        return cells, heads


class StackedRNN(_Stacked):
    """h_t = tanh(x_t W_ih + b_ih + h_{t-1} W_hh + b_hh) (torch.nn.RNN), one per seed."""

    gates = 1

    @classmethod
    def _torch_cell(cls, n_in: int, n_hidden: int) -> nn.RNNBase:
        return nn.RNN(n_in, n_hidden, nonlinearity="tanh", batch_first=True)

    @classmethod
    def from_seeds(
        cls, n_in: int, n_hidden: int, n_out: int, seeds: Iterable[int],
        dtype: torch.dtype = torch.float32,
    ) -> StackedRNN:  # fmt: skip
        """The nets `nn.RNN(n_in, n_hidden)` + `nn.Linear(n_hidden, n_out)` after each manual_seed."""
        return cls(*cls._build(n_in, n_hidden, n_out, seeds, dtype))

    def states(self, x: torch.Tensor) -> torch.Tensor:
        z = self._inputs(x)
        h = z.new_zeros(*z.shape[1:3], self.n_hidden)
        out = []
        for z_t in z:
            h = torch.tanh(torch.baddbmm(z_t, h, self.w_hh))
            out.append(h)
        return torch.stack(out, dim=2)


class StackedLSTM(_Stacked):
    """torch.nn.LSTM, one per seed: gates i, f, g, o from x_t W_ih + h_{t-1} W_hh + b_ih + b_hh,

        c_t = f_t * c_{t-1} + i_t * g_t,    h_t = o_t * tanh(c_t).

    `forget_bias` is added to the forget gate's slice of b_ih (as `gradbook.lite.LSTMCell` does), on
    top of PyTorch's default draw: 0 is PyTorch's default init, 1 is Gers et al. (2000) and
    Jozefowicz et al. (2015).
    """

    gates = 4

    def __init__(
        self, cells: Sequence[nn.RNNBase], heads: Sequence[nn.Linear], forget_bias: float = 0.0
    ) -> None:
        super().__init__(cells, heads)
        with torch.no_grad():
            self.b_ih[:, :, self.n_hidden : 2 * self.n_hidden] += forget_bias

    @classmethod
    def _torch_cell(cls, n_in: int, n_hidden: int) -> nn.RNNBase:
        return nn.LSTM(n_in, n_hidden, batch_first=True)

    @classmethod
    def from_seeds(
        cls, n_in: int, n_hidden: int, n_out: int, seeds: Iterable[int],
        forget_bias: float = 0.0, dtype: torch.dtype = torch.float32,
    ) -> StackedLSTM:  # fmt: skip
        """The nets `nn.LSTM(n_in, n_hidden)` + `nn.Linear(n_hidden, n_out)` after each manual_seed,
        with `forget_bias` added to the forget gate's input bias."""
        return cls(*cls._build(n_in, n_hidden, n_out, seeds, dtype), forget_bias=forget_bias)

    def states(self, x: torch.Tensor, cells: bool = False) -> torch.Tensor:
        """Hidden states h_1..h_T, (S, B, T, H); with `cells=True` the cell states c_1..c_T."""
        z = self._inputs(x)
        n = self.n_hidden
        h = z.new_zeros(*z.shape[1:3], n)
        c = torch.zeros_like(h)
        hs, cs = [], []
        for z_t in z:
            a = torch.baddbmm(z_t, h, self.w_hh)
            i, f, o = torch.sigmoid(a[..., :n]), torch.sigmoid(a[..., n : 2 * n]), a[..., 3 * n :]
            c = f * c + i * torch.tanh(a[..., 2 * n : 3 * n])
            h = torch.sigmoid(o) * torch.tanh(c)
            hs.append(h)
            cs.append(c)
        return torch.stack(cs if cells else hs, dim=2)


def seed_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error per seed, (S,), of predictions (S, B) against targets (S, B) or (B,)."""
    return (pred - target).pow(2).mean(dim=-1)


@torch.no_grad()
def scale_to_top_singular_value(w: torch.Tensor, value: float) -> torch.Tensor:
    """`w` (..., H, H) rescaled so that its largest singular value is `value` (a new tensor)."""
    top = torch.linalg.matrix_norm(w, ord=2)
    return w * (value / top)[..., None, None]


@torch.no_grad()
def jacobian_norms(w_hh: torch.Tensor, h0: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
    """||dh_t/dh_0||_2 for t = 1..T of h_t = tanh(h_{t-1} W_hh + u_t), along one trajectory each.

    `w_hh` (..., H, H) in the row-vector layout of `StackedRNN` (torch's weight_hh transposed),
    `h0` (..., H) and `drive` (..., T, H) the input terms u_t (x_t W_ih + biases; zeros for a
    free-running net), with any leading batch dims that broadcast. With row vectors,
    dh_t/dh_{t-1} = W_hh diag(1 - h_t^2), so

        dh_t/dh_0 = W_hh D_1 W_hh D_2 ... W_hh D_t,   D_k = diag(tanh'(a_k)) = diag(1 - h_k^2),

    the product of BPTT; its spectral norm bounds how much any gradient on h_t can grow or shrink on
    its way back to h_0. Computed as the exact matrix product (use float64 for long products).
    Returns (..., T).
    """
    h = h0
    jac = torch.eye(w_hh.shape[-1], dtype=w_hh.dtype).expand(*h0.shape[:-1], -1, -1)
    norms = []
    for u in drive.unbind(dim=-2):
        h = torch.tanh((h.unsqueeze(-2) @ w_hh).squeeze(-2) + u)
        jac = (jac @ w_hh) * (1 - h * h).unsqueeze(-2)  # J_t = J_{t-1} W_hh diag(1 - h_t^2)
        norms.append(torch.linalg.matrix_norm(jac, ord=2))
    return torch.stack(norms, dim=-1)
