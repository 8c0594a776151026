"""MkDocs hook: one search index per language, so a page downloads only its own language's index.

mkdocs-static-i18n stacks every language's entries into one ``search/search_index.json``, and
Material's search fetches that whole file on every page load (it doubled the page weight of the
index, and the source pages are in it once per language). After the combined index is written,
this hook moves each non-default language's entries to ``<locale>/search/search_index.json``
(locations made relative to ``<locale>/``) and leaves the default language in ``search/``.
Material looks for the index at ``<base>/search/search_index.json`` and resolves result links
against ``base``, so a page of another language gets ``<locale>/`` appended to its ``base``.
The index config (separator, pipeline, jieba pre-segmented text) is kept as is in every file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

INDEX = Path("search") / "search_index.json"
# The `"base": "../.."` member of the JSON that Material's base.html writes into <script id="__config">.
CONFIG_BASE = re.compile(r'(<script id="__config"[^>]*>\{[^<]*?"base": ")([^"]*)(")')


def other_locales(config: Any) -> list[str]:
    """Locales that are built and are not the default (their pages live under `<locale>/`)."""
    i18n = config.plugins.get("i18n")
    if i18n is None:
        return []
    return [lang.locale for lang in i18n.config.languages if lang.build and not lang.default]


def page_locale(page: Any) -> str | None:
    return getattr(page.file, "locale", None)


def point_base_at_locale(html: str, locale: str) -> str:
    """Make Material's `base` the language's root (`<base>/<locale>/`) in a page's config script."""
    return CONFIG_BASE.sub(lambda m: f"{m[1]}{m[2].rstrip('/')}/{locale}/{m[3]}", html, count=1)


def split_index(index: dict, locales: list[str]) -> dict[str, dict]:
    """The combined index as one index per language: '' for the default, else the locale."""
    out = {key: {**index, "docs": []} for key in ["", *locales]}
    for doc in index["docs"]:
        location = doc["location"]
        key = next((loc for loc in locales if location.startswith(f"{loc}/")), "")
        if key:
            doc = {**doc, "location": location[len(key) + 1 :]}
        out[key]["docs"].append(doc)
    return out


def on_post_page(output: str, page: Any, config: Any) -> str:
    locale = page_locale(page)
    if locale and locale in other_locales(config):
        return point_base_at_locale(output, locale)
    return output


@event_priority(-200)  # after static-i18n (-100) has written the combined index
def on_post_build(config: Any) -> None:
    i18n = config.plugins.get("i18n")
    if i18n is None or getattr(i18n, "building", False):
        return  # an inner per-language build: the combined index comes later
    site = Path(config.site_dir)
    combined = site / INDEX
    if not combined.is_file():
        return
    index = json.loads(combined.read_text(encoding="utf-8"))
    for key, part in split_index(index, other_locales(config)).items():
        target = site / key / INDEX
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(part, ensure_ascii=False, separators=(",", ":")), "utf-8")
