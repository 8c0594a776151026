"""The book's MkDocs plugin: one language per build, each transform a plain function.

Each language is its own MkDocs project (mkdocs.yml for English at ``/``, mkdocs.zh.yml for
Chinese at ``/zh/``, sharing one base through INHERIT). This plugin adds what the book needs to a
single-language build, in this order:

1. config: expand the nav's ``*`` patterns; add the shared assets (KaTeX, the cell front end,
   Pyodide, the site's script and stylesheet) to extra_css/extra_javascript.
2. files: this language's figures (minified, figures.py), their data (CSV) and each chapter's
   provenance; the shared assets, where this build carries them.
3. page markdown: figures of the page's language -> numbers from results.json -> (zh) CJK lines.
   Once every page is read (env): the pages' checked exercises, for the home page's progress.
4. page content (source pages): the notebook CSS goes to one shared stylesheet; CDN loaders go;
   the code cells stay out of the search index (search.py). Page output: the math typeset by
   KaTeX at build time (math.py), after search indexed its TeX; the script that fetches the
   search index only when the reader goes to search (search.py).
5. post build: the notebook and module downloads beside each source page; they name the gradbook
   wheel (``make web`` -> build/web/dist/, in the site at assets/web/dist/) that runs them. The
   search index rewritten as UTF-8 (search.py). Then the offline book: this language's precache
   manifest and the site's service worker (offline.py).

The shared assets (``make web`` -> build/web/, 13 MB with Pyodide) are in the site once: the
English build copies them to ``assets/web/`` and the Chinese build links to ``../assets/web/``
(``shared_assets: link``). ``mkdocs serve`` of either project copies them, so a preview is whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.config_options import ExtraScriptValue
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from gradbook import results
from gradbook.pages import exercises, nav, offline, prune, search, source
from gradbook.pages.cjk import join_cjk_lines
from gradbook.pages.figures import (
    MissingFigure,
    data_files,
    figure_files,
    provenance_files,
    rewrite_figures,
)
from gradbook.pages.math import Katex, KatexError, typeset
from gradbook.pages.numbers import BadNumber, render_numbers

WEB_SITE_DIR = "assets/web"  # where build/web/ lands in the site
NOTEBOOK_CSS = "assets/web/notebook.css"  # the notebook styles of every source page, once
WEB_REQUIRED = (
    "cells/cells.js",
    "cells/worker.js",
    "pyodide/pyodide.mjs",
    "katex/katex.min.js",
    "site/sw.js",
    search.ON_DEMAND,
)
WHEELS = "dist/gradbook-*.whl"  # web/pack_gradbook.py: the package a downloaded notebook needs
STYLESHEETS = ("katex/katex.min.css", "cells/cells.css", "site/extra.css")
SCRIPTS: tuple[tuple[str, str], ...] = (  # KaTeX's script: math.js loads it where still needed
    ("site/math.js", ""),
    ("site/offline.js", ""),
    ("cells/cells.js", "module"),
)


class GradbookConfig(base.Config):
    figures_dir = c.Dir(
        exists=True, default="figures"
    )  # figures/<slug>/<name>.<lang>.svg, results.json
    web_dir = c.Type(
        str, default="build/web"
    )  # `make web` output: cells, Pyodide, KaTeX, site js/css
    svg_cache = c.Type(
        str, default="build/svg"
    )  # `make web` output: the figures minified by svgo, named by content (figures.py)
    shared_assets = c.Choice(("copy", "link"), default="copy")  # link: use the English build's copy
    katex_dir = c.Type(
        str, default="web/node_modules/katex"
    )  # the KaTeX make web copies into build/web: typesets the math at build time (math.py)


class GradbookPlugin(BasePlugin[GradbookConfig]):
    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        self.serving = command == "serve"  # a preview has no English build next to it

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.lang = str(config.theme["language"])
        self.web_dir = Path(config.config_file_path).parent / self.config.web_dir
        self.copy_assets = self.config.shared_assets == "copy" or getattr(self, "serving", False)
        missing = [name for name in WEB_REQUIRED if not (self.web_dir / name).is_file()]
        if missing:
            raise PluginError(f"{self.web_dir} lacks {', '.join(missing)}: run `make web`")
        wheels = sorted(self.web_dir.glob(WHEELS))
        if len(wheels) != 1:
            raise PluginError(f"{self.web_dir} has {len(wheels)} {WHEELS}, needs 1: run `make web`")
        prefix = "" if self.copy_assets else "../"
        self.assets_url = f"{prefix}{WEB_SITE_DIR}"
        self.wheel = wheels[0].name
        wheel_uri = f"{self.assets_url}/dist/{self.wheel}"
        config.extra["gradbook_wheel"] = wheel_uri  # the source pages' download button
        self.wheel_url = urljoin(config.site_url, wheel_uri) if config.site_url else None
        self.search_script = search.load_on_demand(
            (self.web_dir / search.ON_DEMAND).read_text(encoding="utf-8")
        )
        self.katex = Katex(Path(config.config_file_path).parent / self.config.katex_dir)
        self.torch = source.torch_requirement(
            Path(config.config_file_path).parent / "pyproject.toml"
        )
        config.extra_css[:0] = [f"{self.assets_url}/{name}" for name in STYLESHEETS]
        config.extra_javascript[:0] = [_script(f"{self.assets_url}/{n}", t) for n, t in SCRIPTS]
        if config.nav:
            config.nav = nav.expand(config.nav, nav.known_pages(Path(config.docs_dir)))
        config.watch.extend([self.config.figures_dir, str(self.web_dir)])
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        self.results: dict[str, Any] = {}
        self.notebook_css = ""

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        figures_dir = Path(self.config.figures_dir)
        svg_cache = Path(config.config_file_path).parent / self.config.svg_cache
        for uri, path in figure_files(figures_dir, self.lang, svg_cache).items():
            files.append(File.generated(config, uri, abs_src_path=str(path)))
        for uri, data in data_files(figures_dir, self.lang).items():
            if isinstance(data, bytes):  # a big CSV, gzipped (figures.py)
                files.append(File.generated(config, uri, content=data))
            else:
                files.append(File.generated(config, uri, abs_src_path=str(data)))
        for uri, text in provenance_files(figures_dir).items():
            files.append(File.generated(config, uri, content=text))
        if self.copy_assets:
            for path in sorted(p for p in self.web_dir.rglob("*") if p.is_file()):
                uri = f"{WEB_SITE_DIR}/{path.relative_to(self.web_dir).as_posix()}"
                files.append(File.generated(config, uri, abs_src_path=str(path)))
        return files

    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        where = page.file.src_uri
        try:
            markdown = rewrite_figures(
                markdown, src_uri=where, lang=self.lang, figures_dir=Path(self.config.figures_dir)
            )
            markdown = render_numbers(markdown, src_uri=where, results=self._results)
        except (MissingFigure, BadNumber) as err:
            raise PluginError(str(err)) from None
        return join_cjk_lines(markdown) if self.lang == "zh" else markdown

    def on_env(self, env: Any, *, config: MkDocsConfig, files: Files) -> Any:
        """Every page is read: list each page's checked exercises for the home page's progress."""
        pages = [
            (f.page.title or f.src_uri, f.url, f.page.markdown or "")
            for f in files.documentation_pages()
            if f.page is not None
        ]
        out = Path(config.site_dir) / self.assets_url / f"exercises-{self.lang}.json"
        results.atomic_write_text(out, exercises.manifest(pages))
        return env

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        if not _is_source_page(page):
            return html
        depth = page.url.count("/")  # source/NN_slug/ -> 2
        html, css = source.hoist_styles(html, "../" * depth + f"{self.assets_url}/notebook.css")
        html = source.drop_foreign_scripts(html)
        html = source.label_code_regions(html, self.lang)
        html = search.exclude_code_cells(html)  # the chapters and the modules' prose stay indexed
        self.notebook_css = self.notebook_css or css
        return html

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        """The math as KaTeX's markup (math.py), once search has indexed the page's TeX; the
        search index fetched only when the reader goes to search (search.py)."""
        output = search.hold_index_request(output, self.search_script)
        try:
            return typeset(output, self.katex)
        except KatexError as err:
            raise PluginError(f"{page.file.src_uri}: {err}") from None

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self.katex.close()
        site = Path(config.site_dir)
        for module in sorted((Path(config.docs_dir) / nav.SOURCE_DIR).glob("[0-9][0-9]_*.py")):
            files = source.downloads(
                module, self.lang, wheel=self.wheel, wheel_url=self.wheel_url, torch=self.torch
            )
            for name, text in files.items():
                results.atomic_write_text(site / nav.SOURCE_DIR / name, text)
        if self.copy_assets and self.notebook_css:
            results.atomic_write_text(site / NOTEBOOK_CSS, self.notebook_css)
        prune.theme_assets(site)  # unused lunr languages, source maps: before offline.json
        search.rewrite_utf8(site)  # after Material's search plugin wrote it, before offline.json
        if not getattr(self, "serving", False):  # a preview has no worker: its pages change
            alternates = config.extra.get("alternate", [])
            offline.write(site, self.lang, shared=site / self.assets_url, alternates=alternates)

    def on_build_error(self, *, error: Exception) -> None:
        if hasattr(self, "katex"):
            self.katex.close()

    def _results(self, slug: str) -> Any:
        if slug not in self.results:
            self.results[slug] = results.load(slug, Path(self.config.figures_dir).parent)
        return self.results[slug]


def _script(path: str, kind: str) -> ExtraScriptValue:
    script = ExtraScriptValue(path)
    script.type = kind
    return script


def _is_source_page(page: Page) -> bool:
    uri = page.file.src_uri
    return uri.startswith(f"{nav.SOURCE_DIR}/") and uri.endswith(".py")
