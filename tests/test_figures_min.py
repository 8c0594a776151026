"""The site's figures are svgo's copies of the committed ones (web/minify_figures.mjs): smaller,
with the same size, viewBox and title, and drawn the same by Chromium."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest

from gradbook.pages.figures import minified

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "figures"
LANGS = {"en": "", "zh": "zh/"}
# what a reader's browser lays out from: the <svg> element's size and coordinate system, its title
ROOT = re.compile(r"<svg\b[^>]*>")
ATTR = r'\b{}="([^"]*)"'


def _committed(lang: str) -> list[Path]:
    return sorted(FIGURES.glob(f"*/*.{lang}.svg"))


def _css_px(length: str) -> float:
    """An SVG length in CSS pixels (matplotlib writes pt; svgo converts to px, 4/3 as many)."""
    return (
        round(float(length.removesuffix("pt")) * 4 / 3, 3)
        if length.endswith("pt")
        else float(length.removesuffix("px"))
    )


def _outline(svg: str) -> tuple[object, ...]:
    root = ROOT.search(svg)
    assert root, "no <svg> element"
    width, height, box = (
        (m[1] if (m := re.search(ATTR.format(a), root[0])) else None)
        for a in ("width", "height", "viewBox")
    )
    title = re.search(r"<title>([^<]*)</title>", svg)
    view_box = tuple(float(v) for v in box.split()) if box else None
    return _css_px(width), _css_px(height), view_box, title[1] if title else None


def test_a_figure_without_a_minified_copy_ships_as_committed(tmp_path: Path) -> None:
    svg = tmp_path / "line.en.svg"
    svg.write_text("<svg/>")
    assert minified(svg, tmp_path / "cache") == svg  # no cache: the figure itself
    assert minified(svg, None) == svg
    (tmp_path / "cache").mkdir()
    copy = tmp_path / "cache" / f"{hashlib.sha256(b'<svg/>').hexdigest()}.svg"
    copy.write_text("<svg></svg>")
    assert minified(svg, tmp_path / "cache") == copy
    svg.write_text("<svg width='2'/>")  # changed since make web: no stale copy
    assert minified(svg, tmp_path / "cache") == svg


@pytest.mark.site
@pytest.mark.parametrize("lang", LANGS)
def test_site_figures_are_minified_and_keep_size_viewbox_and_title(
    built_site: Path, lang: str
) -> None:
    committed = _committed(lang)
    assert committed, "no committed figures"
    total_committed = total_site = 0
    for path in committed:
        shipped = built_site / LANGS[lang] / "figures" / path.parent.name / path.name
        original, site = path.read_text(encoding="utf-8"), shipped.read_text(encoding="utf-8")
        assert _outline(site) == _outline(original), shipped
        assert "<metadata" not in site, f"{shipped} is the committed file, not svgo's copy"
        total_committed += len(original.encode())
        total_site += len(site.encode())
    assert total_site < 0.75 * total_committed, (total_site, total_committed)


def _largest_per_chapter(lang: str) -> list[Path]:
    by_chapter: dict[str, Path] = {}
    for path in _committed(lang):
        best = by_chapter.get(path.parent.name)
        if best is None or path.stat().st_size > best.stat().st_size:
            by_chapter[path.parent.name] = path
    return sorted(by_chapter.values())


def _pixels(page: object, url: str) -> object:
    from PIL import Image

    page.goto(url)
    return Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")


@pytest.mark.browser
@pytest.mark.site
def test_minified_figures_draw_as_the_committed_ones(
    built_site: Path, site_server: str, browser: object, tmp_path: Path
) -> None:
    """Each chapter's largest figure in each language, at twice its size: at most a few pixels
    differ visibly (svgo rounds coordinates to 3 decimals)."""
    from PIL import ImageChops

    page = browser.new_page(device_scale_factor=2)
    try:
        for lang, prefix in LANGS.items():
            for path in _largest_per_chapter(lang):
                rel = f"figures/{path.parent.name}/{path.name}"
                # each version as an <img>, as the chapter shows it; the committed one from the repo
                shown = {}
                for which, src in (
                    ("committed", path.as_uri()),
                    ("site", f"{site_server}{prefix}{rel}"),
                ):
                    wrapper = tmp_path / f"{which}.html"
                    wrapper.write_text(f'<body style="margin:0"><img src="{src}">')
                    shown[which] = _pixels(page, wrapper.as_uri())
                diff = ImageChops.difference(shown["committed"], shown["site"]).convert("L")
                visible = sum(1 for v in diff.point(lambda v: 255 if v > 64 else 0).getdata() if v)
                assert visible <= 10, f"{prefix}{rel}: {visible} pixels differ"
    finally:
        page.close()
