"""Reverse-mode autodiff over small matrices, in pure Python.

micrograd's idea (every value remembers the op that made it and how to send a gradient back) applied
to 2-D lists of floats instead of single numbers, so a layer is one op and not ten thousand. Each op
below computes its forward value and, right next to it, a closure with its local gradient rule.

Rules that keep the code short and correct:
- `Tensor.data` and `Tensor.grad` are lists of rows and are never changed in place: every op, optimiser
  and clipper builds new rows, so a closure always sees the values its forward pass saw.
- Only tensors with `requires_grad` (parameters, and anything computed from them) join the graph.
- Inner loops are list comprehensions over `zip`, and dot products go through `math.sumprod` where the
  interpreter has it (Python 3.12+, so in Pyodide) and `sum(map(mul, ...))` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from operator import mul

Rows = list[list[float]]

if hasattr(math, "sumprod"):  # Python >= 3.12: one C call per dot product
    _dot = math.sumprod
else:

    def _dot(a: Iterable[float], b: Iterable[float]) -> float:
        return sum(map(mul, a, b))


def _transpose(rows: Sequence[Sequence[float]]) -> list[tuple[float, ...]]:
    return list(zip(*rows, strict=True))


def _add_rows(a: Rows, b: Rows) -> Rows:
    return [[x + y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]


def _sigmoid(v: float) -> float:
    if v >= 0.0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)  # no overflow for very negative v
    return e / (1.0 + e)


def _exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:  # torch gives inf; so do we, so that explosions show up as inf/nan
        return math.inf


def _log(v: float) -> float:
    if v > 0.0:
        return math.log(v)
    return -math.inf if v == 0.0 else math.nan


class Tensor:
    """A 2-D array of floats with a gradient. Scalars are 1x1 tensors."""

    __slots__ = ("data", "grad", "requires_grad", "name", "op", "_parents", "_backward")

    def __init__(
        self,
        data: float | Sequence[Sequence[float]],
        requires_grad: bool = False,
        name: str = "",
    ) -> None:
        if isinstance(data, int | float):
            rows = [[float(data)]]
        else:
            rows = [[float(v) for v in row] for row in data]
            if not rows or len({len(r) for r in rows}) != 1 or not rows[0]:
                raise ValueError("a Tensor needs a non-empty rectangular list of rows")
        self.data: Rows = rows
        self.grad: Rows | None = None
        self.requires_grad = requires_grad
        self.name = name
        self.op = ""
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Callable[[], None] | None = None

    @classmethod
    def _result(cls, rows: Rows, parents: tuple[Tensor, ...], op: str) -> Tensor:
        """The output of an op: wraps `rows` without copying and links it to its parents."""
        out = cls.__new__(cls)
        out.data, out.grad, out.name, out.op = rows, None, "", op
        out.requires_grad = any(p.requires_grad for p in parents)
        out._parents = parents if out.requires_grad else ()
        out._backward = None
        return out

    # ------------------------------------------------------------------ basics
    @property
    def shape(self) -> tuple[int, int]:
        return len(self.data), len(self.data[0])

    def item(self) -> float:
        if self.shape != (1, 1):
            raise ValueError(f"item() needs a 1x1 tensor, this one is {self.shape}")
        return self.data[0][0]

    def tolist(self) -> Rows:
        return [list(r) for r in self.data]

    def detach(self) -> Tensor:
        return Tensor._result(self.data, (), "detach")

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        if self.shape == (1, 1):
            return f"Tensor{label}({self.data[0][0]:.6g})"
        return f"Tensor{label}(shape={self.shape}, op={self.op or 'leaf'!r})"

    def _accumulate(self, g: Rows) -> None:
        self.grad = g if self.grad is None else _add_rows(self.grad, g)

    def backward(self, grad: Rows | None = None) -> None:
        """Fill `.grad` of every tensor this one depends on (that requires grad)."""
        if grad is None:
            if self.shape != (1, 1):
                raise ValueError("backward() without a gradient needs a 1x1 tensor (a loss)")
            grad = [[1.0]]
        order: list[Tensor] = []  # topological order, built without recursion (graphs get deep)
        seen: set[int] = set()
        stack: list[tuple[Tensor, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node._parents if id(p) not in seen)
        self._accumulate(grad)
        for node in reversed(order):
            if node._backward is not None and node.grad is not None:
                node._backward()

    # ------------------------------------------------- elementwise, one input
    def _unary(self, rows: Rows, op: str, local_grad: Callable[[], Rows]) -> Tensor:
        """An elementwise op: grad_in = grad_out * local_grad, computed only when needed."""
        out = Tensor._result(rows, (self,), op)
        if out.requires_grad:

            def backward() -> None:
                self._accumulate(
                    [[g * d for g, d in zip(gr, dr)] for gr, dr in zip(out.grad, local_grad())]
                )

            out._backward = backward
        return out

    def sigmoid(self) -> Tensor:
        s = [[_sigmoid(v) for v in row] for row in self.data]
        return self._unary(s, "sigmoid", lambda: [[y * (1.0 - y) for y in row] for row in s])

    def tanh(self) -> Tensor:
        t = [[math.tanh(v) for v in row] for row in self.data]
        return self._unary(t, "tanh", lambda: [[1.0 - y * y for y in row] for row in t])

    def relu(self) -> Tensor:
        x = self.data
        r = [[v if v > 0.0 else 0.0 for v in row] for row in x]
        return self._unary(r, "relu", lambda: [[1.0 if v > 0.0 else 0.0 for v in row] for row in x])

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        x = self.data
        r = [[v if v > 0.0 else slope * v for v in row] for row in x]
        return self._unary(
            r, "leaky_relu", lambda: [[1.0 if v > 0.0 else slope for v in row] for row in x]
        )

    def elu(self, alpha: float = 1.0) -> Tensor:
        x = self.data
        r = [[v if v > 0.0 else alpha * (math.exp(v) - 1.0) for v in row] for row in x]
        # for v <= 0 the derivative alpha * e^v equals out + alpha
        return self._unary(
            r,
            "elu",
            lambda: [
                [1.0 if v > 0.0 else y + alpha for v, y in zip(rx, ry)] for rx, ry in zip(x, r)
            ],
        )

    def exp(self) -> Tensor:
        e = [[_exp(v) for v in row] for row in self.data]
        return self._unary(e, "exp", lambda: e)

    def log(self) -> Tensor:
        x = self.data
        return self._unary(
            [[_log(v) for v in row] for row in x],
            "log",
            lambda: [[1.0 / v for v in row] for row in x],
        )

    def __neg__(self) -> Tensor:
        return self * -1.0

    # ------------------------------------------------- elementwise, two inputs
    def __add__(self, other: Tensor | float) -> Tensor:
        """Same shape, a (1, n) row broadcast over the rows of self, or a constant."""
        if not isinstance(other, Tensor):
            c = float(other)
            out = Tensor._result([[v + c for v in row] for row in self.data], (self,), "add")
            if out.requires_grad:
                out._backward = lambda: self._accumulate(out.grad)
            return out
        if other.shape == self.shape:
            rows = _add_rows(self.data, other.data)
            broadcast = False
        elif other.shape == (1, self.shape[1]):
            b = other.data[0]
            rows = [[v + c for v, c in zip(row, b)] for row in self.data]
            broadcast = True
        else:
            raise ValueError(f"cannot add {other.shape} to {self.shape}")
        out = Tensor._result(rows, (self, other), "add")
        if out.requires_grad:

            def backward() -> None:
                if self.requires_grad:
                    self._accumulate(out.grad)
                if other.requires_grad:  # a broadcast row gets the sum over the rows it touched
                    other._accumulate([list(map(sum, zip(*out.grad)))] if broadcast else out.grad)

            out._backward = backward
        return out

    __radd__ = __add__

    def __sub__(self, other: Tensor | float) -> Tensor:
        return self + (-other)

    def __rsub__(self, other: float) -> Tensor:
        return (-self) + other

    def __mul__(self, other: Tensor | float) -> Tensor:
        """Elementwise product with a same-shape tensor, a (1, n) row, or a constant."""
        if not isinstance(other, Tensor):
            c = float(other)
            out = Tensor._result([[v * c for v in row] for row in self.data], (self,), "mul")
            if out.requires_grad:
                out._backward = lambda: self._accumulate([[g * c for g in r] for r in out.grad])
            return out
        a = self.data
        if other.shape == self.shape:
            b = other.data
        elif other.shape == (1, self.shape[1]):
            b = [other.data[0]] * len(a)
        else:
            raise ValueError(f"cannot multiply {self.shape} by {other.shape}")
        out = Tensor._result(
            [[x * y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)], (self, other), "mul"
        )
        if out.requires_grad:

            def backward() -> None:
                g = out.grad
                if self.requires_grad:  # d(ab)/da = b
                    self._accumulate([[x * y for x, y in zip(rg, rb)] for rg, rb in zip(g, b)])
                if other.requires_grad:  # d(ab)/db = a, summed over broadcast rows
                    gb = [[x * y for x, y in zip(rg, ra)] for rg, ra in zip(g, a)]
                    other._accumulate(gb if b is other.data else [list(map(sum, zip(*gb)))])

            out._backward = backward
        return out

    __rmul__ = __mul__

    # ------------------------------------------------------------- reductions
    def sum(self) -> Tensor:
        out = Tensor._result([[math.fsum(map(math.fsum, self.data))]], (self,), "sum")
        if out.requires_grad:
            n_cols = self.shape[1]
            out._backward = lambda: self._accumulate([[out.grad[0][0]] * n_cols for _ in self.data])
        return out

    def mean(self) -> Tensor:
        n_rows, n_cols = self.shape
        return self.sum() * (1.0 / (n_rows * n_cols))

    # ------------------------------------------------------------- shapes
    def cols(self, start: int, stop: int) -> Tensor:
        """Columns start..stop-1 (how an LSTM splits its four gates)."""
        out = Tensor._result([row[start:stop] for row in self.data], (self,), "cols")
        if out.requires_grad:
            left, right = [0.0] * start, [0.0] * (self.shape[1] - stop)
            out._backward = lambda: self._accumulate([left + g + right for g in out.grad])
        return out

    def __matmul__(self, other: Tensor) -> Tensor:
        return matmul(self, other)


# ---------------------------------------------------------------- matrix ops
def matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b. Local gradients: d/da = g @ b.T, d/db = a.T @ g."""
    bt = _transpose(b.data)
    out = Tensor._result([[_dot(r, c) for c in bt] for r in a.data], (a, b), "matmul")
    if out.requires_grad:

        def backward() -> None:
            g = out.grad
            if a.requires_grad:
                a._accumulate([[_dot(gr, br) for br in b.data] for gr in g])
            if b.requires_grad:
                gt = _transpose(g)
                b._accumulate([[_dot(ac, gc) for gc in gt] for ac in _transpose(a.data)])

        out._backward = backward
    return out


def linear(x: Tensor, w: Tensor, b: Tensor | None = None) -> Tensor:
    """x @ w.T + b with torch's layout: w has one row per output unit, b is a (1, out) row.

    Local gradients: dx = g @ w, dw = g.T @ x, db = column sums of g.
    """
    if b is None:
        rows = [[_dot(r, wr) for wr in w.data] for r in x.data]
        parents: tuple[Tensor, ...] = (x, w)
    else:
        rows = [[_dot(r, wr) + c for wr, c in zip(w.data, b.data[0])] for r in x.data]
        parents = (x, w, b)
    out = Tensor._result(rows, parents, "linear")
    if out.requires_grad:

        def backward() -> None:
            g = out.grad
            gt = _transpose(g)
            if x.requires_grad:
                wt = _transpose(w.data)
                x._accumulate([[_dot(gr, wc) for wc in wt] for gr in g])
            if w.requires_grad:
                xt = _transpose(x.data)
                w._accumulate([[_dot(gc, xc) for xc in xt] for gc in gt])
            if b is not None and b.requires_grad:
                b._accumulate([[math.fsum(gc) for gc in gt]])

        out._backward = backward
    return out


# ---------------------------------------------------------------- losses
def cross_entropy(logits: Tensor, targets: Sequence[int]) -> Tensor:
    """Mean over rows of -log softmax(logits)[target]. Local gradient: (softmax - onehot) / N."""
    n = len(logits.data)
    if len(targets) != n:
        raise ValueError(f"{n} rows of logits but {len(targets)} targets")
    probs: Rows = []
    total = 0.0
    for row, t in zip(logits.data, targets):
        m = max(row)
        exps = [math.exp(v - m) for v in row]
        s = math.fsum(exps)
        probs.append([e / s for e in exps])
        total += m + math.log(s) - row[t]  # logsumexp - logit of the target
    out = Tensor._result([[total / n]], (logits,), "cross_entropy")
    if out.requires_grad:

        def backward() -> None:
            k = out.grad[0][0] / n
            grads = [[p * k for p in pr] for pr in probs]
            for gr, t in zip(grads, targets):
                gr[t] -= k  # grads is a fresh list, so this in-place edit is safe
            logits._accumulate(grads)

        out._backward = backward
    return out


def mse(pred: Tensor, target: Tensor | Sequence[Sequence[float]]) -> Tensor:
    """Mean of (pred - target)^2 over all entries. Local gradient: 2 (pred - target) / count."""
    t = target.data if isinstance(target, Tensor) else target
    diff = [[p - q for p, q in zip(rp, rt)] for rp, rt in zip(pred.data, t)]
    count = len(diff) * len(diff[0])
    out = Tensor._result([[math.fsum(d * d for r in diff for d in r) / count]], (pred,), "mse")
    if out.requires_grad:

        def backward() -> None:
            k = 2.0 * out.grad[0][0] / count
            pred._accumulate([[d * k for d in r] for r in diff])

        out._backward = backward
    return out


# ---------------------------------------------------------------- batch norm
def batch_norm(
    x: Tensor,
    gamma: Tensor,
    beta: Tensor,
    mean: Sequence[float],
    var: Sequence[float],
    eps: float = 1e-5,
    batch_stats: bool = True,
) -> Tensor:
    """gamma * (x - mean) / sqrt(var + eps) + beta, per column.

    With `batch_stats` the mean and (biased) variance are this batch's own, so they depend on x and
    the gradient goes through them as well:
        dx = (1/N) inv_std (N dxhat - sum(dxhat) - xhat sum(dxhat xhat)),  dxhat = dy gamma.
    Without it (evaluation with running statistics) they are constants: dx = dy gamma inv_std.
    """
    inv_std = [1.0 / math.sqrt(v + eps) for v in var]
    xhat = [[(v - m) * s for v, m, s in zip(row, mean, inv_std)] for row in x.data]
    g_row, b_row = gamma.data[0], beta.data[0]
    rows = [[h * gm + bt for h, gm, bt in zip(row, g_row, b_row)] for row in xhat]
    out = Tensor._result(rows, (x, gamma, beta), "batch_norm")
    if out.requires_grad:

        def backward() -> None:
            dy = out.grad
            if gamma.requires_grad:
                gamma._accumulate([[_dot(c, h) for c, h in zip(zip(*dy), zip(*xhat))]])
            if beta.requires_grad:
                beta._accumulate([[math.fsum(c) for c in zip(*dy)]])
            if not x.requires_grad:
                return
            dxhat = [[d * gm for d, gm in zip(row, g_row)] for row in dy]
            if not batch_stats:
                x._accumulate([[d * s for d, s in zip(row, inv_std)] for row in dxhat])
                return
            n = len(dy)
            cols_d, cols_h = _transpose(dxhat), _transpose(xhat)
            sum_d = [math.fsum(c) for c in cols_d]
            sum_dh = [_dot(cd, ch) for cd, ch in zip(cols_d, cols_h)]
            x._accumulate(
                [
                    [
                        s / n * (n * d - sd - h * sdh)
                        for d, h, s, sd, sdh in zip(rd, rh, inv_std, sum_d, sum_dh)
                    ]
                    for rd, rh in zip(dxhat, xhat)
                ]
            )

        out._backward = backward
    return out


def column_stats(x: Tensor) -> tuple[list[float], list[float]]:
    """Per-column mean and biased variance (what batch norm normalises with)."""
    n = len(x.data)
    means, variances = [], []
    for col in zip(*x.data):
        m = math.fsum(col) / n
        means.append(m)
        variances.append(math.fsum((v - m) * (v - m) for v in col) / n)
    return means, variances


# ---------------------------------------------------------------- activations by name
ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sigmoid": Tensor.sigmoid,
    "tanh": Tensor.tanh,
    "relu": Tensor.relu,
    "leaky_relu": Tensor.leaky_relu,
    "elu": Tensor.elu,
    "identity": lambda t: t,
}


def activate(x: Tensor, name: str) -> Tensor:
    """Apply the activation called `name` (one of ACTIVATIONS)."""
    try:
        return ACTIVATIONS[name](x)
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}"
        ) from None
