"""What gradbook's probes cost: a plain torch training loop against the same training done the way
chapters do it (`gradbook.train.fit`, inside `probes.grad_norms`).

Four variants run in turn within each repetition (plain, fit, fit + probes every step, fit + probes
every tenth step), so that a change in machine load hits all alike; ratios are taken within a
repetition, then their median reported.
Torch runs on one thread, as chapters do (`threads = 1` is the chapter default), and the clock is
the process's CPU time: on a machine shared with other work, wall time measures the neighbours.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from bench import targets
from bench.measure import Measure
from gradbook import data, probes, train
from gradbook.nets import MLP


def plain_loop(model: nn.Module, split: data.Split, steps: int, batch: int) -> None:
    """The textbook loop: sample a batch, forward, backward, step. Nothing else."""
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    gen = torch.Generator().manual_seed(0)
    n = split.x_train.shape[0]
    for _ in range(steps):
        idx = torch.randint(0, n, (batch,), generator=gen)
        loss = F.cross_entropy(model(split.x_train[idx]), split.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def gradbook_fit(model: nn.Module, split: data.Split, steps: int, batch: int) -> None:
    """The same training through `gradbook.train.fit` (loss curve, finiteness checks)."""
    train.fit(model, split.x_train, split.y_train, steps=steps, lr=0.05, batch_size=batch, seed=0)


def probed_fit(model: nn.Module, split: data.Split, steps: int, batch: int) -> None:
    """`fit` with per-layer gradient norms recorded every step and read out at the end."""
    with probes.grad_norms(model) as g:
        gradbook_fit(model, split, steps, batch)
    g.history()


def sampled_fit(model: nn.Module, split: data.Split, steps: int, batch: int) -> None:
    """The same, recording one step in ten (`grad_norms(model, every=10)`)."""
    with probes.grad_norms(model, every=10) as g:
        gradbook_fit(model, split, steps, batch)
    g.history()


VARIANTS: dict[str, Callable[[nn.Module, data.Split, int, int], None]] = {
    "plain": plain_loop,
    "fit": gradbook_fit,
    "probed": probed_fit,
    "sampled": sampled_fit,
}


def _time(variant: str, split: data.Split, steps: int, batch: int, depth: int, width: int) -> float:
    torch.manual_seed(0)
    model = MLP.deep(
        split.n_features, width, depth, split.n_classes, activation="relu", init="kaiming"
    )
    t0 = time.process_time()
    VARIANTS[variant](model, split, steps, batch)
    return time.process_time() - t0


def run(
    reps: int,
    steps: int = 400,
    batch: int = 64,
    depth: int = 10,
    width: int = 64,
    tries: int = 5,
) -> list[Measure]:
    """Time the variants on a `depth` x `width` ReLU MLP trained `steps` steps on digits.

    Each run of a variant is the best of `tries` interleaved tries: on two cores shared with other
    work even CPU time swells in bursts, and the minimum is what the code itself costs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        split = data.digits()
        for v in VARIANTS:  # warm-up: allocator, hooks, first-call costs
            _time(v, split, 10, batch, depth, width)
        times: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for _ in range(reps):
            tried: dict[str, list[float]] = {v: [] for v in VARIANTS}
            for _ in range(tries):
                for v in VARIANTS:
                    tried[v].append(_time(v, split, steps, batch, depth, width))
            for v in VARIANTS:
                times[v].append(min(tried[v]))
    finally:
        torch.set_num_threads(threads)
    ratio = lambda a, b: [y / x for x, y in zip(times[a], times[b], strict=True)]  # noqa: E731
    shape = f"MLP {depth}x{width}, {steps} steps of batch {batch}, 1 thread, CPU s, best of {tries}"
    return [
        Measure("probes.plain", "plain torch training loop", "s", times["plain"], note=shape),
        Measure("probes.fit", "gradbook.train.fit, no probes", "s", times["fit"]),
        Measure("probes.probed", "fit inside probes.grad_norms", "s", times["probed"]),
        Measure("probes.fit_overhead", "fit / plain loop", "x", ratio("plain", "fit")),
        Measure("probes.probe_overhead", "probed fit / fit", "x", ratio("fit", "probed")),
        Measure(
            "probes.overhead",
            "probes overhead (probed fit / plain loop)",
            "x",
            ratio("plain", "probed"),
            targets.PROBES_OVERHEAD,
        ),
        Measure(
            "probes.overhead_every10",
            "  the same, recording every 10th step",
            "x",
            ratio("plain", "sampled"),
        ),
    ]
