"""``*`` patterns in the nav, so a new chapter needs no nav edit.

``- Chapters: chapters/*.md`` lists every page of ``chapters/``, titled by the page's own first
heading. ``- Source code: source/*.py`` lists every chapter module linked into ``source/``, titled
by its file name. Entries come out sorted, so ``NN_`` prefixes give chapter order.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

SOURCE_DIR = "source"  # chapter modules (symlinks to chapters_src/), rendered by mkdocs-jupyter


def known_pages(docs_dir: Path) -> dict[str, str | None]:
    """Every page the nav may name (its path in docs_dir) -> nav title, or None for its heading."""
    pages: dict[str, str | None] = {
        p.relative_to(docs_dir).as_posix(): None for p in docs_dir.rglob("*.md")
    }
    for module in sorted((docs_dir / SOURCE_DIR).glob("[0-9][0-9]_*.py")):
        pages[f"{SOURCE_DIR}/{module.name}"] = module.name
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
