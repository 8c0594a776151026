"""The shipped digits subset equals scikit-learn's, the synthetic sets are sane, charts follow the spec."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from gradbook.lite import Rng, charts, data
from gradbook.lite.data import _digits_file


def test_digits_subset_equals_standardised_sklearn_rows() -> None:
    X, y = data.digits()
    full = load_digits()
    idx = _digits_file()["indices"]
    ref = StandardScaler().fit_transform(full.data)[idx]
    assert np.array_equal(np.array(X), ref)
    assert y == [int(v) for v in full.target[idx]]
    assert len(X) == 500 and np.bincount(y).tolist() == [50] * 10


def test_digits_split_is_stratified_and_disjoint() -> None:
    X_train, y_train, X_test, y_test = data.digits_split(0.2, seed=1)
    assert len(X_train) == 400 and len(X_test) == 100
    assert np.bincount(y_test).tolist() == [10] * 10
    train_rows = {tuple(r) for r in X_train}
    assert not any(tuple(r) in train_rows for r in X_test)


def test_adding_problem_targets_and_markers() -> None:
    xs, target = data.adding_problem(64, 20, Rng(0))
    assert len(xs) == 20 and xs[0].shape == (64, 2) and target.shape == (64, 1)
    for i in range(64):
        marked = [t for t in range(20) if xs[t].data[i][1] == 1.0]
        assert len(marked) == 2 and marked[0] < 10 <= marked[1]
        expect = 0.5 + sum(xs[t].data[i][0] for t in marked) / 4
        assert target.data[i][0] == pytest.approx(expect)


def test_spirals_batches_and_gaussians() -> None:
    X, y = data.spirals(30, Rng(0), classes=3)
    assert len(X) == 90 and sorted(set(y)) == [0, 1, 2]
    parts = data.batches(90, 32, Rng(0))
    assert [len(b) for b in parts] == [32, 32, 26] and sorted(sum(parts, [])) == list(range(90))
    assert data.take(y, parts[0]) == [y[i] for i in parts[0]]
    assert data.gaussian_inputs(4, 3, Rng(0)).shape == (4, 3)


@pytest.fixture
def captured():
    specs: list[dict] = []
    charts.set_sink(lambda s: specs.append(json.loads(s)))
    yield specs
    charts.reset_sink()


def test_line_spec_shape(captured) -> None:
    spec = charts.line(
        x=[1, 2, 3],
        series={"sigmoid": [1e-3, 1e-2, math.nan], "relu": [1, 2, 3]},
        title="t",
        xlabel="layer",
        ylabel="gradient norm",
        logy=True,
    )
    assert captured == [spec]
    assert spec == {
        "kind": "line",
        "title": "t",
        "xlabel": "layer",
        "ylabel": "gradient norm",
        "x": [1.0, 2.0, 3.0],
        "series": [
            {"name": "sigmoid", "values": [1e-3, 1e-2, None]},
            {"name": "relu", "values": [1.0, 2.0, 3.0]},
        ],
        "logx": False,
        "logy": True,
    }


def test_bar_spec_shape_and_errors(captured) -> None:
    spec = charts.bar(categories=["sigmoid", "relu"], series={"accuracy": [0.1, 0.9]}, title="acc")
    assert captured[0]["kind"] == "bar" and spec["categories"] == ["sigmoid", "relu"]
    assert spec["series"] == [{"name": "accuracy", "values": [0.1, 0.9]}]
    assert set(spec) == {
        "kind",
        "title",
        "xlabel",
        "ylabel",
        "categories",
        "series",
        "logx",
        "logy",
    }
    with pytest.raises(ValueError, match="expected 2"):
        charts.bar(categories=["a", "b"], series={"s": [1.0]})


def test_default_sink_prints_one_line(capsys) -> None:
    charts.reset_sink()
    charts.line(x=[0, 1], series={"a": [1, 2], "b": [3, 4]}, title="grads", logy=True)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "grads" in out and "a, b" in out and "logy" in out
