"""`make pdf`: one PDF per language, printed by Chromium from a real build (gradbook/pdf/).

The PDFs are printed once per module from the session's built site into a scratch directory;
the tests read them with pypdf: they open, their outline is the book's pages in order, the
contents give page numbers, the Chinese one carries Chinese text in embedded fonts, every
chapter has its figures and no math is left as TeX.
"""

from __future__ import annotations

import html as html_lib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gradbook.pdf.assemble import page_urls, rewrite_page
from gradbook.pdf.links import add_line, link_pdfs

REPO = Path(__file__).resolve().parents[1]
LANGS = {"en": "", "zh": "zh"}
PRINT_TIMEOUT_S = 1500  # both languages, printed twice, on a loaded 2-core machine
# Each test that reads the PDFs is marked timeout(1800): the printing happens in the first one's
# setup, and its timeout (pytest-timeout) must cover it.
pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def pdfs(built_site: Path, browser, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both PDFs, printed by the real `python -m gradbook.pdf` (browser: skips without Chromium)."""
    out = tmp_path_factory.mktemp("pdf")
    proc = subprocess.run(
        [sys.executable, "-m", "gradbook.pdf", "--site", str(built_site), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S,
    )  # fmt: skip
    assert proc.returncode == 0, f"make pdf failed:\n{proc.stdout}\n{proc.stderr}"
    return {lang: out / f"gradbook-{lang}.pdf" for lang in LANGS}


def _titles(built_site: Path, lang: str) -> list[str]:
    root = built_site / LANGS[lang]
    titles = []
    for url in page_urls(root):
        html = (root / url / "index.html").read_text(encoding="utf-8")
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
        titles.append(re.sub(r"<[^>]+>|¶", "", html_lib.unescape(h1[1])).strip())
    return titles


def _text(reader) -> str:
    return "\n".join(page.extract_text() or "" for page in reader.pages)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.site
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_outline_is_the_book_in_order(pdfs, built_site: Path, lang: str) -> None:
    reader = pypdf.PdfReader(pdfs[lang])
    top = [item for item in reader.outline if not isinstance(item, list)]
    titles = [item.title for item in top]
    assert titles[1:] == _titles(built_site, lang), titles
    starts = [reader.get_destination_page_number(item) for item in top]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), starts
    contents = reader.pages[0].extract_text()
    lines = [line for line in contents.splitlines() if not re.fullmatch(r"\d+ / \d+", line)]
    numbers = [int(n) for n in re.findall(r"(\d+)\s*$", "\n".join(lines), re.M)]
    assert numbers[-len(starts) + 1 :] == [s + 1 for s in starts[1:]], contents


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.site
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_math_is_typeset_and_no_tex_is_left(pdfs, lang: str) -> None:
    text = _text(pypdf.PdfReader(pdfs[lang]))
    for raw in ("\\(", "\\)", "\\[", "\\]", "$$", "\\frac", "\\mathbb"):
        assert raw not in text, f"{lang}: raw TeX {raw!r} in the PDF"
    assert "∂" in text or "𝜕" in text, "no typeset partial derivative anywhere"


def _embedded(font) -> bool:
    font = font.get_object()
    if font.get("/Subtype") == "/Type3":
        return True  # glyphs drawn in the file itself
    descendants = font.get("/DescendantFonts")
    desc = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
    return desc is not None and any(k in desc.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))  # fmt: skip


@pytest.mark.site
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_chinese_pdf_has_chinese_text_in_embedded_fonts(pdfs) -> None:
    reader = pypdf.PdfReader(pdfs["zh"])
    text = _text(reader)
    assert "梯度消失" in text and "代码单元" in text
    assert "\ufffd" not in text and "□" not in text
    fonts = {}
    for page in reader.pages:
        for name, font in (page["/Resources"].get("/Font") or {}).items():
            fonts[(name, font.idnum)] = font
    assert fonts and all(_embedded(f) for f in fonts.values()), "a font is not embedded"


def _xobjects(page) -> int:
    xobjects = page["/Resources"].get("/XObject")
    return len(xobjects.get_object()) if xobjects else 0


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.site
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_every_chapter_has_its_figures(pdfs, built_site: Path, lang: str) -> None:
    reader = pypdf.PdfReader(pdfs[lang])
    top = [item for item in reader.outline if not isinstance(item, list)]
    starts = [reader.get_destination_page_number(item) for item in top] + [len(reader.pages)]
    root = built_site / LANGS[lang]
    for i, url in enumerate(page_urls(root), start=1):
        html = (root / url / "index.html").read_text(encoding="utf-8")
        figures = len(re.findall(r'<img[^>]+src="[^"]*figures/', html))
        drawn = sum(_xobjects(reader.pages[p]) for p in range(starts[i], starts[i + 1]))
        # Chromium draws an SVG figure as vector paths, as a form of its own or inline in the
        # page, so the count is a floor; `python -m gradbook.pdf` fails on a figure that did
        # not load.
        assert drawn >= (1 if figures else 0), f"{lang} {url}: {figures} figures, none drawn"


def test_links_inside_the_book_become_internal_and_the_rest_go_to_the_web_book() -> None:
    html = (
        '<article class="md-content__inner"><h1 id="t">T<a class="headerlink" href="#t">¶</a></h1>'
        '<p><a href="../../glossary/#relu">g</a> <a href="../../playground/">p</a>'
        ' <a href="#x">x</a> <a href="https://doi.org/1">d</a></p>'
        '<img loading="lazy" src="../../figures/02_activations/a.en.svg">'
        '<div class="pycell"><pre><code>x = 1</code></pre></div></article>'
    )
    anchors = {"": "p-home", "chapters/02_activations/": "p-02", "glossary/": "p-glossary"}
    page = rewrite_page(html, "chapters/02_activations/", anchors, "/", "https://b.org/", "en")
    assert 'href="#p-glossary--relu"' in page.html and 'href="#p-02--x"' in page.html
    assert 'href="https://b.org/playground/"' in page.html and "https://doi.org/1" in page.html
    assert 'src="/figures/02_activations/a.en.svg"' in page.html and "¶" not in page.html
    assert "lazy" not in page.html  # a lazy figure would never load in the print page
    assert 'id="p-02--t"' in page.html and "https://b.org/chapters/02_activations/" in page.html
    offline = rewrite_page(html, "chapters/02_activations/", anchors, "/", None, "en")
    assert "playground" not in offline.html and ">p<" not in offline.html and " p " in offline.html


def test_home_pages_link_both_pdfs_once(tmp_path: Path) -> None:
    for sub in ("", "zh"):
        (tmp_path / sub).mkdir(exist_ok=True)
        (tmp_path / sub / "index.html").write_text("<h1>Home</h1><p>x</p>", encoding="utf-8")
    pdfs = {}
    for lang in LANGS:
        pdfs[lang] = tmp_path / "pdf" / f"gradbook-{lang}.pdf"
        pdfs[lang].parent.mkdir(exist_ok=True)
        pdfs[lang].write_bytes(b"%PDF" + b"0" * 1_500_000)
    link_pdfs(tmp_path, pdfs)
    link_pdfs(tmp_path, pdfs)  # twice: still one line
    en = (tmp_path / "index.html").read_text(encoding="utf-8")
    zh = (tmp_path / "zh" / "index.html").read_text(encoding="utf-8")
    assert en.count("gb-pdf-links") == 1 and 'href="pdf/gradbook-zh.pdf"' in en
    assert zh.count("gb-pdf-links") == 1 and 'href="../pdf/gradbook-en.pdf"' in zh
    assert "（1.5 MB）" in zh and "(1.5 MB)" in en
    with pytest.raises(ValueError):
        add_line("<p>no title</p>", "x")
