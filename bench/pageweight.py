"""What a built page makes the browser fetch before any cell runs: the HTML, and the CSS, JS,
images and fonts it references (CSS `url()`/`@import` and JS static imports followed), Pyodide excluded.

A static reading of the built files, so it needs no browser and is an upper bound: every image and
every declared font counts (one format each), whether or not the page shows it. What a script
fetches later (Pyodide, the search index) is measured in the browser part instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
JS_IMPORT = re.compile(
    r"""(?:^|[;\s}])import\s*(?:[\w*{}\s,$]+\s*from\s*)?['"]([^'"]+)['"]""", re.MULTILINE
)
PYODIDE_DIR = "pyodide"


class _Refs(HTMLParser):
    """Collects the URLs an HTML page loads by itself (not the ones it only links to)."""

    LOADING_RELS = {"stylesheet", "icon", "preload", "modulepreload", "manifest"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and self.LOADING_RELS & set(a.get("rel", "").lower().split()):
            self.urls.append(a.get("href", ""))
        elif tag in ("script", "img", "iframe", "embed", "source", "audio", "video"):
            self.urls.append(a.get("src", ""))
            for part in a.get("srcset", "").split(","):
                self.urls.append(part.strip().split(" ")[0])
        elif tag == "object":
            self.urls.append(a.get("data", ""))
        elif tag in ("image", "use"):  # inline SVG pointing at files
            self.urls.append(a.get("href", "") or a.get("xlink:href", ""))


@dataclass
class PageWeight:
    """Bytes a page loads, split by kind; `external` lists any URL on another host (should be none)."""

    page: Path
    files: dict[Path, int] = field(default_factory=dict)
    external: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.files.values())

    def by_kind(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for path, size in self.files.items():
            kind = path.suffix.lstrip(".").lower() or "other"
            kinds[kind] = kinds.get(kind, 0) + size
        return kinds


def _resolve(url: str, base: Path, site: Path) -> Path | None | str:
    """A local file for `url` seen in `base`; the URL itself if it is on another host; None if not a file."""
    if not url or url.startswith(("data:", "#", "javascript:", "mailto:", "blob:")):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return url
    path = unquote(parts.path)
    if not path:
        return None
    target = (site / path.lstrip("/")) if path.startswith("/") else (base.parent / path)
    target = target.resolve()
    if target.is_dir():
        target = target / "index.html"
    return target


def _under_pyodide(path: Path, site: Path) -> bool:
    return path.is_relative_to(site) and PYODIDE_DIR in path.relative_to(site).parts


def _css_urls(text: str) -> list[str]:
    """URLs a stylesheet makes the browser fetch. Of an @font-face's `src` list a browser fetches
    one format (the first it supports: woff2 in every current browser), so only the first counts."""
    urls = []
    for block in FONT_FACE.findall(text):
        first = CSS_URL.search(block)
        if first:
            urls.append(first.group(1) or first.group(2))
    return urls + [a or b for a, b in CSS_URL.findall(FONT_FACE.sub("", text))]


def _children(path: Path) -> list[str]:
    if path.suffix == ".css":
        return _css_urls(path.read_text(encoding="utf-8", errors="replace"))
    if path.suffix in (".js", ".mjs"):
        text = path.read_text(encoding="utf-8", errors="replace")
        return [u for u in JS_IMPORT.findall(text) if u.startswith((".", "/"))]
    return []


def page_weight(page: Path, site: Path) -> PageWeight:
    """Walk the files `page` loads, transitively, skipping the Pyodide directory."""
    site = site.resolve()
    page = page.resolve()
    weight = PageWeight(page)
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    weight.files[page] = page.stat().st_size
    queue = [(u, page) for u in parser.urls]
    while queue:
        url, base = queue.pop()
        target = _resolve(url, base, site)
        if target is None:
            continue
        if isinstance(target, str):
            weight.external.append(target)
            continue
        if target in weight.files or _under_pyodide(target, site):
            continue
        if not target.is_file() or not target.is_relative_to(site):
            weight.missing.append(url)
            continue
        weight.files[target] = target.stat().st_size
        queue += [(u, target) for u in _children(target)]
    return weight


def tree_bytes(root: Path) -> int:
    """Total size of the files under `root`."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
