"""Chapter 05 (residual connections) in quick mode, and what its page's cells claim.

The chapter runs through the real figure runner into a scratch directory; the checks are the facts
the prose relies on that hold even in the quick configuration (the path count is exact, the
shattered-gradients contrast and the gradient at init need no training).
"""

from __future__ import annotations

import json
from math import comb
from pathlib import Path

import pytest

from bench.cells import DOCS, page_cells, run_cells

SLUG = "05_resnet"


@pytest.fixture(scope="module")
def quick(quick_book: Path) -> dict:
    names = {p.name for p in (quick_book / SLUG).glob("*.svg")}
    stems = {n.split(".")[0] for n in names}
    assert stems == {"degradation", "grad_at_init", "lesion", "shattered", "grad_autocorr",
                     "path_lengths"}  # fmt: skip
    return json.loads((quick_book / SLUG / "results.json").read_text())


@pytest.mark.slow
def test_required_keys_and_shapes(quick: dict) -> None:
    assert set(quick["train_loss"]) == {"plain_shallow", "plain_deep", "res_shallow", "res_deep"}
    assert all(v > 0 for v in quick["train_loss"].values())
    assert set(quick["grad_autocorr"]) == {"plain", "resnet"}
    depths = [str(d) for d in quick["config"]["shattered"]["depths"]]
    assert list(quick["grad_autocorr"]["plain"]) == depths
    # plain and residual nets of one depth have the same parameters: only additions differ
    p = quick["degradation_params"]
    assert p["plain_shallow"] == p["res_shallow"] and p["plain_deep"] == p["res_deep"]


@pytest.mark.slow
def test_path_count_is_veits(quick: dict) -> None:
    pmf = quick["path_length_pmf"]
    assert len(pmf) == 55 and sum(pmf) == pytest.approx(1.0)
    assert pmf[27] == pytest.approx(comb(54, 27) / 2**54)
    # Veit et al.: paths of length 5..17 are 0.45% of the 2^54 paths
    assert quick["effective_path_fraction"] == pytest.approx(0.0045, abs=5e-5)


@pytest.mark.slow
def test_gradients_shatter_in_the_plain_net_only(quick: dict) -> None:
    ac = quick["grad_autocorr"]
    deepest = str(quick["config"]["shattered"]["depths"][-1])
    assert ac["plain"][deepest] < ac["resnet"][deepest]
    assert ac["resnet"][deepest] > 0.5


@pytest.mark.slow
def test_plain_bn_gradient_grows_towards_the_input(quick: dict) -> None:
    ratio = quick["grad_ratio_first_last_at_init"]
    assert ratio["plain_deep"] > 2 * ratio["res_deep"]  # 16 layers in quick mode; 56: ~700x


@pytest.mark.slow
def test_resnet18_table(quick: dict) -> None:
    rows = quick["resnet18_structure"]
    assert len(rows) == len(quick["resnet18_table"]) == 11
    assert sum(r["params"] for r in rows) == quick["resnet18_params"]["digits"]
    assert quick["resnet18_params"]["cifar_width64"] == 11_173_962
    assert quick["resnet18_table"][-1]["shape"] == "10"


def test_cells_show_the_shortcut_at_work() -> None:
    """Cell 1: the plain BN net's gradient grows towards the input far more than the residual one's.
    Cell 2: after the same steps, the residual net's loss is below the plain one's."""
    page = DOCS / "en" / "chapters" / f"{SLUG}.md"
    grads, training = run_cells(page_cells(page), name=page.name).charts
    g = {s["name"]: s["values"] for s in grads["series"]}
    assert g["plain"][0] / g["plain"][-1] > 3 * g["residual"][0] / g["residual"][-1]
    loss = {s["name"]: s["values"][-1] for s in training["series"]}
    assert loss["residual"] < loss["plain"]


@pytest.mark.slow
def test_headline_numbers_are_over_seeds(quick: dict) -> None:
    n = len(quick["seeds"])
    assert n >= 5
    by_seed = quick["train_loss_by_seed"]
    assert all(len(v) == n for v in by_seed.values())
    assert quick["train_loss"]["plain_deep"] == pytest.approx(sum(by_seed["plain_deep"]) / n)
    assert all(len(v) == n for v in quick["grad_autocorr_by_seed"]["plain"].values())
    assert set(quick["lesion_test_acc"]) == {"res_deep", "res_shallow", "plain_shallow"}
    assert len(quick["lesion_test_acc"]["res_shallow"]) == 3  # the shallow residual net's blocks


@pytest.mark.slow
def test_two_layer_blocks_shatter_faster_than_one_layer_blocks(quick: dict) -> None:
    deepest = str(quick["config"]["shattered"]["depths"][-1])
    assert quick["grad_autocorr_2layer"][deepest] < quick["grad_autocorr"]["resnet"][deepest]
