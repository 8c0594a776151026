"""gradbook.plot: one data set, two languages, deterministic font-free SVG, no tofu."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from gradbook import plot


def draw_grad_norms(fig, tr) -> None:
    ax = fig.add_subplot()
    for i, name in enumerate(["sigmoid", "tanh", "relu"]):
        ax.semilogy(range(1, 11), [10 ** (-k * (i + 1) / 5) for k in range(10)], label=name,
                    color=plot.color(name))  # fmt: skip
    ax.set_xlabel(tr("layer", "层"))
    ax.set_ylabel(tr(r"gradient norm $\|g\|$", "梯度范数 ‖g‖"))
    ax.set_title(tr("Gradient norm per layer (−1)", "各层梯度范数（−1）"))
    ax.legend()


def test_renders_both_languages_as_paths_without_glyph_warnings(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, missing glyphs included, fails the test
        paths = plot.render("grad_norms", draw_grad_norms, tmp_path)
    svgs = ["grad_norms.en.svg", "grad_norms.zh.svg"]
    csvs = ["grad_norms.en.csv", "grad_norms.zh.csv"]  # the data: tests/test_figure_data.py
    assert [p.name for p in paths] == svgs + csvs
    en, zh = (p.read_text(encoding="utf-8") for p in paths[:2])
    for svg in (en, zh):
        assert "<text" not in svg  # text became paths: the browser needs no font
        assert "<path" in svg
        assert "<dc:date>" not in svg
    assert "NotoSansSC-Regular" in zh  # Chinese glyphs drawn from Noto Sans SC
    assert "NotoSansSC-Regular" not in en
    assert "<dc:language>zh</dc:language>" in zh
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(svgs + csvs)


def test_output_is_deterministic(tmp_path: Path) -> None:
    first = plot.render_svg("grad_norms", draw_grad_norms, "zh")
    second = plot.render_svg("grad_norms", draw_grad_norms, "zh")
    assert first == second
    ids = re.findall(rb'id="([^"]+)"', first)
    assert len(ids) == len(set(ids))


def test_missing_glyph_is_an_error_naming_figure_and_text() -> None:
    def draw(fig, tr) -> None:
        fig.add_subplot().set_title(tr("fine", "标题 ༀ"))  # Tibetan: in neither font

    with pytest.raises(plot.FigureError, match=r"figure 'bad' \(zh\).*'标题 ༀ'.*TIBETAN"):
        plot.render_svg("bad", draw, "zh")
    assert plot.render_svg("bad", draw, "en")  # the English text is fine


def test_chinese_beside_math_is_an_error() -> None:
    """mathtext draws the whole label with its own fonts: Chinese next to $...$ would be tofu."""

    def draw(fig, tr) -> None:
        fig.add_subplot().set_xlabel(tr("paths of $2^{54}$", "$2^{54}$ 条路径"))

    with pytest.raises(plot.FigureError, match=r"figure 'mixed' \(zh\).*条路径.*mathtext"):
        plot.render_svg("mixed", draw, "zh")
    assert plot.render_svg("mixed", draw, "en")


def test_a_readers_run_draws_only_its_language(tmp_path: Path) -> None:
    paths = plot.render("grad_norms", draw_grad_norms, tmp_path, langs=("zh",))
    assert [p.name for p in paths] == ["grad_norms.zh.svg", "grad_norms.zh.csv"]
    assert paths[0].read_bytes() == plot.render_svg("grad_norms", draw_grad_norms, "zh")
    for langs in ((), ("fr",)):
        with pytest.raises(ValueError, match="expected some of"):
            plot.render("grad_norms", draw_grad_norms, tmp_path / "none", langs=langs)
    assert not (tmp_path / "none").exists()


def test_chinese_text_in_the_english_figure_is_an_error(tmp_path: Path) -> None:
    def draw(fig, tr) -> None:
        fig.add_subplot().set_xlabel("层")  # forgot tr()

    with pytest.raises(plot.FigureError, match="contains Chinese text '层'"):
        plot.render("forgot_tr", draw, tmp_path)
    assert list(tmp_path.iterdir()) == []  # no half pair written


def test_house_style_and_names() -> None:
    assert plot.color("relu") == plot.color("relu", 5)
    assert plot.color("unknown", 1) == plot.PALETTE[1]
    assert plot.translator("zh")("a", "甲") == "甲"
    with pytest.raises(ValueError, match="figure name"):
        plot.render("Bad Name", draw_grad_norms, ".")
