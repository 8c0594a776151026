"""A figure's data (CSV) and provenance: read back from the drawn figure, committed, linked.

Three layers: `gradbook.figdata` on small figures of each artist kind (a dropped line fails); every
committed figure against its own SVG (the CSV has as many series of each kind as the SVG draws);
the built site (every figure of both languages links a CSV and a provenance file that exist; a big
CSV ships gzipped, and its .csv.gz holds the committed bytes).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gradbook import figdata, plot
from gradbook.build import provenance
from gradbook.pages import figures as site_figures

REPO = Path(__file__).resolve().parent.parent
FIGURES = REPO / "figures"


def rows_of(draw, lang: str = "en") -> list[dict[str, str]]:
    _svg, data = plot.render_figure("t", draw, lang)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def series(rows: list[dict[str, str]]) -> Counter:
    return Counter((r["panel"], r["series"], r["kind"]) for r in rows)


# -- gradbook.figdata on one figure per artist kind ------------------------------------------------


def test_an_unlabelled_band_is_named_after_its_line() -> None:
    def draw(fig, tr) -> None:
        ax = fig.add_subplot()
        for name in ("relu", "tanh"):
            ax.plot([0, 1], [1.0, 2.0], color=plot.color(name), label=name)
            ax.fill_between([0, 1], [0.5, 1.5], [1.5, 2.5], color=plot.color(name), alpha=0.2)

    assert series(rows_of(draw)) == {
        ("1", "relu", "line"): 2, ("1", "relu", "band"): 2,
        ("1", "tanh", "line"): 2, ("1", "tanh", "band"): 2,
    }  # fmt: skip


def test_two_lines_of_one_colour_each_name_their_own_band() -> None:
    """05_resnet degradation (issue 14): 8 and 56 layers of one family share a colour, log y."""

    def draw(fig, tr) -> None:
        ax = fig.add_subplot()
        steps = [0, 10, 20, 30]
        for depth, curve in (("8", [1.0, 0.5, 0.2, 0.1]), ("56", [2.0, 1.5, 1.2, 1.1])):
            lo, hi = [v * 0.8 for v in curve], [v * 1.25 for v in curve]
            ax.fill_between(steps, lo, hi, color=plot.color("plain"), alpha=0.2, linewidth=0)
            ax.plot(steps, curve, color=plot.color("plain"), label=f"plain, {depth} layers")
        ax.set_yscale("log")

    bands = [r for r in rows_of(draw) if r["kind"] == "band"]
    by_name: dict[str, list[float]] = {r["series"]: [] for r in bands}
    for r in bands:
        by_name[r["series"]].append(round(float(r["y_low"]), 6))
    assert by_name == {
        "plain, 8 layers": [0.8, 0.4, 0.16, 0.08], "plain, 56 layers": [1.6, 1.2, 0.96, 0.88],
    }  # fmt: skip


def test_a_band_over_part_of_a_longer_line_of_its_colour() -> None:
    """05_resnet lesion: a 3-block net's band lies under the 27-block line of the same colour."""

    def draw(fig, tr) -> None:
        ax = fig.add_subplot()
        c = plot.color("residual")
        for n, acc, label in ((27, 0.9, "residual, 56 layers"), (3, 0.5, "residual, 8 layers")):
            xs = list(range(1, n + 1))
            ax.fill_between(xs, [acc - 0.05] * n, [acc + 0.05] * n, color=c, alpha=0.2)
            ax.plot(xs, [acc] * n, color=c, marker="o", label=label)
            ax.axhline(acc + 0.01, color=c, linestyle=":")  # a reference line is no candidate

    assert {k: v for k, v in series(rows_of(draw)).items() if k[2] == "band"} == {
        ("1", "residual, 56 layers", "band"): 27, ("1", "residual, 8 layers", "band"): 3,
    }  # fmt: skip


def test_bands_around_percentile_lines_and_one_without_its_own_line() -> None:
    """04 percentiles: p15 and p85 bands around dashed lines (only p15's labelled), p50's band."""

    def draw(fig, tr) -> None:
        ax = fig.add_subplot()
        c, x = plot.color("plain"), [0, 1, 2]
        for q, label in ((15, "p15 and p85"), (50, "median (p50)"), (85, None)):
            ax.fill_between(x, [q - 5] * 3, [q + 5] * 3, color=c, alpha=0.1, linewidth=0)
            ax.plot(x, [q] * 3, color=c, linestyle="--", label=label)
        ax.fill_between(x, [200] * 3, [210] * 3, color=c, alpha=0.1)  # around no line at all

    bands = {k[1] for k in series(rows_of(draw)) if k[2] == "band"}
    # p85's band goes with its own (unlabelled) line; the stray band keeps the colour's name, told
    # apart from p15's band by its number
    assert bands == {"p15 and p85", "median (p50)", "line 3", "p15 and p85, band 7"}


def test_lines_every_point_with_its_label_and_exact_floats() -> None:
    def draw(fig, tr) -> None:
        ax = fig.add_subplot()
        ax.semilogy([1, 2, 3], [0.1, 1 / 3, 1e-300], label=tr("sigmoid", "S 型"))
        ax.plot([1, 2], [5.0, 6.0])  # unlabelled: still a series
        ax.set_xlabel(tr("layer", "层"))
        ax.set_title(tr("Norms", "范数"))

    rows = rows_of(draw)
    assert list(rows[0]) == list(figdata.COLUMNS)
    assert series(rows) == {("Norms", "sigmoid", "line"): 3, ("Norms", "line 2", "line"): 2}
    assert [float(r["y"]) for r in rows[:3]] == [0.1, 1 / 3, 1e-300]  # repr: reads back exactly
    assert rows[0]["y"] == repr(1 / 3) or rows[1]["y"] == repr(1 / 3)
    assert {r["x_label"] for r in rows} == {"layer"} and rows[0]["y_scale"] == "log"
    zh = rows_of(draw, "zh")
    assert [r["series"] for r in zh][:3] == ["S 型"] * 3 and zh[0]["panel"] == "范数"
    assert [(r["x"], r["y"]) for r in zh] == [(r["x"], r["y"]) for r in rows]  # the same numbers


def test_float32_values_take_the_digits_of_a_float32() -> None:
    """A torch/float32 value is written as its float32 (8 digits, not 17); a double stays exact."""
    import numpy as np

    single = np.array([0.1, 1 / 3, 3e38], dtype=np.float32)

    def draw(fig, tr) -> None:
        ax = fig.add_subplot()
        ax.plot([1.0, 2.0, 3.0], single, label="f32")
        ax.plot([1.0], [1 / 3], label="f64")

    rows = rows_of(draw)
    assert [r["y"] for r in rows] == ["0.1", "0.33333334", "3e+38", repr(1 / 3)]
    assert (np.array([float(r["y"]) for r in rows[:3]], dtype=np.float32) == single).all()


def test_reference_lines_bands_and_masked_points() -> None:
    def draw(fig, tr) -> None:
        ax = fig.add_subplot()
        ax.plot([0, 1, 2], [1.0, float("nan"), 3.0], label="mean")
        ax.fill_between([0, 1, 2], [0.5, 1.5, 2.5], [1.5, 2.5, 3.5], alpha=0.2, label="range")
        ax.axhline(0.25, linestyle=":")
        ax.axvline(1.5)

    rows = rows_of(draw)
    kinds = Counter(r["kind"] for r in rows)
    assert kinds == {"line": 3, "band": 3, "hline": 1, "vline": 1}
    assert {r["series"] for r in rows if r["kind"] in ("line", "band")} == {"mean", "range"}
    band = [r for r in rows if r["kind"] == "band"]
    assert [(r["x"], r["y_low"], r["y_high"]) for r in band] == [
        ("0.0", "0.5", "1.5"), ("1.0", "1.5", "2.5"), ("2.0", "2.5", "3.5"),
    ]  # fmt: skip
    assert [r["y"] for r in rows if r["kind"] == "line"][1] == "nan"
    assert next(r for r in rows if r["kind"] == "hline")["y"] == "0.25"
    assert next(r for r in rows if r["kind"] == "vline")["x"] == "1.5"
    assert all(r["color"].startswith("#") for r in rows)


def test_bars_on_categories_with_error_bars() -> None:
    def draw(fig, tr) -> None:
        ax = fig.add_subplot()
        ax.bar(["plain", "relu"], [1.0, 2.0], label="mean")
        ax.errorbar(["plain", "relu"], [1.0, 2.0], yerr=[[0.25, 0.5], [0.5, 1.0]], fmt="none",
                    capsize=3)  # fmt: skip
        ax.errorbar([0, 1], [3.0, 4.0], yerr=0.5, marker="o", capsize=3, label="runs")

    rows = rows_of(draw)
    bars = [r for r in rows if r["kind"] == "bar"]
    assert [(r["category"], r["x"], r["y"]) for r in bars] == [("plain", "0.0", "1.0"),
                                                                ("relu", "1.0", "2.0")]  # fmt: skip
    errs = [r for r in rows if r["kind"] == "errorbar"]
    assert [(r["y"], r["y_low"], r["y_high"]) for r in errs] == [
        ("", "0.75", "1.5"), ("", "1.5", "3.0"), ("3.0", "2.5", "3.5"), ("4.0", "3.5", "4.5"),
    ]  # fmt: skip
    assert not [r for r in rows if r["kind"] == "line"]  # an errorbar's lines are not lines again


def test_scatter_keeps_each_points_colour_and_images_their_pixels() -> None:
    def draw(fig, tr) -> None:
        left, right = fig.subplots(1, 2)
        left.scatter([0.0, 1.0], [2.0, 3.0], c=["#ff0000", "#0000ff"], label="points")
        image = right.imshow([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], extent=(0, 3, 0, 2))
        fig.colorbar(image, ax=right)  # the colour scale is not data

    rows = rows_of(draw)
    pts = [r for r in rows if r["kind"] == "scatter"]
    assert [(r["x"], r["y"], r["color"]) for r in pts] == [("0.0", "2.0", "#ff0000"),
                                                           ("1.0", "3.0", "#0000ff")]  # fmt: skip
    pixels = [r for r in rows if r["kind"] == "image"]
    assert len(pixels) == 6 and {r["panel"] for r in pixels} == {"2"}
    top_left = pixels[0]  # origin "upper": row 0 is drawn at the top
    assert (top_left["x"], top_left["y"], top_left["z"]) == ("0.5", "1.5", "1.0")
    assert {r["panel"] for r in rows} == {"1", "2"}  # no third panel for the colorbar


def test_csv_is_deterministic_and_written_beside_the_svgs(tmp_path: Path) -> None:
    def draw(fig, tr) -> None:
        fig.add_subplot().plot([0.1, 0.2], [0.3, 0.4], label=tr("a", "甲"))

    paths = plot.render("pair", draw, tmp_path)
    assert [p.name for p in paths] == ["pair.en.svg", "pair.zh.svg", "pair.en.csv", "pair.zh.csv"]
    assert (tmp_path / "pair.en.csv").read_bytes() == plot.render_figure("pair", draw, "en")[1]
    assert b"\r" not in (tmp_path / "pair.en.csv").read_bytes()
    assert "甲" in (tmp_path / "pair.zh.csv").read_text(encoding="utf-8")


# -- every committed figure: CSV against its own SVG ---------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def drawn_series(svg: Path) -> Counter:
    """Per kind, the data artists the SVG draws outside axes ticks and legends.

    Matplotlib's SVG writer puts each artist in a `<g id="line2d_7">`-style group; a line inside a
    tick or a legend is not data. An errorbar with caps draws its caps as two more line2d groups;
    images are `<image>` elements, and a colorbar is one more.
    """
    tree = ET.parse(svg)
    counts: Counter = Counter()

    def walk(node: ET.Element, inside_chrome: bool) -> None:
        gid = node.get("id", "")
        chrome = inside_chrome or gid.startswith(("xtick", "ytick", "legend", "matplotlib.axis"))
        if node.tag == f"{SVG}g" and not chrome and len(node):  # an empty line draws no group
            kind = gid.rsplit("_", 1)[0]
            if kind in ("line2d", "FillBetweenPolyCollection", "PathCollection"):
                counts[kind] += 1
        if node.tag == f"{SVG}image" and not chrome:  # inline images are not grouped
            counts["image"] += 1
        for child in node:
            walk(child, chrome)

    walk(tree.getroot(), False)
    return counts


def committed_figures() -> list[Path]:
    return sorted(FIGURES.glob("*/*.en.svg"))


def test_every_committed_figure_has_its_data_in_both_languages() -> None:
    figures = committed_figures()
    assert figures, "no committed figures: run `make figures`"
    for svg in figures:
        base = svg.name.removesuffix(".en.svg")
        en, zh = (svg.with_name(f"{base}.{lang}.csv") for lang in ("en", "zh"))
        assert en.is_file() and zh.is_file(), f"{svg.parent.name}/{base}: no CSV (make figures)"
        en_rows = list(csv.DictReader(io.StringIO(en.read_text(encoding="utf-8"))))
        zh_rows = list(csv.DictReader(io.StringIO(zh.read_text(encoding="utf-8"))))
        assert en_rows, f"{svg.parent.name}/{base}: the CSV has no data"
        numbers = ("kind", "x", "y", "z", "y_low", "y_high")
        assert [[r[k] for k in numbers] for r in en_rows] == [
            [r[k] for k in numbers] for r in zh_rows
        ], f"{svg.parent.name}/{base}: the two languages' CSVs hold different numbers"


@pytest.mark.parametrize("svg", committed_figures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_csv_has_every_series_the_figure_draws(svg: Path) -> None:
    text = svg.with_name(svg.name.replace(".svg", ".csv")).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    per = {kind: {(r["panel"], r["series"]) for r in rows if r["kind"] == kind} for kind in
           ("line", "hline", "vline", "errorbar", "band", "polygon", "scatter", "image")}  # fmt: skip
    drawn = drawn_series(svg)
    errorbars = {(r["panel"], r["series"]) for r in rows if r["kind"] == "errorbar"}
    lines = len(per["line"]) + len(per["hline"]) + len(per["vline"])
    # an errorbar's own line2d groups: its data line (if drawn) and up to two rows of caps
    assert lines <= drawn["line2d"] <= lines + 3 * len(errorbars), (svg.name, drawn, per)
    assert bands(rows) + len(per["polygon"]) == drawn["FillBetweenPolyCollection"], svg.name
    # A dense cloud drawn rasterized (ch09's covariate) is a picture in the SVG, not a
    # PathCollection: matplotlib merges an axes' consecutive rasterized artists into one <image>.
    rasterized = len(per["scatter"]) - drawn["PathCollection"]
    assert 0 <= rasterized <= len(per["scatter"]), (svg.name, drawn, per)
    pictures = drawn["image"] - min(rasterized, 1)
    assert len(per["image"]) <= pictures <= 2 * len(per["image"])  # + one colorbar each


def bands(rows: list[dict[str, str]]) -> int:
    """How many fill_between bands the rows hold: x rises along a band and starts over at the next."""
    count, last = 0, {}
    for r in rows:
        if r["kind"] == "band":
            key = (r["panel"], r["series"])
            count += key not in last or float(r["x"]) <= last[key]
            last[key] = float(r["x"])
    return count


def test_every_chapter_has_provenance_with_its_run() -> None:
    manifest = json.loads((FIGURES / "manifest.json").read_text(encoding="utf-8"))
    for slug, entry in manifest["chapters"].items():
        doc = json.loads((FIGURES / slug / "provenance.json").read_text(encoding="utf-8"))
        assert doc["chapter"] == slug and doc["quick"] is False
        assert doc["seed"] == doc["config"]["seed"]
        assert set(doc["versions"]) == {"python", "torch", "numpy", "matplotlib"}
        svgs = {p.name.split(".")[0] for p in (FIGURES / slug).glob("*.en.svg")}
        assert set(doc["figures"]) == svgs, slug
        run = entry["run"]
        assert run["inputs_sha256"] == provenance.inputs_digest(entry["inputs"])
        assert re.fullmatch(r"[0-9a-f]{40}|uncommitted", run["commit"]), slug
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", run["date"]), slug


# -- the site: every figure links its data and its provenance -------------------------------------


def test_figure_links_in_the_page_language(tmp_path: Path) -> None:
    d = tmp_path / "figures" / "02_activations"
    d.mkdir(parents=True)
    for lang in ("en", "zh"):
        (d / f"grad_norms.{lang}.svg").write_text("<svg/>")
        (d / f"grad_norms.{lang}.csv").write_text("panel\n")
    md = "![Norms](fig:02_activations/grad_norms)"
    with pytest.raises(site_figures.MissingFigure, match="02_activations/provenance.json"):
        site_figures.rewrite_figures(md, src_uri="a.md", lang="en", figures_dir=d.parent)
    (d / "provenance.json").write_text('{"chapter": "02_activations"}')
    (d.parent / "manifest.json").write_text(
        json.dumps({"chapters": {"02_activations": {"run": {"commit": "abc", "date": "d"}}}})
    )
    en, zh = (
        site_figures.rewrite_figures(
            md, src_uri="chapters/02_activations.md", lang=lang, figures_dir=d.parent
        )
        for lang in ("en", "zh")
    )
    assert en.splitlines()[1] == (
        '<span class="gb-figure-links">[Data (CSV)](../figures/02_activations/grad_norms.en.csv)'
        " · [Provenance](../figures/02_activations/provenance.json)</span>"
    )
    assert "[数据（CSV）](../figures/02_activations/grad_norms.zh.csv)" in zh
    assert "[来源信息](../figures/02_activations/provenance.json)" in zh
    files = site_figures.provenance_files(d.parent)
    assert json.loads(files["figures/02_activations/provenance.json"]) == {
        "chapter": "02_activations",
        "run": {"commit": "abc", "date": "d"},
    }
    (d / "grad_norms.zh.csv").unlink()
    with pytest.raises(site_figures.MissingFigure, match="grad_norms.zh.csv"):
        site_figures.rewrite_figures(md, src_uri="a.md", lang="zh", figures_dir=d.parent)


def test_a_big_csv_ships_gzipped_and_says_so_a_small_one_stays_plain(tmp_path: Path) -> None:
    d = tmp_path / "figures" / "07_clipping"
    d.mkdir(parents=True)
    (d / "provenance.json").write_text('{"chapter": "07_clipping"}')
    header = ",".join(figdata.COLUMNS) + "\n"
    rows = "".join(f"1,a,line,,{i},{i / 7!r},,,,,,,,\n" for i in range(20_000))
    big = (header + rows).encode()
    assert len(big) > site_figures.GZIP_OVER
    at_threshold = header.encode().ljust(site_figures.GZIP_OVER, b"0")  # not over: stays plain
    for lang in ("en", "zh"):
        for name, data in (("cliff", big), ("edge", at_threshold), ("cosine", header.encode())):
            (d / f"{name}.{lang}.svg").write_text("<svg/>")
            (d / f"{name}.{lang}.csv").write_bytes(data)
    md = "![a](fig:07_clipping/cliff)\n\n![b](fig:07_clipping/edge)\n\n![c](fig:07_clipping/cosine)"
    en, zh = (
        site_figures.rewrite_figures(md, src_uri="chapters/07.md", lang=lang, figures_dir=d.parent)
        for lang in ("en", "zh")
    )
    assert "[Data (CSV, gzip)](../figures/07_clipping/cliff.en.csv.gz) · " in en
    assert "[数据（CSV，gzip）](../figures/07_clipping/cliff.zh.csv.gz) · " in zh
    for name in ("edge", "cosine"):
        assert f"[Data (CSV)](../figures/07_clipping/{name}.en.csv) · " in en
        assert f"[数据（CSV）](../figures/07_clipping/{name}.zh.csv) · " in zh
    assert en.count(".csv.gz") == zh.count(".csv.gz") == 1
    for lang in ("en", "zh"):
        files = site_figures.data_files(d.parent, lang)
        assert set(files) == {
            f"figures/07_clipping/cliff.{lang}.csv.gz",
            f"figures/07_clipping/edge.{lang}.csv",
            f"figures/07_clipping/cosine.{lang}.csv",
        }
        gz = files[f"figures/07_clipping/cliff.{lang}.csv.gz"]
        assert isinstance(gz, bytes) and len(gz) < len(big) // 4
        assert gzip.decompress(gz) == (d / f"cliff.{lang}.csv").read_bytes()
        assert files[f"figures/07_clipping/edge.{lang}.csv"] == d / f"edge.{lang}.csv"
    # the same bytes every build: mtime 0 and no file name (FLG 0) in the gzip header
    again = site_figures.data_files(d.parent, "en")["figures/07_clipping/cliff.en.csv.gz"]
    assert again == site_figures.data_files(d.parent, "en")["figures/07_clipping/cliff.en.csv.gz"]
    assert again[:8] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00"


class _FigureLinks(HTMLParser):
    """Each figure `<img>` of a page, with the links of the figure-links line that follows it."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict] = []
        self._in_links = False
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "img" and "/figures/" in f"/{a.get('src', '')}":
            self.figures.append({"src": a["src"], "links": []})
        elif tag == "span" and site_figures.LINKS_CLASS in (a.get("class") or "").split():
            self._in_links = True
        elif tag == "a" and self._in_links and self.figures:
            self._href = a.get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None and self.figures:
            self.figures[-1]["links"].append((data, self._href))
            self._href = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_links = False


def site_data(link: tuple[str, str], target: Path, svg: Path, lang: str) -> bytes:
    """The CSV bytes a figure's data link gives the reader, checked against the committed CSV.

    A committed CSV over GZIP_OVER is linked as its .csv.gz, labelled gzip, and only that is in the
    site; a smaller one is linked, labelled and shipped as it is.
    """
    label, href = link
    plain = svg.with_suffix(".csv")
    committed = FIGURES / svg.parent.name / plain.name
    if committed.stat().st_size > site_figures.GZIP_OVER:
        assert (label, target) == (
            site_figures.GZIP_LINKS[lang],
            plain.with_name(f"{plain.name}.gz"),
        )
        assert not plain.exists(), f"{plain.name}: shipped plain beside its .gz"
        data = gzip.decompress(target.read_bytes())
    else:
        assert (label, target) == (site_figures.LINKS[lang][0], plain), href
        data = target.read_bytes()
    assert data == committed.read_bytes(), href
    return data


@pytest.mark.site
def test_every_figure_of_the_site_links_its_data_and_provenance(built_site: Path) -> None:
    seen: set[tuple[str, str]] = set()
    gzipped = 0
    for lang, top in (("en", built_site), ("zh", built_site / "zh")):
        prov_label = site_figures.LINKS[lang][1]
        pages = [p for p in top.rglob("index.html") if lang == "zh" or "zh" not in p.parts]
        for page in sorted(pages):
            parser = _FigureLinks()
            parser.feed(page.read_text(encoding="utf-8"))
            for fig in parser.figures:
                where = f"{page.relative_to(built_site)}: {fig['src']}"
                assert [label for label, _ in fig["links"]][1:] == [prov_label], where
                (data_link, (_, prov_href)) = fig["links"]
                svg = (page.parent / fig["src"]).resolve()
                data, prov = ((page.parent / h).resolve() for h in (data_link[1], prov_href))
                text = site_data(data_link, data, svg, lang).decode("utf-8")
                assert text.startswith(",".join(figdata.COLUMNS)), where
                gzipped += data.suffix == ".gz"
                doc = json.loads(prov.read_text(encoding="utf-8"))
                assert prov.parent == svg.parent and doc["chapter"] == svg.parent.name, where
                assert svg.name.split(".")[0] in doc["figures"] and doc["run"]["commit"], where
                seen.add((lang, f"{svg.parent.name}/{svg.name.split('.')[0]}"))
    named = {
        (lang, f"{m['slug']}/{m['name']}")
        for lang in ("en", "zh")
        for page in (REPO / "docs" / lang / "chapters").glob("*.md")
        for m in site_figures.FIG_LINK.finditer(page.read_text(encoding="utf-8"))
    }
    assert named and named <= seen, f"figures without links: {sorted(named - seen)[:5]}"
    assert gzipped, "no figure's data is gzipped: the big CSVs went in plain"
    for manifest in (built_site / "offline.json", built_site / "zh" / "offline.json"):
        urls = [f["url"] for f in json.loads(manifest.read_text(encoding="utf-8"))["files"]]
        assert not [u for u in urls if u.endswith((".csv", ".csv.gz"))], "figure data precached"


def test_the_run_record_is_not_what_check_compares() -> None:
    """A rerun changes the date (and maybe the commit), never whether the figures are current."""
    from gradbook.build import discover, hashing, manifest

    data = json.loads((FIGURES / "manifest.json").read_text(encoding="utf-8"))
    chapter = discover.discover(REPO)[0]
    entry = data["chapters"][chapter.slug]
    inputs = hashing.input_hashes(REPO, chapter.source, chapter.config)
    other = {**entry, "run": {"inputs_sha256": "x", "commit": "uncommitted", "date": "tomorrow"}}
    out = FIGURES / chapter.slug
    assert manifest.stale_reasons(other, inputs, out) == manifest.stale_reasons(entry, inputs, out)
