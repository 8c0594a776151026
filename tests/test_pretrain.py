"""gradbook.pretrain: greedy layer-wise autoencoders on a stacked MLP, per seed."""

from __future__ import annotations

import torch

from gradbook.nets import MLP
from gradbook.pretrain import feature_std, hidden_feature_std, pretrain, standardize_target
from gradbook.seeds import StackedMLP


def _stack(seeds: list[int], depth: int = 3) -> StackedMLP:
    return StackedMLP.from_seeds(
        lambda: MLP.deep(8, 8, depth, 3, activation="sigmoid", init="xavier"), seeds
    )


def _inputs() -> torch.Tensor:
    return torch.randn(200, 8, generator=torch.Generator().manual_seed(0))


def test_standardized_target_has_unit_spread_per_unit() -> None:
    h = (
        torch.randn(2, 50, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        * 0.01
        + 3
    )
    t = standardize_target(h)
    assert torch.allclose(t.mean(dim=1), torch.zeros(2, 4, dtype=torch.float64), atol=1e-9)
    assert torch.allclose(t.std(dim=1), torch.ones(2, 4, dtype=torch.float64), atol=1e-9)
    assert torch.equal(standardize_target(torch.ones(1, 5, 2)), torch.zeros(1, 5, 2))
    assert feature_std(h).shape == (2,)


def test_pretraining_changes_hidden_layers_only_and_lowers_the_loss() -> None:
    stack = _stack([0, 1])
    before = [w.detach().clone() for w in stack.weights]
    history = pretrain(stack, _inputs(), seeds=[0, 1], steps=100, lr=0.01, standardize=True,
                       batch_size=32)  # fmt: skip
    assert len(history.loss_end) == 3
    for start, end in zip(history.loss_start, history.loss_end, strict=True):
        assert (end < start).all()
    assert all(not torch.equal(b, w) for b, w in zip(before[:-1], stack.weights[:-1], strict=True))
    assert torch.equal(before[-1], stack.weights[-1])  # the output layer keeps its init
    assert hidden_feature_std(stack, _inputs()).shape == (2, 3)


def test_each_seed_is_pretrained_as_it_would_be_alone() -> None:
    both = _stack([0, 1])
    pretrain(both, _inputs(), seeds=[0, 1], steps=20, lr=0.01, standardize=False, batch_size=32)
    alone = _stack([1])
    pretrain(alone, _inputs(), seeds=[1], steps=20, lr=0.01, standardize=False, batch_size=32)
    for w_both, w_alone in zip(both.weights, alone.weights, strict=True):
        assert torch.allclose(w_both[1], w_alone[0], atol=1e-6)


def test_explained_share_is_near_zero_for_a_bias_only_decoder_job() -> None:
    # inputs that vary very little: the raw-target recipe reconstructs the mean and little else
    stack = _stack([0], depth=2)
    x = 5 + 1e-4 * _inputs()
    history = pretrain(stack, x, seeds=[0], steps=50, lr=0.01, standardize=False, batch_size=32)
    assert float(history.explained()[0][0]) < 0.5


def test_the_pages_first_cell_shows_the_collapse_and_its_remedy() -> None:
    """Chapter 10's first cell (the reader's knob `target`): with the raw target the top layer's
    spread collapses as at init; with the standardised target it stays near the first layer's."""
    from bench.cells import DOCS, page_cells, run_cells

    (cell, *_) = page_cells(DOCS / "en" / "chapters" / "10_pretraining.md")
    ratios = {}
    for target in ("standardized", "raw"):
        source = cell.replace('target = "standardized"', f'target = "{target}"', 1)
        (spec,) = run_cells([source]).charts
        pretrained = spec["series"][1]["values"]
        ratios[target] = pretrained[-1] / pretrained[0]
    assert ratios["standardized"] > 0.3
    assert ratios["raw"] < 0.1
