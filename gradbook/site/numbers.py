"""MkDocs hook: ``{{ slug:path/to/key | fmt }}`` inserts a measured number from results.json.

Every number the prose quotes comes from ``figures/slug/results.json``, written by the chapter that
measured it, so the text can never drift from the experiment. The path walks the JSON: parts are
separated by ``/``, dictionary keys are taken as written, integers index lists (``-1`` is the last
item). After ``|`` comes a Python format spec (``.1%``, ``.2e``, ``,d``). A missing key fails the
build naming the page and the key. Code blocks and inline code are left untouched.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

from gradbook.site.paths import repo_root
from gradbook.site.prose import map_prose

NUMBER = re.compile(r"\{\{\s*(?P<slug>[\w-]+):(?P<path>[^|}]+?)\s*(?:\|\s*(?P<fmt>[^}]*?)\s*)?\}\}")


class ResultsCache:
    """results.json files by chapter slug, re-read when the file changes (mkdocs serve)."""

    def __init__(self, figures_dir: Path) -> None:
        self.figures_dir = figures_dir
        self._loaded: dict[str, tuple[float, Any]] = {}

    def get(self, slug: str) -> Any:
        path = self.figures_dir / slug / "results.json"
        mtime = path.stat().st_mtime  # FileNotFoundError is reported by the caller
        cached = self._loaded.get(slug)
        if cached is None or cached[0] != mtime:
            cached = (mtime, json.loads(path.read_text(encoding="utf-8")))
            self._loaded[slug] = cached
        return cached[1]


def lookup(data: Any, path: str) -> Any:
    """Walk data along a ``/``-separated path; raise KeyError naming the first part not found."""
    value = data
    for part in path.strip("/").split("/"):
        if isinstance(value, list):
            try:
                value = value[int(part)]
            except (ValueError, IndexError):
                raise KeyError(part) from None
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(part)
    return value


def render_numbers(markdown: str, *, src_uri: str, results: ResultsCache) -> str:
    """Replace every ``{{ slug:path | fmt }}`` in the prose with the formatted value."""

    def replace(m: re.Match[str]) -> str:
        slug, path, fmt = m["slug"], m["path"].strip(), m["fmt"] or ""
        where = f"{src_uri}: {{{{ {slug}:{path} }}}}"
        try:
            data = results.get(slug)
        except FileNotFoundError:
            raise PluginError(f"{where}: figures/{slug}/results.json does not exist") from None
        try:
            value = lookup(data, path)
        except KeyError as err:
            raise PluginError(
                f"{where}: key {err.args[0]!r} not found in figures/{slug}/results.json"
            ) from None
        if isinstance(value, dict | list):
            raise PluginError(f"{where}: is a {type(value).__name__}, not a number or string")
        try:
            return format(value, fmt)
        except (ValueError, TypeError) as err:
            raise PluginError(f"{where}: cannot format {value!r} with {fmt!r}: {err}") from None

    return map_prose(markdown, lambda text: NUMBER.sub(replace, text))


_cache: ResultsCache | None = None


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    global _cache
    figures_dir = repo_root(config) / "figures"
    if _cache is None or _cache.figures_dir != figures_dir:
        _cache = ResultsCache(figures_dir)
    return render_numbers(markdown, src_uri=page.file.src_uri, results=_cache)
