"""gradbook.lite: a small pure-Python autodiff engine for the book's in-browser cells.

Standard library only, so it runs unchanged in CPython and in Pyodide. Read it in this order:
`engine` (Tensor and its ops, each with its local gradient), `nn` (layers), `nets` (the MLP, twin of
`gradbook.nets`), `init` (twin of `gradbook.init`), `optim`, `probes`, `data` (twin of
`gradbook.data`), `charts`.
"""

from . import charts, data, init, nets, nn, optim, probes
from .engine import ELEMENTWISE, Tensor, activate, batch_norm, cross_entropy, linear, matmul, mse
from .nets import ACTIVATIONS, MLP, Dense, make_activation
from .nn import BatchNorm, Linear, LSTMCell, Module, PReLU, RNNCell, run_lstm, run_rnn, zeros
from .optim import SGD, Adam, clip_grad_norm, clip_grad_value, grad_norm
from .rng import Rng

__version__ = "0.2.0"

__all__ = [
    "ACTIVATIONS",
    "ELEMENTWISE",
    "MLP",
    "SGD",
    "Adam",
    "BatchNorm",
    "Dense",
    "LSTMCell",
    "Linear",
    "Module",
    "PReLU",
    "RNNCell",
    "Rng",
    "Tensor",
    "activate",
    "batch_norm",
    "charts",
    "clip_grad_norm",
    "clip_grad_value",
    "cross_entropy",
    "data",
    "grad_norm",
    "init",
    "linear",
    "make_activation",
    "matmul",
    "mse",
    "nets",
    "nn",
    "optim",
    "probes",
    "run_lstm",
    "run_rnn",
    "zeros",
]
