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

A CSV over ``GZIP_OVER`` bytes goes into the site gzipped, as ``name.<lang>.csv.gz``, and its link
says so ("Data (CSV, gzip)"): the few big ones (07_clipping's cliff, 4.7 MB a language) were most
of the site's size, gzip takes a CSV of numbers to a fifth of it or less, and the reader loses
nothing, since pandas ``read_csv`` and R ``read.csv`` read a ``.gz`` as it is. The smaller ones stay
plain, to open in a browser or a spreadsheet. The committed ``figures/`` keep plain CSVs; the build
compresses each big one once, with no name and mtime 0 in the header, so two builds give the same
bytes.

The SVGs go into the site minified: ``make web`` has svgo write each committed figure, named by
the SHA-256 of its bytes, into a cache (web/minify_figures.mjs), and `figure_files` takes that copy
where it exists (37% fewer bytes, drawn the same). A figure changed since, as in a preview right
after ``make figures``, has no copy yet and ships as committed: never stale, at worst larger.
"""

from __future__ import annotations

import gzip
import hashlib
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
GZIP_LINKS = {"en": "Data (CSV, gzip)", "zh": "数据（CSV，gzip）"}  # a gzipped CSV's data link
# Bytes: a CSV larger than this ships gzipped. The committed ones fall either side of a gap (92 kB
# to 112 kB); the nine above it per language are 90% of the CSVs' bytes.
GZIP_OVER = 100_000
LINKS_CLASS = "gb-figure-links"


class MissingFigure(LookupError):
    """A page names a figure that no chapter wrote."""


def minified(svg: Path, cache_dir: Path | None) -> Path:
    """svgo's copy of a committed figure if `make web` made one for these bytes, else the figure."""
    if cache_dir is None:
        return svg
    copy = cache_dir / f"{hashlib.sha256(svg.read_bytes()).hexdigest()}.svg"
    return copy if copy.is_file() else svg


def figure_files(figures_dir: Path, lang: str, cache_dir: Path | None = None) -> dict[str, Path]:
    """Every committed figure of lang, by its site path (``figures/slug/name.<lang>.svg``).

    Each maps to the file the site ships: its minified copy in cache_dir, where there is one.
    """
    return {
        f"{SITE_DIR}/{p.parent.name}/{p.name}": minified(p, cache_dir)
        for p in sorted(figures_dir.glob(f"*/*.{lang}.svg"))
    }


def is_gzipped(csv: Path) -> bool:
    """Whether the site ships this committed CSV gzipped (the one rule the files and links share)."""
    return csv.stat().st_size > GZIP_OVER


def site_name(csv: Path) -> str:
    """The CSV's file name in the site: ``name.<lang>.csv``, or ``name.<lang>.csv.gz`` if big."""
    return f"{csv.name}.gz" if is_gzipped(csv) else csv.name


def gzip_bytes(csv: Path) -> bytes:
    """The CSV gzipped, the same bytes every build (mtime 0; gzip.compress writes no file name)."""
    return gzip.compress(csv.read_bytes(), compresslevel=9, mtime=0)


def data_files(figures_dir: Path, lang: str) -> dict[str, Path | bytes]:
    """Every figure's data in lang by its site path: the committed CSV, or a big one's gzip bytes.

    The site path is ``figures/slug/`` + `site_name`; each big CSV is compressed here, once.
    """
    return {
        f"{SITE_DIR}/{p.parent.name}/{site_name(p)}": gzip_bytes(p) if is_gzipped(p) else p
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
    """The figure's "Data (CSV) · Provenance" line (inline HTML whose Markdown links MkDocs checks).

    A big CSV's link goes to its ``.csv.gz`` and says "gzip" (`is_gzipped`, as `data_files`).
    """
    data = figures_dir / slug / f"{name}.{lang}.csv"
    for needed in (data, figures_dir / slug / PROVENANCE):
        if not needed.is_file():
            raise MissingFigure(
                f"{src_uri}: figure 'fig:{slug}/{name}' has no {slug}/{needed.name} "
                "(run `make figures`)"
            )
    csv = posixpath.relpath(f"{SITE_DIR}/{slug}/{site_name(data)}", here)
    prov = posixpath.relpath(f"{SITE_DIR}/{slug}/{PROVENANCE}", here)
    data_label, prov_label = LINKS[lang]
    data_label = GZIP_LINKS[lang] if is_gzipped(data) else data_label
    return f'<span class="{LINKS_CLASS}">[{data_label}]({csv}) · [{prov_label}]({prov})</span>'
