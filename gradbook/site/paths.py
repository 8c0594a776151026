"""Where the book's inputs live, seen from a MkDocs config, and which language a page is in."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def repo_root(config: Any) -> Path:
    """The directory that holds mkdocs.yml (and chapters_src/, figures/, build/)."""
    return Path(config.config_file_path).resolve().parent


def i18n_plugin(config: Any) -> Any | None:
    """The mkdocs-static-i18n plugin instance, or None when the site is built without it."""
    return config.plugins.get("i18n")


def current_language(config: Any) -> str:
    """The language being built right now (static-i18n builds one language after the other)."""
    plugin = i18n_plugin(config)
    if plugin is not None and plugin.current_language:
        return plugin.current_language
    return str(config.theme.get("language") or "en")


def page_language(page: Any, config: Any) -> str:
    """The language a page is written in: its file suffix (``.zh.md``), else the build language.

    An English page shown in the Chinese build as a fallback keeps English figures.
    """
    return getattr(page.file, "locale", None) or current_language(config)
