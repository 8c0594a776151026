"""MkDocs hook: ship the cell front end and self-hosted Pyodide with the site.

``make web`` builds ``build/web/`` (cells bundle, Pyodide core, the gradbook-lite wheel); this hook
copies it to ``<site>/assets/web/`` once per build, so pages load nothing from another host.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

from gradbook.site.paths import repo_root

# Where the bundle lands inside the site; mkdocs.yml's extra_javascript/extra_css point here.
SITE_SUBDIR = "assets/web"
REQUIRED = ("cells/cells.js", "cells/worker.js", "cells/cells.css", "pyodide/pyodide.mjs")


def web_build_dir(config: Any) -> Path:
    return repo_root(config) / "build" / "web"


def check_web_build(source: Path) -> None:
    """Fail with a fix-it message instead of publishing pages whose cells cannot start."""
    missing = [name for name in REQUIRED if not (source / name).is_file()]
    if missing:
        raise PluginError(
            f"the cell front end is missing from {source} ({', '.join(missing)}): run `make web`"
        )


def on_config(config: Any) -> None:
    source = web_build_dir(config)
    check_web_build(source)
    if str(source) not in config.watch:
        config.watch.append(str(source))  # `make web` under `mkdocs serve` reloads the page


def sync_tree(source: Path, target: Path) -> int:
    """Copy files whose size or mtime changed; static-i18n runs this hook once per language."""
    copied = 0
    for path in source.rglob("*"):
        if not path.is_file():
            continue
        dest = target / path.relative_to(source)
        stat = path.stat()
        if dest.is_file():
            have = dest.stat()
            if have.st_size == stat.st_size and int(have.st_mtime) == int(stat.st_mtime):
                continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        copied += 1
    return copied


def on_post_build(config: Any) -> None:
    """Copy build/web into the root of the site (static-i18n builds every language into one tree)."""
    source = web_build_dir(config)
    check_web_build(source)
    sync_tree(source, Path(config.site_dir) / SITE_SUBDIR)
