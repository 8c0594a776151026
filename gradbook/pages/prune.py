"""Drop the theme files a built language never loads: search languages it does not use, source maps.

Material copies every lunr language (``assets/javascripts/lunr/``: 30 stemmers, the Thai segmenter
``wordcut.js`` of 0.7 MB, Japanese ``tinyseg.js``) and the source maps of its bundles (1.3 MB) into
each language's site. Its search worker loads only what the built index's ``config.lang`` asks for
(``lunr.stemmer.support`` and ``lunr.<lang>`` for each non-English language, ``lunr.multi`` for
several, ``tinyseg`` for ja, ``wordcut`` for hi and th; none for English alone), and only a
developer's tools fetch a ``.map``. Reading ``lang`` from the written ``search/search_index.json``
(the file the worker reads) keeps this right whatever the config says. Run after Material's search
plugin wrote the index and before the offline manifest lists the files (`gradbook.pages.plugin`).
"""

from __future__ import annotations

import json
from pathlib import Path

LUNR = "assets/javascripts/lunr"  # Material's search languages, relative to a language's root
THEME_DIRS = ("assets/javascripts", "assets/stylesheets")  # where Material's source maps are
INDEX = "search/search_index.json"


def lunr_needed(langs: list[str]) -> set[str]:
    """The files under lunr/ Material's search worker imports for these languages."""
    needed: set[str] = set()
    for lang in langs:
        if lang == "ja":
            needed.add("tinyseg.js")
        elif lang in ("hi", "th"):
            needed.add("wordcut.js")
        if lang != "en":
            needed.add(f"min/lunr.{lang}.min.js")
    if len(langs) > 1:
        needed.add("min/lunr.multi.min.js")
    if needed:
        needed.add("min/lunr.stemmer.support.min.js")
    return needed


def search_langs(site: Path) -> list[str] | None:
    """The ``lang`` of the built search index, or None when there is no index (search is off)."""
    index = site / INDEX
    if not index.is_file():
        return None
    return list(json.loads(index.read_text(encoding="utf-8"))["config"]["lang"])


def theme_assets(site: Path) -> list[Path]:
    """Delete the unused lunr files and Material's source maps under site; return what went."""
    removed: list[Path] = []
    langs = search_langs(site)
    lunr = site / LUNR
    if langs is not None and lunr.is_dir():
        needed = lunr_needed(langs)
        removed += [
            p
            for p in lunr.rglob("*")
            if p.is_file() and p.relative_to(lunr).as_posix() not in needed
        ]
    for top in THEME_DIRS:
        if (site / top).is_dir():
            removed += [p for p in (site / top).rglob("*.map") if p.is_file()]
    for path in removed:
        path.unlink()
    for folder in (
        sorted((p for p in lunr.rglob("*") if p.is_dir()), reverse=True) if lunr.is_dir() else ()
    ):
        if not any(folder.iterdir()):
            folder.rmdir()
    if lunr.is_dir() and not any(lunr.iterdir()):
        lunr.rmdir()
    return sorted(removed)
