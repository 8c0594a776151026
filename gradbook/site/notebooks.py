"""MkDocs hook: each chapter module ``chapters_src/NN_slug.py`` becomes a source page.

The page shows the module as a notebook (markdown cells as prose, code cells highlighted, not
executed) at ``source/NN_slug/`` in every language, with links to download it as ``.ipynb`` and
``.py``.

Why a hook and not the mkdocs-jupyter plugin alone: mkdocs-static-i18n rebuilds the file list of
each language in its own ``on_files`` (priority -100, after mkdocs-jupyter's) and recreates every
file as a plain ``File``, so the notebook wrapper is lost and the module is copied as raw ``.py``
(mkdocs-static-i18n issue #198). Here the pages are added *after* i18n, for the language being
built, and converted with mkdocs-jupyter's own nbconvert template. Our template drops the MathJax and
mermaid ``<script>`` tags that nbconvert points at a CDN; math is rendered by the site's KaTeX.
"""

from __future__ import annotations

import html
import posixpath
from functools import cache
from pathlib import Path
from types import MethodType
from typing import Any

import jupytext
import mkdocs_jupyter.convert  # noqa: F401  (patches nbconvert's heading ids to match the TOC)
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.toc import get_toc
from mkdocs_jupyter import nbconvert2
from mkdocs_jupyter.config import settings
from mkdocs_jupyter.plugin import _get_nb_toc_tokens
from mkdocs_jupyter.preprocessors import SubCell
from nbconvert.exporters.html import HTMLExporter

from gradbook.site.paths import current_language, i18n_plugin, repo_root

SOURCE_DIR = "source"  # site folder (and virtual docs folder) of the source pages
TEMPLATES = Path(__file__).parent / "templates"
LABELS = {
    "en": {
        "intro": "The module that computes every number and figure of this chapter, shown as a "
        "notebook. Run it with <code>python chapters_src/{name}</code> or <code>make figures</code>.",
        "ipynb": "Download as a notebook (.ipynb)",
        "py": "Download the module (.py)",
    },
    "zh": {
        "intro": "本章所有数字与图表都由这个模块计算得出，这里以 Notebook 的形式展示。"
        "可用 <code>python chapters_src/{name}</code> 或 <code>make figures</code> 运行。",
        "ipynb": "下载为 Notebook（.ipynb）",
        "py": "下载 Python 模块（.py）",
    },
}


def chapter_modules(root: Path) -> list[Path]:
    """The chapter modules, in chapter order: ``chapters_src/NN_slug.py``."""
    return sorted((root / "chapters_src").glob("[0-9][0-9]_*.py"))


def source_page_uri(module: Path) -> str:
    """The virtual docs path of a module's source page, as written in the nav."""
    return f"{SOURCE_DIR}/{module.stem}.md"


@cache
def _convert(path: str, mtime: float) -> tuple[str, list[dict], str | None]:
    """Notebook HTML, TOC tokens and first H1 of a jupytext module (cached per file version).

    Both language builds show the same module, so it is converted once per `mkdocs build`.
    """
    nbconvert2.cell_id = 0  # ids of the copy-to-clipboard buttons restart on each page
    exporter = HTMLExporter(
        config=nbconvert2.get_nbconvert_app().config,
        template_file="gb_notebook.html.j2",
        extra_template_paths=[str(TEMPLATES), settings.templates_dir],
        preprocessors=[SubCell],
        filters={"highlight_code": nbconvert2.mk_custom_highlight_code()},
    )
    body, _ = exporter.from_notebook_node(
        jupytext.read(path), resources={"mkdocs": {"include_requirejs": False}}
    )
    toc_tokens, title = _get_nb_toc_tokens(path, 3)
    return body, toc_tokens, title


def notebook_html(path: Path) -> tuple[str, list[dict], str | None]:
    return _convert(str(path), path.stat().st_mtime)


def _links_html(module: Path, page_url: str, lang: str) -> str:
    labels = LABELS.get(lang, LABELS["en"])
    base = posixpath.relpath(SOURCE_DIR, page_url.rstrip("/") or ".")
    return (
        '<div class="gb-source-links">'
        f"<p>{labels['intro'].format(name=html.escape(module.name))}</p><p>"
        f'<a class="md-button" href="{base}/{module.stem}.ipynb" download>{labels["ipynb"]}</a> '
        f'<a class="md-button" href="{base}/{module.name}" download>{labels["py"]}</a>'
        "</p></div>"
    )


def _page_file(config: Any, module: Path, lang: str, default: str) -> File:
    """The virtual page of module for one language: ``source/NN_slug/`` or ``zh/source/NN_slug/``."""
    f = File.generated(config, source_page_uri(module), content=f"# {module.name}\n")
    if lang != default:
        f.dest_uri = f"{lang}/{f.dest_uri}"
    return f


@event_priority(-200)  # after static-i18n (-100), which would turn these pages back into assets
def on_files(files: Files, config: Any) -> Files:
    root = repo_root(config)
    plugin = i18n_plugin(config)
    lang = current_language(config)
    default = plugin.default_language if plugin else lang
    languages = plugin.build_languages if plugin else [lang]
    for module in chapter_modules(root):
        alternates = {code: _page_file(config, module, code, default) for code in languages}
        page = alternates[lang]
        # What static-i18n's page context and language switcher read from a page's file.
        page.alternates = alternates
        page.locale = lang
        page.localization = lang
        page.locale_alternate_of = lang
        page.gb_module = module
        files.append(page)
        if lang == default:  # the downloads live once, under /source/
            notebook = jupytext.writes(jupytext.read(module), fmt="ipynb")
            files.append(
                File.generated(config, f"{SOURCE_DIR}/{module.stem}.ipynb", content=notebook)
            )
            files.append(
                File.generated(config, f"{SOURCE_DIR}/{module.name}", abs_src_path=str(module))
            )
    return files


def on_pre_page(page: Any, config: Any, files: Files) -> Any:
    module: Path | None = getattr(page.file, "gb_module", None)
    if module is None:
        return page
    lang = current_language(config)

    def render(self: Any, config: Any, files: Files) -> None:
        body, toc_tokens, title = notebook_html(module)
        self.content = _links_html(module, self.url, lang) + body
        self.toc = get_toc(toc_tokens)
        self._title_from_render = title or module.name

    page.render = MethodType(render, page)
    return page
