"""MkDocs hook: ``![alt](fig:slug/name)`` links the figure of the page's language.

The chapters write every figure twice, ``figures/slug/name.en.svg`` and ``name.zh.svg``. Pages name a
figure once; this hook picks the file for the page's language, brings ``figures/`` into the site and
fails the build, naming the page, when a figure is missing (a renamed figure must not ship a broken
image).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files

from gradbook.site.files import add_tree
from gradbook.site.paths import page_language, repo_root
from gradbook.site.prose import map_prose

FIG_LINK = re.compile(
    r"!\[(?P<alt>[^\]]*)\]\(fig:(?P<slug>[\w-]+)/(?P<name>[\w.-]+?)(?P<title>\s+\"[^\"]*\")?\)"
)
SITE_DIR = "figures"  # where the figures land in the site, and their src_uri prefix


def figure_path(root: Path, slug: str, name: str, lang: str) -> Path:
    """The SVG a page in lang shows for fig:slug/name."""
    return root / SITE_DIR / slug / f"{name}.{lang}.svg"


def rewrite_figures(markdown: str, *, src_uri: str, lang: str, root: Path) -> str:
    """Replace every fig: link in the prose with a relative link to the language's SVG.

    The link is relative to the page's source path so MkDocs resolves and validates it like any other
    image; a missing figure raises PluginError naming the page.
    """

    def replace(m: re.Match[str]) -> str:
        slug, name = m["slug"], m["name"]
        path = figure_path(root, slug, name, lang)
        if not path.is_file():
            raise PluginError(
                f"{src_uri}: figure 'fig:{slug}/{name}' not found: "
                f"{path.relative_to(root)} does not exist (run `make figures`?)"
            )
        target = f"{SITE_DIR}/{slug}/{path.name}"
        rel = posixpath.relpath(target, posixpath.dirname(src_uri) or ".")
        return f"![{m['alt']}]({rel}{m['title'] or ''})"

    return map_prose(markdown, lambda text: FIG_LINK.sub(replace, text))


def on_files(files: Files, config: Any) -> Files:
    """Add every committed figure (``figures/slug/*.svg``) to the site under ``figures/``."""
    add_tree(files, config, repo_root(config) / SITE_DIR, "*/*.svg", SITE_DIR)
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    return rewrite_figures(
        markdown,
        src_uri=page.file.src_uri,
        lang=page_language(page, config),
        root=repo_root(config),
    )
