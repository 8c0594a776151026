"""``![alt](fig:slug/name)``: a page names a figure once and shows it in the page's language.

The chapters write every figure twice, ``figures/slug/name.en.svg`` and ``name.zh.svg``. Each
language's site carries its own language's files at ``figures/slug/name.<lang>.svg``; a missing
figure fails the build naming the page (a renamed figure must not ship a broken image).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from gradbook.pages.prose import map_prose

FIG_LINK = re.compile(
    r"!\[(?P<alt>[^\]]*)\]\(fig:(?P<slug>[\w-]+)/(?P<name>[\w.-]+?)(?P<title>\s+\"[^\"]*\")?\)"
    r"(?:\{:?(?P<attrs>[^}]*)\})?"
)
SITE_DIR = "figures"  # where the figures land in each language's site
# attr_list: a figure below the fold is fetched when the reader scrolls near it, not with the page
LAZY = "loading=lazy decoding=async"


class MissingFigure(LookupError):
    """A page names a figure that no chapter wrote."""


def figure_files(figures_dir: Path, lang: str) -> dict[str, Path]:
    """Every committed figure of lang, by its site path (``figures/slug/name.<lang>.svg``)."""
    return {
        f"{SITE_DIR}/{p.parent.name}/{p.name}": p
        for p in sorted(figures_dir.glob(f"*/*.{lang}.svg"))
    }


def rewrite_figures(markdown: str, *, src_uri: str, lang: str, figures_dir: Path) -> str:
    """Replace every fig: link in the prose with a relative link to the language's SVG.

    The link is relative to the page's source path, so MkDocs resolves and validates it like any
    other image.
    """

    def replace(m: re.Match[str]) -> str:
        slug, name = m["slug"], m["name"]
        path = figures_dir / slug / f"{name}.{lang}.svg"
        if not path.is_file():
            raise MissingFigure(
                f"{src_uri}: figure 'fig:{slug}/{name}' not found: "
                f"{figures_dir.name}/{slug}/{path.name} does not exist (run `make figures`?)"
            )
        target = f"{SITE_DIR}/{slug}/{path.name}"
        rel = posixpath.relpath(target, posixpath.dirname(src_uri) or ".")
        attrs = f"{LAZY} {(m['attrs'] or '').strip()}".strip()
        return f"![{m['alt']}]({rel}{m['title'] or ''}){{ {attrs} }}"

    return map_prose(markdown, lambda text: FIG_LINK.sub(replace, text))
