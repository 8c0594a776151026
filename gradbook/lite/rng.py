"""A seeded random source with the few helpers the engine needs.

Every random draw in gradbook.lite goes through an `Rng` passed in by the caller, so a cell that
seeds once gives the same numbers on every run, in CPython and in Pyodide alike.
"""

from __future__ import annotations

import random

from .engine import Rows


class Rng(random.Random):
    """`random.Random` plus matrix-shaped normal and uniform draws."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)

    def normal(self, rows: int, cols: int, std: float = 1.0, mean: float = 0.0) -> Rows:
        """A rows x cols list of N(mean, std^2) draws."""
        g = self.gauss
        return [[g(mean, std) for _ in range(cols)] for _ in range(rows)]

    def uniform_rows(self, rows: int, cols: int, low: float, high: float) -> Rows:
        """A rows x cols list of U(low, high) draws."""
        u = self.uniform
        return [[u(low, high) for _ in range(cols)] for _ in range(rows)]

    def permutation(self, n: int) -> list[int]:
        """0..n-1 in a random order."""
        order = list(range(n))
        self.shuffle(order)
        return order
