"""``![alt](fig:slug/name)``: a page names a figure once and shows it in the page's language.

The chapters write every figure twice, ``figures/slug/name.en.svg`` and ``name.zh.svg``. Each
language's site carries its own language's files at ``figures/slug/name.<lang>.svg``; a missing
figure fails the build naming the page (a renamed figure must not ship a broken image).

Under every figure, two small links: its data, ``name.<lang>.csv`` (the plotted series, written by
`gradbook.plot` beside the SVG, labelled in the page's language), and the chapter's provenance,
``figures/slug/provenance.json``: what the chapter wrote (seeds, config, library versions) joined
with what the build recorded in ``figures/manifest.json`` (inputs' hash, commit, date). The site adds
no date or commit of its own: the provenance describes the figure, which a site rebuild does not
change, and the same bytes for the same figures keep site builds reproducible.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

from gradbook.pages.prose import map_prose

FIG_LINK = re.compile(
    r"!\[(?P<alt>[^\]]*)\]\(fig:(?P<slug>[\w-]+)/(?P<name>[\w.-]+?)(?P<title>\s+\"[^\"]*\")?\)"
    r"(?:\{:?(?P<attrs>[^}]*)\})?"
)
SITE_DIR = "figures"  # where the figures land in each language's site
# attr_list: a figure below the fold is fetched when the reader scrolls near it, not with the page
LAZY = "loading=lazy decoding=async"
PROVENANCE = "provenance.json"  # per chapter, beside its figures (gradbook.chapter writes it)
MANIFEST = "manifest.json"  # the build's record (gradbook.build.manifest), with each run's commit
LINKS = {"en": ("Data (CSV)", "Provenance"), "zh": ("数据（CSV）", "来源信息")}
LINKS_CLASS = "gb-figure-links"


class MissingFigure(LookupError):
    """A page names a figure that no chapter wrote."""


def figure_files(figures_dir: Path, lang: str) -> dict[str, Path]:
    """Every committed figure of lang, by its site path (``figures/slug/name.<lang>.svg``)."""
    return {
        f"{SITE_DIR}/{p.parent.name}/{p.name}": p
        for p in sorted(figures_dir.glob(f"*/*.{lang}.svg"))
    }


def data_files(figures_dir: Path, lang: str) -> dict[str, Path]:
    """Every figure's CSV in lang, by its site path (``figures/slug/name.<lang>.csv``)."""
    return {
        f"{SITE_DIR}/{p.parent.name}/{p.name}": p
        for p in sorted(figures_dir.glob(f"*/*.{lang}.csv"))
    }


def provenance(figures_dir: Path, slug: str) -> dict[str, Any]:
    """A chapter's provenance for the reader: its own record with the build's ``run`` added."""
    doc = json.loads((figures_dir / slug / PROVENANCE).read_text(encoding="utf-8"))
    try:
        entry = json.loads((figures_dir / MANIFEST).read_text(encoding="utf-8"))["chapters"][slug]
    except (OSError, ValueError, KeyError):
        entry = {}
    run = entry.get("run", {"commit": "unknown", "date": "unknown"})
    return {**doc, "run": run}


def provenance_files(figures_dir: Path) -> dict[str, str]:
    """The site's ``figures/slug/provenance.json`` of every chapter, as JSON text."""
    return {
        f"{SITE_DIR}/{p.parent.name}/{PROVENANCE}": json.dumps(
            provenance(figures_dir, p.parent.name), indent=2, ensure_ascii=False
        )
        + "\n"
        for p in sorted(figures_dir.glob(f"*/{PROVENANCE}"))
    }


def rewrite_figures(markdown: str, *, src_uri: str, lang: str, figures_dir: Path) -> str:
    """Replace every fig: link in the prose with the language's SVG and its data/provenance links.

    The links are relative to the page's source path, so MkDocs resolves and validates it like any
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
        here = posixpath.dirname(src_uri) or "."
        rel = posixpath.relpath(f"{SITE_DIR}/{slug}/{path.name}", here)
        attrs = f"{LAZY} {(m['attrs'] or '').strip()}".strip()
        image = f"![{m['alt']}]({rel}{m['title'] or ''}){{ {attrs} }}"
        return image + "\n" + _links(figures_dir, slug, name, lang, here, src_uri)

    return map_prose(markdown, lambda text: FIG_LINK.sub(replace, text))


def _links(figures_dir: Path, slug: str, name: str, lang: str, here: str, src_uri: str) -> str:
    """The figure's "Data (CSV) · Provenance" line (inline HTML whose Markdown links MkDocs checks)."""
    for needed in (figures_dir / slug / f"{name}.{lang}.csv", figures_dir / slug / PROVENANCE):
        if not needed.is_file():
            raise MissingFigure(
                f"{src_uri}: figure 'fig:{slug}/{name}' has no {slug}/{needed.name} "
                "(run `make figures`)"
            )
    csv = posixpath.relpath(f"{SITE_DIR}/{slug}/{name}.{lang}.csv", here)
    prov = posixpath.relpath(f"{SITE_DIR}/{slug}/{PROVENANCE}", here)
    data_label, prov_label = LINKS[lang]
    return f'<span class="{LINKS_CLASS}">[{data_label}]({csv}) · [{prov_label}]({prov})</span>'
