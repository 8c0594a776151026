"""The offline book: each language's precache manifest and the one service worker of the site.

A reader who visits one page keeps the whole book of that language, cells included, with no
network. Each language build writes ``offline.json`` at its root: every file of that language
(pages as their directory URLs, figures, the theme's assets, search, downloads) and every shared
asset (``assets/web/``: the cells, KaTeX, Pyodide, the lite wheel), as URLs relative to the
manifest, each with its size (for progress) and SHA-256 (so an update copies what did not
change and the worker can check what it downloads). The manifest's version hashes that list.

One service worker at the site root (scope: the English root, so it also serves ``zh/`` and the
Pyodide worker, which is matched by its own URL) is the bundled source (``make web`` ->
``build/web/site/sw.js``) behind a first line naming every language's manifest and version. Each
language build rewrites it from the manifests found under the root, so the worker's bytes, and
with them its cache name, change whenever any language changes: the browser installs the new
worker, which fills a new cache and drops the old one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from gradbook.results import atomic_write_text

MANIFEST = "offline.json"  # at each language's root
WORKER = "sw.js"  # at the site root (the English root), scope: the whole site
WORKER_SOURCE = "site/sw.js"  # in build/web: the bundle without its first line
SKIP_NAMES = {MANIFEST, WORKER, "sitemap.xml.gz"}  # the manifest is cached last, as the marker
SKIP_SUFFIXES = (".map", ".csv", ".csv.gz", ".pdf")  # source maps: only a developer's tools
# fetch them; figure data (1.7 MB a language, issue 14, with the big CSVs gzipped: figures.py) and
# the PDFs (`make pdf`, 7 MB) are downloaded when asked for, not saved with the book


def page_url(rel: str) -> str:
    """The URL a reader asks for: ``a/b/index.html`` -> ``a/b/``, ``index.html`` -> ``./``."""
    if rel == "index.html":
        return "./"
    return rel[: -len("index.html")] if rel.endswith("/index.html") else rel


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _files(top: Path, skip: Iterable[Path]) -> list[Path]:
    """Every file under top, outside the skipped directories, sorted."""
    skipped = [s.resolve() for s in skip]
    return sorted(
        p
        for p in top.rglob("*")
        if p.is_file() and not any(p.resolve().is_relative_to(s) for s in skipped)
    )


def build_manifest(site: Path, lang: str, shared: Path, skip: Iterable[Path] = ()) -> dict:
    """The manifest of one language: its site dir (minus skip, e.g. other languages) + shared.

    URLs are relative to the manifest (``site/offline.json``), so the book works from any
    sub-path; the shared assets of the Chinese build come out as ``../assets/web/...``.
    """
    site, shared = site.resolve(), shared.resolve()
    template = shared / WORKER_SOURCE
    own = [p for p in _files(site, [*skip, shared]) if p.name not in SKIP_NAMES]
    paths = [
        p
        for p in [*own, *_files(shared, [])]
        if p != template and not p.name.endswith(SKIP_SUFFIXES)
    ]
    entries = []
    for path in paths:
        rel = Path(os.path.relpath(path, site)).as_posix()
        entries.append({"url": page_url(rel), "size": path.stat().st_size, "hash": _digest(path)})
    entries.sort(key=lambda e: e["url"])
    listing = "\n".join(f"{e['url']} {e['hash']}" for e in entries)
    version = hashlib.sha256(listing.encode()).hexdigest()[:16]
    return {"lang": lang, "version": version, "files": entries}


def worker_script(root: Path, source: str) -> str:
    """The service worker: a first line naming each manifest under root, then the bundle."""
    languages: dict[str, dict[str, str]] = {}
    for path in sorted([root / MANIFEST, *root.glob(f"*/{MANIFEST}")]):
        if not path.is_file():
            continue
        manifest = json.loads(path.read_text(encoding="utf-8"))
        where = path.parent.relative_to(root).as_posix()
        base = "" if where == "." else f"{where}/"
        languages[manifest["lang"]] = {
            "root": base,
            "manifest": f"{base}{MANIFEST}",
            "version": manifest["version"],
        }
    versions = "\n".join(f"{lang} {v['version']}" for lang, v in sorted(languages.items()))
    site = {"version": hashlib.sha256(versions.encode()).hexdigest()[:16], "languages": languages}
    return f"self.GRADBOOK_OFFLINE = {json.dumps(site, sort_keys=True)};\n{source}"


def other_languages(site: Path, lang: str, alternates: Iterable[dict]) -> list[Path]:
    """The roots of the other languages inside site (extra.alternate): ``zh/`` for English."""
    site = site.resolve()
    roots = [(site / str(alt["link"])).resolve() for alt in alternates if alt.get("lang") != lang]
    return [r for r in roots if r != site and r.is_relative_to(site)]


def write(site: Path, lang: str, *, shared: Path, alternates: Iterable[dict] = ()) -> dict:
    """After a language's build: write its manifest, then the site's worker from all manifests.

    site: this language's site dir; shared: the shared assets (``assets/web``, holding the worker
    bundle), whose parent's parent is the site root, where the worker goes; alternates: the
    config's extra.alternate, whose other languages inside site are left out. Returns the manifest.
    """
    skip = other_languages(site, lang, alternates)
    manifest = build_manifest(site, lang, shared, skip)
    atomic_write_text(site / MANIFEST, json.dumps(manifest, indent=0, ensure_ascii=False) + "\n")
    source = (shared / WORKER_SOURCE).read_text(encoding="utf-8")
    root = shared.resolve().parent.parent
    atomic_write_text(root / WORKER, worker_script(root, source))
    return manifest
