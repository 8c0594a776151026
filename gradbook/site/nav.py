"""MkDocs hook: expand ``*`` patterns in the nav, so a new chapter needs no nav edit.

``- Chapters: chapters/*.md`` lists every page of ``docs/chapters/`` (one entry per page, whatever
its language suffixes), titled by the page's own first heading, so each language shows its own
title. ``- Source code: source/*.md`` lists the source page of every ``chapters_src/NN_slug.py``,
titled by the module's file name. Entries come out sorted, so ``NN_`` prefixes give chapter order.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

from gradbook.site.notebooks import chapter_modules, source_page_uri
from gradbook.site.paths import repo_root

LOCALE_SUFFIX = re.compile(r"\.[a-z]{2}(?:_[A-Z]{2})?(?=\.md$)")


def known_pages(docs_dir: Path, root: Path) -> dict[str, str | None]:
    """Every page the nav may name (docs path without locale suffix) -> nav title or None."""
    pages: dict[str, str | None] = {}
    for path in docs_dir.rglob("*.md"):
        pages[LOCALE_SUFFIX.sub("", path.relative_to(docs_dir).as_posix())] = None
    for module in chapter_modules(root):
        pages[source_page_uri(module)] = module.name
    return pages


def expand(nav: list[Any], pages: dict[str, str | None]) -> list[Any]:
    """Return nav with every pattern string (``*`` or ``?``) replaced by the matching pages."""
    out: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            out.append({title: _expand_value(value, pages) for title, value in item.items()})
        elif isinstance(item, str) and any(c in item for c in "*?"):
            out.extend(_matches(item, pages))
        else:
            out.append(item)
    return out


def _expand_value(value: Any, pages: dict[str, str | None]) -> Any:
    if isinstance(value, list):
        return expand(value, pages)
    if isinstance(value, str) and any(c in value for c in "*?"):
        return _matches(value, pages)
    return value


def _matches(pattern: str, pages: dict[str, str | None]) -> list[Any]:
    uris = sorted(uri for uri in pages if fnmatch.fnmatchcase(uri, pattern))
    return [uri if pages[uri] is None else {pages[uri]: uri} for uri in uris]


def on_config(config: Any) -> Any:
    # static-i18n calls on_config again for every language; after the first call there is no
    # pattern left, so this is a no-op then.
    if config.nav:
        config.nav = expand(config.nav, known_pages(Path(config.docs_dir), repo_root(config)))
    return config
