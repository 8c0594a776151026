"""The shipped digits subset equals scikit-learn's, the synthetic sets are sane, charts follow the spec."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.datasets import load_digits

from gradbook.lite import Rng, charts, data
from gradbook.lite.data import _digits_file, _stratified


@pytest.mark.parametrize("seed", [0, 1])
def test_digits_split_is_stratified_and_standardised_on_the_training_part(seed: int) -> None:
    """Like gradbook.data.digits: stratified, scaled with the training part's mean and std only."""
    split = data.digits(seed=seed, test_size=0.2)
    d = _digits_file()
    full = load_digits()
    raw, labels = full.data[d["indices"]], full.target[d["indices"]]
    train, test = _stratified([int(v) for v in labels], 0.2, seed)
    mean, std = raw[train].mean(axis=0), raw[train].std(axis=0)
    std[std == 0] = 1.0
    assert np.allclose(split.x_train, (raw[train] - mean) / std, rtol=1e-12, atol=1e-12)
    assert np.allclose(split.x_test, (raw[test] - mean) / std, rtol=1e-12, atol=1e-12)
    assert split.y_train == labels[train].tolist() and split.y_test == labels[test].tolist()
    assert len(split.x_train) == 400 and np.bincount(split.y_test).tolist() == [10] * 10
    assert (split.n_features, split.n_classes) == (64, 10)
    assert not {tuple(r) for r in split.x_train} & {tuple(r) for r in split.x_test}


def test_adding_problem_targets_and_markers() -> None:
    xs, target = data.adding_problem(64, 20, rng=Rng(0))
    assert len(xs) == 20 and xs[0].shape == (64, 2) and target.shape == (64, 1)
    for i in range(64):
        marked = [t for t in range(20) if xs[t].data[i][1] == 1.0]
        assert len(marked) == 2 and marked[0] < 10 <= marked[1]
        expect = 0.5 + sum(xs[t].data[i][0] for t in marked) / 4
        assert target.data[i][0] == pytest.approx(expect)
    same = data.adding_problem(64, 20, seed=0)
    assert same[1].data == target.data
    with pytest.raises(ValueError, match="length"):
        data.adding_problem(4, 1, seed=0)


def test_batches_and_gaussians() -> None:
    parts = data.batches(90, 32, Rng(0))
    assert [len(b) for b in parts] == [32, 32, 26] and sorted(sum(parts, [])) == list(range(90))
    assert data.take(list(range(100, 190)), parts[0]) == [100 + i for i in parts[0]]
    assert data.gaussian_batch(4, 3, rng=Rng(0)).shape == (4, 3)
    assert data.gaussian_batch(4, 3, seed=5).data == data.gaussian_batch(4, 3, rng=Rng(5)).data
    with pytest.raises(ValueError, match="seed= or rng="):
        data.gaussian_batch(4, 3)


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
