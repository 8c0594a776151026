"""What every chapter page downloads, kept small (issue 15, bench key browser.page.*).

The search index (every page fetches it) is UTF-8 JSON without the source pages' code
(gradbook/pages/search.py); the math arrives typeset by KaTeX at build time, so a chapter page
fetches KaTeX's stylesheet and fonts but not its script (gradbook/pages/math.py, web/site/math.js).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from conftest import new_visit

from gradbook.pages.math import Katex, typeset

LANGS = {"en": "", "zh": "zh/"}
ESCAPE = re.compile(r"(?<!\\)\\u[0-9a-fA-F]{4}")  # a JSON \uXXXX escape (not the regex's \\u200b)
KATEX_DIR = Path(__file__).resolve().parents[1] / "web" / "node_modules" / "katex"


def _chapters(site: Path, lang: str) -> list[Path]:
    pages = sorted((site / LANGS[lang] / "chapters").glob("*/index.html"))
    assert pages, f"no {lang} chapter page in {site}"
    return pages


@pytest.mark.parametrize("lang", LANGS)
def test_search_index_is_utf8_and_leaves_out_the_source_pages_code(
    built_site: Path, lang: str
) -> None:
    raw = (built_site / LANGS[lang] / "search" / "search_index.json").read_text(encoding="utf-8")
    assert not ESCAPE.search(raw), ESCAPE.search(raw)
    if lang == "zh":
        assert "梯度消失" in raw  # Chinese as characters, 3 bytes each instead of 6
    docs = json.loads(raw)["docs"]
    source = [d for d in docs if d["location"].startswith("source/")]
    assert source, "the source pages are no longer in the index"
    for doc in source:  # no code, prompt or copy button; the modules' prose stays
        assert "<pre>" not in doc["text"] and "import torch" not in doc["text"], doc["location"]
        assert "In [" not in doc["text"] and "Copied!" not in doc["text"], doc["location"]
    assert sum(len(d["text"]) for d in source) > 10_000, "the modules' prose left the index"
    page = (built_site / LANGS[lang] / "source" / "01_backprop" / "index.html").read_text()
    assert "import torch" in page  # the page itself keeps its code
    assert "data-search-exclude" not in page  # Material drops the marks once it has indexed


@pytest.mark.parametrize("lang", LANGS)
def test_chapter_math_is_typeset_at_build_time(built_site: Path, lang: str) -> None:
    formulas = hints = 0
    for path in _chapters(built_site, lang):
        page = path.read_text(encoding="utf-8")
        assert "katex.min.js" not in page, path  # no script tag: math.js loads it only if needed
        assert "katex-error" not in page, path
        for tag, attrs, body in re.findall(
            r'<(span|div) class="arithmatex"([^>]*)>(.{0,80})', page
        ):
            formulas += 1
            assert body.startswith('<span class="katex'), (path, body)
            assert tag == "span" or 'tabindex="0"' in attrs, path  # a display scrolls: focusable
        for value in re.findall(r'data-hints="([^"]*)"', page):
            for hint in json.loads(html.unescape(value)):
                if "arithmatex" in hint:
                    hints += 1
                    assert '<span class="katex">' in hint, (path, hint)
    assert formulas > 100 and hints > 0
    # Search indexed the TeX, not KaTeX's markup (typesetting runs on the finished page).
    index = (built_site / LANGS[lang] / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "katex" not in index and "\\(" in index


def test_build_time_katex_reads_the_tex_as_the_browser_would() -> None:
    katex = Katex(KATEX_DIR)
    try:
        page = typeset(
            '<p><span class="arithmatex">\\(a &lt; b\\)</span></p>'
            '<div class="arithmatex">\\[\n\\frac{1}{2}\n\\]</div>',
            katex,
        )
    finally:
        katex.close()
    inline, display = re.findall(
        r'<annotation encoding="application/x-tex">(.*?)</annotation>', page, re.S
    )
    assert inline == "a &lt; b" and display.strip() == "\\frac{1}{2}"
    assert '<div class="arithmatex" tabindex="0"><span class="katex-display">' in page


@pytest.mark.parametrize("lang", LANGS)
def test_only_a_notebook_page_fetches_katex_script(browser, site_server: str, lang: str) -> None:
    context = new_visit(browser)
    try:
        page = context.new_page()
        fetched: list[str] = []
        page.on("request", lambda r: fetched.append(r.url))
        page.goto(site_server + LANGS[lang] + "chapters/01_backprop/", wait_until="load")
        page.wait_for_load_state("networkidle")
        assert page.locator(".arithmatex .katex").count() > 0
        assert not [u for u in fetched if u.endswith(".js") and "/katex/" in u], fetched
        # A notebook's markdown cells keep $...$ as text: math.js loads KaTeX and typesets them.
        page.goto(site_server + LANGS[lang] + "source/01_backprop/", wait_until="load")
        page.wait_for_function(
            "() => document.querySelectorAll('.jp-MarkdownCell .katex').length > 0"
        )
        assert any(u.endswith("/katex/katex.min.js") for u in fetched)
        assert page.locator(".katex-error").count() == 0
    finally:
        context.close()
