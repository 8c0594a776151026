"""MkDocs hook: serve KaTeX from the site itself, so math needs no CDN.

Pages write math as ``$...$`` and ``$$...$$`` (pymdownx.arithmatex, generic mode); the browser
typesets it with KaTeX (``docs/assets/javascripts/math.js``). KaTeX comes from npm, pinned in
``gradbook/site/vendor/package.json`` and installed by ``make setup``; this hook copies its
script, stylesheet and fonts to ``assets/katex/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files

from gradbook.site.files import add_tree

KATEX_DIST = Path(__file__).parent / "vendor" / "node_modules" / "katex" / "dist"
SITE_DIR = "assets/katex"
NEEDED = ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js")


def on_files(files: Files, config: Any) -> Files:
    missing = [name for name in NEEDED if not (KATEX_DIST / name).is_file()]
    if missing:
        raise PluginError(
            f"KaTeX is not installed ({', '.join(missing)} missing in {KATEX_DIST}): run `make setup`"
        )
    for pattern in (*NEEDED, "fonts/*"):
        add_tree(files, config, KATEX_DIST, pattern, SITE_DIR)
    return files
