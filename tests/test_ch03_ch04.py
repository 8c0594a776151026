"""Chapters 03 (initialisation) and 04 (batch norm) in quick mode: same code path, fewer steps.

Runs both modules through the real figure runner into a scratch directory and checks what the
prose relies on: every required key, both figure languages, and the effects that hold even after a
few steps (the variance argument at init does not need training at all).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = ("03_initialization", "04_batchnorm")


@pytest.fixture(scope="module")
def quick_results(quick_book: Path) -> dict[str, dict]:
    return {c: json.loads((quick_book / c / "results.json").read_text()) for c in CHAPTERS}


pytestmark = pytest.mark.slow


def test_signal_follows_the_variance_argument(quick_results) -> None:
    r = quick_results["03_initialization"]["act_std_ratio"]
    assert r["naive"] < r["pytorch_default"] < r["xavier"] < 1e-3
    # He and orthogonal-with-gain keep the scale within the finite-width random walk
    assert 0.2 < r["kaiming"] < 5 and 0.2 < r["orthogonal"] < 5
    theory = quick_results["03_initialization"]["act_std_ratio_theory"]
    for scheme in ("naive", "pytorch_default", "xavier"):
        assert 0.2 < r[scheme] / theory[scheme] < 5


def test_symmetry_and_backprop_variance(quick_results) -> None:
    r = quick_results["03_initialization"]
    assert r["distinct_hidden_units"] == {"constant": 1, "random": r["symmetry_hidden_width"]}
    standard, xavier = r["backprop_grad_var_rel"]["standard"], r["backprop_grad_var_rel"]["xavier"]
    assert standard[-1] == xavier[-1] == 1.0
    assert standard[0] < 0.05 < xavier[0]


def test_initialization_reports_every_seed_and_the_variance_prediction(quick_results) -> None:
    r = quick_results["03_initialization"]
    n = len(r["seeds"])
    assert n >= 5
    assert all(len(v) == n for v in r["act_std_ratio_by_seed"].values())
    assert all(len(v) == n for v in r["final_train_loss_by_seed"].values())
    assert len(r["train_loss_curve_by_seed"]["kaiming"][0]) == n
    # the backward variance argument with the measured tanh' predicts the measured profile
    for scheme in ("standard", "xavier"):
        for got, want in zip(r["backprop_grad_var_rel"][scheme],
                             r["backprop_grad_var_predicted"][scheme], strict=True):  # fmt: skip
            assert 0.67 < got / want < 1.5
    # tanh near its linear middle keeps Xavier flat; a unit-variance Gaussian halves E[tanh'^2]
    assert r["backprop_grad_var_rel_small_input"]["xavier"][0] > 0.8
    assert abs(r["tanh_deriv_sq_gaussian_unit_var"] - 0.4644) < 1e-3
    # constant init trained one net at a time keeps every unit equal, exactly
    assert r["distinct_hidden_units_by_seed"]["constant"] == [1.0] * n


def test_batchnorm_keeps_the_median_and_eval_mode_matters(quick_results) -> None:
    r = quick_results["04_batchnorm"]
    assert abs(r["median_drift"]["bn"]) < 0.1 < abs(r["median_drift"]["plain"])
    assert len(r["percentiles"]["bn"]) == len(r["checkpoint_steps"])
    assert all(p15 <= p50 <= p85 for p15, p50, p85 in r["percentiles"]["bn"])
    pitfall = r["pitfall_acc"]
    assert pitfall["train_mode_batch_2"] < pitfall["eval_mode"]
    assert len(r["final_loss_by_lr"]["bn"]) == r["lr_sweep_size"]


def test_batchnorm_results_are_over_seeds(quick_results) -> None:
    r = quick_results["04_batchnorm"]
    n = len(r["seeds"])
    assert n >= 5
    assert len(r["test_acc_by_seed"]["bn"]) == len(r["deep_test_acc_by_seed"]["plain"]) == n
    assert all(len(leaf) == n for leaf in r["percentiles_by_seed"]["plain"][0])
    assert r["checkpoint_steps"][0] == 0  # the drift is measured from the start
    assert r["test_acc"]["bn"] == pytest.approx(sum(r["test_acc_by_seed"]["bn"]) / n)
    assert len(r["final_loss_by_lr_by_seed"]["plain_xavier"][0]) == n


def test_deep_plain_net_collapses_forward_without_saturating(quick_results) -> None:
    """At initialisation (no training needed): the 20-layer plain sigmoid net is not saturated, its
    differences between images vanish layer by layer, and BN's 1/sigma_B restores them."""
    r = quick_results["04_batchnorm"]
    assert min(r["deep_sigmoid_slope_init"]["plain"]) > 0.2
    signal = r["deep_signal_std_init"]["plain"]
    assert signal[-1] < 1e-6 * signal[0]
    assert min(r["deep_signal_std_init"]["bn"]) > 0.9
    assert r["deep_bn_gain_init"] > 4
    ratio = r["deep_grad_ratio_first_last_init"]
    assert ratio["plain"] < 1e-10 < 0.1 < ratio["bn"]
