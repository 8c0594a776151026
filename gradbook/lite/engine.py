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


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _repeat(g: Rows, m: int, n: int) -> Rows:
    """A row, column or 1x1 repeated out to fresh (m, n) rows (the backward of a sum)."""
    if len(g) == 1:
        g = g * m
    return [list(row) if len(row) == n else row * n for row in g]


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


def _pow(v: float, k: float) -> float:
    """v ** k with torch's answers where Python raises: inf for 0 ** -k, nan for (-v) ** 0.5."""
    try:
        return math.pow(v, k)
    except OverflowError:
        return math.inf if v > 0.0 or k == int(k) and k % 2 == 0 else -math.inf
    except ValueError:
        return math.inf if v == 0.0 else math.nan


def _sqrt(v: float) -> float:
    return math.sqrt(v) if v >= 0.0 else math.nan


def _div(a: float, b: float) -> float:
    """a / b with IEEE answers for b == 0 (torch's), where Python raises."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


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
        # `not v <= 0` keeps NaN, as torch does: a NaN input must stay visible downstream
        r = [[0.0 if v <= 0.0 else v for v in row] for row in x]
        return self._unary(
            r, "relu", lambda: [[0.0 if v <= 0.0 else 1.0 for v in row] for row in x]
        )

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

    def selu(self) -> Tensor:
        """Klambauer et al.'s scaled ELU, with torch's constants."""
        x, a, k = self.data, _SELU_ALPHA, _SELU_SCALE
        r = [[k * v if v > 0.0 else k * a * (math.exp(v) - 1.0) for v in row] for row in x]
        # for v <= 0 the derivative k a e^v equals out + k a
        return self._unary(
            r,
            "selu",
            lambda: [[k if v > 0.0 else y + k * a for v, y in zip(rx, ry)] for rx, ry in zip(x, r)],
        )

    def softplus(self) -> Tensor:
        """log(1 + e^x), and x itself above 20 (torch's threshold). Local gradient: sigmoid(x)."""
        x = self.data
        r = [[v if v > 20.0 else math.log1p(math.exp(v)) for v in row] for row in x]
        return self._unary(
            r, "softplus", lambda: [[1.0 if v > 20.0 else _sigmoid(v) for v in row] for row in x]
        )

    def gelu(self) -> Tensor:
        """x Phi(x), Phi the normal CDF (torch's exact GELU). Local gradient: Phi(x) + x phi(x)."""
        x = self.data
        cdf = [[0.5 * (1.0 + math.erf(v * _SQRT1_2)) for v in row] for row in x]
        r = [[v * p for v, p in zip(rx, rp)] for rx, rp in zip(x, cdf)]
        return self._unary(
            r,
            "gelu",
            lambda: [
                [p + v * math.exp(-0.5 * v * v) * _INV_SQRT_2PI for v, p in zip(rx, rp)]
                for rx, rp in zip(x, cdf)
            ],
        )

    def prelu(self, weight: Tensor) -> Tensor:
        """Leaky ReLU with a learned slope: a (1, n) row, one per column (torch's PReLU(n)), or 1x1.
        Local gradients: d/dx = 1 or a; d/da = x where x <= 0, summed over the rows a was used on."""
        weight, a, fold = self._broadcast(weight)
        x = self.data
        r = [[v if v > 0.0 else s * v for v, s in zip(rx, ra)] for rx, ra in zip(x, a)]
        out = Tensor._result(r, (self, weight), "prelu")
        if out.requires_grad:

            def backward() -> None:
                g = out.grad
                if self.requires_grad:
                    self._accumulate(
                        [
                            [d if v > 0.0 else d * s for d, v, s in zip(rg, rx, ra)]
                            for rg, rx, ra in zip(g, x, a)
                        ]
                    )
                if weight.requires_grad:
                    weight._accumulate(
                        fold(
                            [
                                [0.0 if v > 0.0 else d * v for d, v in zip(rg, rx)]
                                for rg, rx in zip(g, x)
                            ]
                        )
                    )

            out._backward = backward
        return out

    def exp(self) -> Tensor:
        e = [[_exp(v) for v in row] for row in self.data]
        return self._unary(e, "exp", lambda: e)

    def log(self) -> Tensor:
        x = self.data
        return self._unary(
            [[_log(v) for v in row] for row in x],
            "log",
            lambda: [[_div(1.0, v) for v in row] for row in x],  # 1/0 = inf, as torch
        )

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __pow__(self, k: float) -> Tensor:
        """Elementwise power with a constant exponent k. Local gradient: k x^(k-1)."""
        k = float(k)
        x = self.data
        return self._unary(
            [[_pow(v, k) for v in row] for row in x],
            "pow",
            lambda: [[k * _pow(v, k - 1.0) for v in row] for row in x],
        )

    def sqrt(self) -> Tensor:
        """Elementwise square root. Local gradient: 1 / (2 sqrt(x))."""
        r = [[_sqrt(v) for v in row] for row in self.data]
        return self._unary(r, "sqrt", lambda: [[_div(0.5, s) for s in row] for row in r])

    # ------------------------------------------------- elementwise, two inputs
    def _broadcast(self, other: Tensor | float) -> tuple[Tensor, Rows, Callable[[Rows], Rows]]:
        """`other` as a Tensor, its rows stretched to self's shape, and the fold that sums a gradient
        of self's shape back to other's shape (over the rows and/or columns it was repeated along).

        other may be a constant, a tensor of self's shape, a (1, n) row, an (m, 1) column or a 1x1.
        """
        if not isinstance(other, Tensor):
            other = Tensor(float(other))  # a constant: a 1x1 tensor outside the graph
        (m, n), (r, c) = self.shape, other.shape
        if (r, c) == (m, n):
            return other, other.data, lambda g: g
        if r not in (1, m) or c not in (1, n):
            raise ValueError(f"cannot broadcast {other.shape} to {self.shape}")
        rows = other.data if r == m else other.data * m  # shared rows: never edited in place
        if c == 1:
            rows = [row * n for row in rows]

        def fold(g: Rows) -> Rows:
            if r == 1:
                g = [[math.fsum(col) for col in zip(*g)]]
            if c == 1:
                g = [[math.fsum(row)] for row in g]
            return g

        return other, rows, fold

    def __add__(self, other: Tensor | float) -> Tensor:
        """Elementwise sum (other broadcast). Local gradients: 1 and 1."""
        other, b, fold = self._broadcast(other)
        out = Tensor._result(_add_rows(self.data, b), (self, other), "add")
        if out.requires_grad:

            def backward() -> None:
                if self.requires_grad:
                    self._accumulate(out.grad)
                if other.requires_grad:
                    other._accumulate(fold(out.grad))

            out._backward = backward
        return out

    __radd__ = __add__

    def __sub__(self, other: Tensor | float) -> Tensor:
        return self + (-other)

    def __rsub__(self, other: float) -> Tensor:
        return (-self) + other

    def __mul__(self, other: Tensor | float) -> Tensor:
        """Elementwise product (other broadcast). Local gradients: d(ab)/da = b, d(ab)/db = a."""
        other, b, fold = self._broadcast(other)
        a = self.data
        out = Tensor._result(
            [[x * y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)], (self, other), "mul"
        )
        if out.requires_grad:

            def backward() -> None:
                g = out.grad
                if self.requires_grad:
                    self._accumulate([[x * y for x, y in zip(rg, rb)] for rg, rb in zip(g, b)])
                if other.requires_grad:
                    other._accumulate(
                        fold([[x * y for x, y in zip(rg, ra)] for rg, ra in zip(g, a)])
                    )

            out._backward = backward
        return out

    __rmul__ = __mul__

    def __truediv__(self, other: Tensor | float) -> Tensor:
        """Elementwise quotient (other broadcast). Local gradients: d(a/b)/da = 1/b,
        d(a/b)/db = -a/b^2 = -out/b."""
        other, b, fold = self._broadcast(other)
        q = [[_div(x, y) for x, y in zip(ra, rb)] for ra, rb in zip(self.data, b)]
        out = Tensor._result(q, (self, other), "div")
        if out.requires_grad:

            def backward() -> None:
                g = out.grad
                if self.requires_grad:
                    self._accumulate([[_div(x, y) for x, y in zip(rg, rb)] for rg, rb in zip(g, b)])
                if other.requires_grad:
                    other._accumulate(
                        fold(
                            [
                                [-_div(x * v, y) for x, v, y in zip(rg, rq, rb)]
                                for rg, rq, rb in zip(g, q, b)
                            ]
                        )
                    )

            out._backward = backward
        return out

    def __rtruediv__(self, other: float) -> Tensor:
        """c / x, as c * x^-1."""
        return self**-1.0 * other

    # ------------------------------------------------------------- reductions
    def sum(self, dim: int | None = None) -> Tensor:
        """The sum of every entry (1x1), of each column (dim=0: a (1, n) row) or of each row (dim=1:
        an (m, 1) column); like torch's sum with keepdim=True. Local gradient: 1 for every entry."""
        m, n = self.shape
        if dim is None:
            rows = [[math.fsum(map(math.fsum, self.data))]]
        elif dim == 0:
            rows = [[math.fsum(col) for col in zip(*self.data)]]
        elif dim == 1:
            rows = [[math.fsum(row)] for row in self.data]
        else:
            raise ValueError(f"dim must be None, 0 or 1, not {dim!r}")
        out = Tensor._result(rows, (self,), "sum")
        if out.requires_grad:  # the gradient of each sum goes back, unchanged, to what it summed
            out._backward = lambda: self._accumulate(_repeat(out.grad, m, n))
        return out

    def mean(self, dim: int | None = None) -> Tensor:
        """sum(dim) divided by the number of entries summed."""
        m, n = self.shape
        count = m * n if dim is None else (m if dim == 0 else n)
        return self.sum(dim) * (1.0 / count)

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
#: The activations without parameters, by the names gradbook.nets uses (PReLU, which learns its
#: slope, is `Tensor.prelu` and lives in `gradbook.lite.nets.ACTIVATIONS` with the rest).
ELEMENTWISE: dict[str, Callable[[Tensor], Tensor]] = {
    "sigmoid": Tensor.sigmoid,
    "tanh": Tensor.tanh,
    "relu": Tensor.relu,
    "leaky_relu": Tensor.leaky_relu,
    "elu": Tensor.elu,
    "selu": Tensor.selu,
    "softplus": Tensor.softplus,
    "gelu": Tensor.gelu,
    "identity": lambda t: t,
}


def activate(x: Tensor, name: str) -> Tensor:
    """Apply the parameter-free activation called `name` (one of ELEMENTWISE)."""
    try:
        return ELEMENTWISE[name](x)
    except KeyError:
        hint = " (it learns a slope: use Tensor.prelu)" if name == "prelu" else ""
        raise ValueError(
            f"unknown activation {name!r}{hint}; choose from {sorted(ELEMENTWISE)}"
        ) from None
