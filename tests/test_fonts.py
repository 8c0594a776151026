"""The Chinese web font: the subset covers every page, the CSS serves it last, Chromium uses it.

This machine has no system CJK font, so without the subset (web/subset_font.py, `make web`) the
Chinese pages show boxes. A new page or string with a character outside the subset fails here.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

REPO = Path(__file__).resolve().parents[1]
FAMILY = "Gradbook Noto Sans SC"
FONT_URI = "assets/web/fonts/NotoSansSC-gradbook.woff2"
CSS_URI = "assets/web/site/extra.css"
GENERIC = {"sans-serif", "serif", "monospace", "system-ui", "ui-monospace"}


def _subset_font_module():
    spec = importlib.util.spec_from_file_location("subset_font", REPO / "web" / "subset_font.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["subset_font"] = module
    spec.loader.exec_module(module)
    return module


sf = _subset_font_module()


def test_cjk_ranges_hold_chinese_and_its_punctuation_but_not_latin() -> None:
    assert sf.cjk_chars("梯度，消失。「第 3 章」（a）ABC—“x”") == set("梯度消失，。「」（）第章")


@pytest.mark.site
def test_every_cjk_character_of_the_site_is_in_the_subset(built_site: Path) -> None:
    font = built_site / FONT_URI
    assert font.is_file(), f"{FONT_URI} is not in the site: run `make web`"
    assert font.read_bytes()[:4] == b"wOF2"
    cmap = {chr(c) for c in TTFont(font).getBestCmap()}
    # Every page of both languages (the switcher says 中文 on English pages too) and every
    # script the pages run; Material's Japanese segmenter for search (lunr/) shows no text.
    texts = [*built_site.rglob("*.html"), *built_site.glob("assets/web/**/*.js")]
    texts += built_site.glob("assets/javascripts/*.js")
    missing: dict[str, str] = {}
    for path in texts:
        for ch in sf.cjk_chars(path.read_text(encoding="utf-8", errors="replace")):
            if ch not in cmap:
                missing.setdefault(ch, str(path.relative_to(built_site)))
    assert not missing, f"characters the web font lacks (rerun `make web`?): {missing}"
    assert font.stat().st_size < 400_000, "the subset is meant to stay small"


def _stack(css: str, var: str) -> list[str]:
    m = re.search(rf"{var}:\s*([^;]+);", css)
    assert m, f"{var} is not set"
    return [name.strip().strip('"') for name in m[1].split(",")]


@pytest.mark.site
def test_the_stylesheet_serves_the_font_last_and_only_for_cjk(built_site: Path) -> None:
    css = (built_site / CSS_URI).read_text(encoding="utf-8")
    face = re.search(r"@font-face\s*{([^}]*)}", css)
    assert face and f'font-family: "{FAMILY}"' in face[1]
    assert "font-display: swap" in face[1]
    url = re.search(r'src:\s*url\("([^"]+)"\)\s*format\("woff2"\)', face[1])
    assert url and (built_site / CSS_URI).parent.joinpath(url[1]).resolve().is_file(), url
    ranges = re.search(r"unicode-range:\s*([^;]+);", face[1])
    assert ranges and " ".join(ranges[1].split()) == sf.unicode_range()
    for var in ("--md-text-font-family", "--md-code-font-family"):
        named = [f for f in _stack(css, var) if f not in GENERIC]
        assert named[-1] == FAMILY, f"{var}: the web font must come last, after system fonts"


@pytest.mark.browser
@pytest.mark.site
def test_chromium_draws_chinese_headings_with_the_web_font(
    browser, site_server: str, tmp_path: Path
) -> None:
    page = browser.new_page()
    try:
        page.goto(site_server + "zh/chapters/02_activations/", wait_until="load")
        page.evaluate("() => document.fonts.ready")
        loaded = page.evaluate(
            "f => [...document.fonts].filter(x => x.family.replace(/\"/g, '') === f)"
            ".map(x => x.status)",
            FAMILY,
        )
        assert loaded == ["loaded"], loaded
        assert page.evaluate(f"() => document.fonts.check('16px \"{FAMILY}\"', '梯度')")
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        for selector in (".md-content h1", ".md-content p"):
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            text = page.locator(selector).first.inner_text()
            cjk = sum(1 for ch in text if sf.is_cjk(ch))
            web = sum(f["glyphCount"] for f in fonts if f["isCustomFont"])
            # Every CJK glyph comes from the web font: none falls to a last-resort box.
            assert cjk > 0 and web >= cjk, (selector, text, fonts)
        page.screenshot(path=str(tmp_path / "zh-chapter.png"))
    finally:
        page.close()


# In the page: the elements whose own text holds CJK, as [index in document order, text]. The
# search field's text is its placeholder (Material's 搜索); the hidden MathML copy of a formula,
# never drawn, is left out.
JS_CJK_ELEMENTS = """
(re) => {
  const cjk = new RegExp(re, "u");
  const own = (el) => el.placeholder ||
    [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.data).join("");
  return [...document.querySelectorAll("*")]
    .map((el, i) => [i, el.closest(".katex-mathml") ? "" : own(el)])
    .filter(([, text]) => cjk.test(text));
}
"""


def _cjk_class() -> str:
    """A JavaScript character class of the web font's unicode-range."""
    return "[" + "".join(f"\\u{{{lo:X}}}-\\u{{{hi:X}}}" for lo, hi in sf.CJK_RANGES) + "]"


def _tofu(page) -> list[tuple[str, list]]:
    """The elements on page whose CJK characters Chromium did not all draw with the web font.

    CSS.getPlatformFontsForNode gives the fonts that drew a node's own text and their glyph
    counts. The web font covers only CJK code points and this machine has no other font with
    them, so fewer web-font glyphs than CJK characters means boxes. An element whose text the
    page changed in between (Material's search status) is looked at twice.
    """
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")

    def scan(wanted: set[int] | None) -> dict[int, tuple[str, list]]:
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "*"})["nodeIds"]
        found = {}
        for index, text in page.evaluate(JS_CJK_ELEMENTS, _cjk_class()):
            if wanted is not None and index not in wanted:
                continue
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": nodes[index]})["fonts"]
            web = sum(f["glyphCount"] for f in fonts if f["isCustomFont"])
            if fonts and web < sum(1 for ch in text if sf.is_cjk(ch)):
                found[index] = (
                    text.strip()[:40],
                    [(f["familyName"], f["glyphCount"]) for f in fonts],
                )
        return found

    boxes = scan(None)
    if boxes:
        boxes = scan(set(boxes))
    cdp.detach()
    return list(boxes.values())


@pytest.mark.browser
@pytest.mark.site
@pytest.mark.parametrize("path", ["zh/", "zh/chapters/02_activations/", ""])
def test_no_chinese_text_is_drawn_as_boxes_on_a_first_visit(
    browser, site_server: str, tmp_path: Path, path: str
) -> None:
    """A first visit, nothing cached: the header title, the tabs, the search placeholder, the
    offline control and the language switcher (中文 on English pages too) were laid out before
    the web font arrived and stayed boxes in Chromium; every element is looked at once the font
    has loaded."""
    context = browser.new_context(service_workers="block")  # a fresh profile: no cached font
    page = context.new_page()
    try:
        page.goto(site_server + path, wait_until="load")
        page.evaluate("() => document.fonts.ready")
        page.wait_for_function(
            "f => [...document.fonts].some(x => x.family.replace(/\"/g, '') === f"
            " && x.status === 'loaded')",
            arg=FAMILY,
        )
        # Two frames: the page's own reaction to the load (a restyle) has been drawn.
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        boxes = _tofu(page)
        page.screenshot(path=str(tmp_path / "first-visit.png"))
        assert not boxes, f"{path or 'en/'}: Chinese drawn as boxes: {boxes}"
    finally:
        context.close()
