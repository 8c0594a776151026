"""gradbook.lite: a small pure-Python autodiff engine for the book's in-browser cells.

Standard library only, so it runs unchanged in CPython and in Pyodide. Read it in this order:
`engine` (Tensor and its ops, each with its local gradient), `nn` (layers), `init`, `optim`,
`probes`, `data`, `charts`.
"""

from . import charts, data, init, nn, optim, probes
from .engine import ACTIVATIONS, Tensor, activate, batch_norm, cross_entropy, linear, matmul, mse
from .nn import MLP, BatchNorm, Linear, LSTMCell, Module, RNNCell, run_lstm, run_rnn, zeros
from .optim import SGD, Adam, clip_grad_norm, clip_grad_value, grad_norm
from .rng import Rng

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "SGD",
    "Adam",
    "BatchNorm",
    "LSTMCell",
    "Linear",
    "Module",
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
    "matmul",
    "mse",
    "nn",
    "optim",
    "probes",
    "run_lstm",
    "run_rnn",
    "zeros",
]
