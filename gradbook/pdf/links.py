"""The home page of each language links to both PDFs, once `make pdf` has printed them.

The line is added to the built home pages (after their title) by the PDF step itself, so a site
built without PDFs has no link to a missing file and `mkdocs build --strict` never sees one. The
offline manifests hash every page, so they are written again afterwards (gradbook.pages.offline).
"""

from __future__ import annotations

import re
from pathlib import Path

from gradbook.pages import offline
from gradbook.results import atomic_write_text

CLASS = "gb-pdf-links"
LINE = {
    "en": 'The whole book as one PDF: <a href="{en}">English</a> ({en_mb} MB), '
    '<a href="{zh}" hreflang="zh">中文</a> ({zh_mb} MB).',
    "zh": '全书的 PDF 版本：<a href="{zh}">中文</a>（{zh_mb} MB）、'
    '<a href="{en}" hreflang="en">English</a>（{en_mb} MB）。',
}
# Each language's root in the site, and the other languages inside it (extra.alternate).
ROOTS = {"en": ("", ("zh/",)), "zh": ("zh", ())}
_OLD = re.compile(rf'\n?<p class="{CLASS}">.*?</p>', re.S)
_TITLE_END = re.compile(r"</h1>")


def add_line(html: str, line: str) -> str:
    """The home page with the PDF line after its title (replacing an older one)."""
    html = _OLD.sub("", html)
    html, n = _TITLE_END.subn(f'</h1>\n<p class="{CLASS}">{line}</p>', html, count=1)
    if n != 1:
        raise ValueError("the home page has no <h1>")
    return html


def link_pdfs(site: Path, pdfs: dict[str, Path]) -> None:
    """Add the line to every language's home page, then rewrite the offline manifests."""
    sizes = {f"{lang}_mb": f"{path.stat().st_size / 1e6:.1f}" for lang, path in pdfs.items()}
    for lang, (subdir, _) in ROOTS.items():
        home = site / subdir / "index.html"
        up = "../" * len(Path(subdir).parts)
        hrefs = {code: f"{up}pdf/{path.name}" for code, path in pdfs.items()}
        line = LINE[lang].format(**hrefs, **sizes)
        atomic_write_text(home, add_line(home.read_text(encoding="utf-8"), line))
    for lang, (subdir, others) in ROOTS.items():
        root = site / subdir
        if (root / offline.MANIFEST).is_file():  # a build with the offline book
            alternates = [{"lang": "other", "link": o} for o in others]
            offline.write(root, lang, shared=site / "assets" / "web", alternates=alternates)
