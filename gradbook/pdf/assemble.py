"""One print page per language from the built site: the pages in book order, as one document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

# The pages of the book, in nav order; the source notebooks (long, and the code is in the
# chapters' cells), the playground (only knobs and cells) and the About pages are left out.
FRONT = ("",)
CHAPTERS = "chapters"
BACK = ("checklist/", "glossary/", "references/")
ORIGIN = "http://book.invalid"  # resolves relative URLs; the print page uses root-absolute ones

KATEX = "/assets/web/katex/katex.min.js"  # the site's own copy (make web)
# A book, not a screen: each page starts a new sheet, code wraps, figures and tables stay whole.
PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm; }
html { font-size: 110%; }
body { margin: 0; background: #fff; }
.md-typeset { font-size: 0.72rem; }
.gb-print-page, .gb-print-toc { break-before: page; }
.gb-print-toc { break-before: auto; }
.gb-print-toc ol { font-size: 0.9rem; line-height: 1.9; padding-left: 1.2em; }
.gb-print-toc li { display: flex; gap: 0.5em; }
.gb-print-toc li a { flex: 1; }
.gb-toc-page { font-variant-numeric: tabular-nums; }
.md-typeset h1, .md-typeset h2, .md-typeset h3 { break-after: avoid; }
.md-typeset h1 { margin-bottom: 1em; font-weight: 400; color: #222; }
.md-typeset pre > code { white-space: pre-wrap; overflow-wrap: anywhere; }
.md-typeset img, .md-typeset table, .md-typeset .admonition, .md-typeset details,
.md-typeset div.arithmatex { break-inside: avoid; }
.md-typeset div.arithmatex { overflow: visible; }
.md-typeset a { color: #303fa1; }
.gb-print-note { font-style: normal; color: #555; border-left: 0.2rem solid #ccc; padding-left: 0.6em; }
"""

TEXT = {
    "en": {
        "contents": "Contents",
        "cells": "The code cells of this page run in your browser in the web book",
        "cells_at": "The code cells of this page run in your browser in the web book: ",
        "title": "gradbook: vanishing and exploding gradients",
    },
    "zh": {
        "contents": "目录",
        "cells": "本页的代码单元可以在网页版中直接在浏览器里运行",
        "cells_at": "本页的代码单元可以在网页版中直接在浏览器里运行：",
        "title": "gradbook：梯度消失与梯度爆炸",
    },
}


@dataclass(frozen=True)
class BookPage:
    url: str  # relative to the language root, "" for the home page: "chapters/02_activations/"
    anchor: str  # the id of its section in the print page
    title: str
    html: str  # the article, rewritten for the print page


def page_urls(lang_root: Path) -> list[str]:
    """The book's pages of one language build, in nav order (chapters sorted by file name)."""
    chapters = sorted(p.parent.name for p in (lang_root / CHAPTERS).glob("*/index.html"))
    urls = [*FRONT, *(f"{CHAPTERS}/{c}/" for c in chapters), *BACK]
    missing = [u or "./" for u in urls if not (lang_root / u / "index.html").is_file()]
    if missing:
        raise FileNotFoundError(f"{lang_root} lacks {', '.join(missing)}: build the site first")
    return urls


def anchor_for(url: str) -> str:
    """The section id of a page: "" -> "p-home", "chapters/02_activations/" -> "p-02_activations"."""
    name = url.strip("/").rsplit("/", 1)[-1]
    return f"p-{re.sub(r'[^A-Za-z0-9_-]', '-', name) or 'home'}"


def _resolve(lang_base: str, page_url: str, href: str) -> tuple[str, str]:
    """A relative href on a page -> (its path from the site root, "/zh/glossary/", and fragment).

    lang_base: the language root from the site root ("/" or "/zh/").
    """
    parts = urlsplit(urljoin(ORIGIN + lang_base + page_url, href))
    return parts.path.removesuffix("index.html"), parts.fragment


def rewrite_page(
    html: str, url: str, anchors: dict[str, str], lang_base: str, web_url: str | None, lang: str
) -> BookPage:
    """The article of a built page, made a section of the print page (served from the site).

    anchors: the book's pages (paths from the language root) -> their section ids.
    web_url: the language root of the web book, where links the PDF cannot hold go (None: no link).
    """
    soup = BeautifulSoup(html, "html.parser")
    article = soup.select_one("article.md-content__inner")
    if article is None:
        raise ValueError(f"{url or './'}: no article in the built page")
    for junk in article.select(
        "a.headerlink, .md-content__button, .md-source-file, script, p.gb-pdf-links"
    ):
        junk.decompose()
    anchor = anchors[url]
    for el in article.select("[id]"):
        el["id"] = f"{anchor}--{el['id']}"
    for img in article.select("img[src]"):
        img.attrs.pop("loading", None)  # a lazy figure never loads in a print page: all at once
        src = img["src"]
        if not urlsplit(src).scheme:
            img["src"] = _resolve(lang_base, url, src)[0]
    for a in article.select("a[href]"):
        _rewrite_link(a, url, anchors, lang_base, web_url)
    cells = article.select("div.pycell, div.pyexercise")
    if cells:
        note = soup.new_tag("p", attrs={"class": "gb-print-note"})
        if web_url:
            note.string = TEXT[lang]["cells_at"]
            link = soup.new_tag("a", href=web_url + url)
            link.string = web_url + url
            note.append(link)
        else:
            note.string = TEXT[lang]["cells"] + ("。" if lang == "zh" else ".")
        h1 = article.find("h1")
        (h1.insert_after if h1 else article.insert)(*((note,) if h1 else (0, note)))
    h1 = article.find("h1")
    title = h1.get_text(" ", strip=True) if h1 else url
    section = f'<section class="gb-print-page" id="{anchor}">{article.decode_contents()}</section>'
    return BookPage(url=url, anchor=anchor, title=title, html=section)


def _rewrite_link(
    a: Tag, url: str, anchors: dict[str, str], lang_base: str, web_url: str | None
) -> None:
    href = a["href"]
    if urlsplit(href).scheme or href.startswith("//"):
        return  # a web address: the reader's PDF viewer opens it
    path, frag = _resolve(lang_base, url, href)
    path = path.removeprefix(lang_base) if path.startswith(lang_base) else "../" + path
    if path in anchors:
        a["href"] = f"#{anchors[path]}--{frag}" if frag else f"#{anchors[path]}"
    elif web_url:
        a["href"] = web_url + path + (f"#{frag}" if frag else "")
    else:
        a.unwrap()  # the web book's address is unknown: keep the words


def assemble(lang_root: Path, lang: str, lang_base: str, web_url: str | None) -> str:
    """The print page of one language: the site's stylesheets, contents, every page a section.

    lang_root: the built language (site/ or site/zh/); lang_base: its URL path ("/" or "/zh/").
    """
    urls = page_urls(lang_root)
    anchors = {u: anchor_for(u) for u in urls}
    home = BeautifulSoup((lang_root / "index.html").read_text(encoding="utf-8"), "html.parser")
    styles = [
        _resolve(lang_base, "", link["href"])[0]
        for link in home.select('head link[rel="stylesheet"]')
        if not urlsplit(link["href"]).scheme
    ]
    pages = [
        rewrite_page(
            (lang_root / u / "index.html").read_text(encoding="utf-8"),
            u,
            anchors,
            lang_base,
            web_url,
            lang,
        )  # fmt: skip
        for u in urls
    ]
    text = TEXT[lang]
    toc = "".join(f'<li><a href="#{p.anchor}">{_escape(p.title)}</a></li>' for p in pages)
    head = "".join(f'<link rel="stylesheet" href="{s}">' for s in styles)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{_escape(text['title'])}</title>{head}<style>{PRINT_CSS}</style>"
        f'<script src="{KATEX}"></script></head>'
        f'<body><div class="md-typeset" hidden>'
        f'<nav class="gb-print-toc"><h1 id="p-contents">{text["contents"]}</h1><ol>{toc}</ol></nav>'
        + "".join(p.html for p in pages)
        + "</div></body></html>"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
