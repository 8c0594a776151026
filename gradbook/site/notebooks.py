"""MkDocs hook: each chapter module ``chapters_src/NN_slug.py`` becomes a source page.

The page shows the module as a notebook (markdown cells as prose, code cells highlighted, not
executed) at ``source/NN_slug/`` in every language, with links to download it as ``.ipynb`` and
``.py``.

Why a hook and not the mkdocs-jupyter plugin alone: mkdocs-static-i18n rebuilds the file list of
each language in its own ``on_files`` (priority -100, after mkdocs-jupyter's) and recreates every
file as a plain ``File``, so the notebook wrapper is lost and the module is copied as raw ``.py``
(mkdocs-static-i18n issue #198). Here the pages are added *after* i18n, for the language being
built, and converted with mkdocs-jupyter's own nbconvert template. Our template drops the MathJax and
mermaid ``<script>`` tags that nbconvert points at a CDN; math is rendered by the site's KaTeX. The
jupyter CSS is served once as a stylesheet instead of inline on every page, and converted modules
are cached in memory (the second language) and under ``build/cache/`` (the next build).
"""

from __future__ import annotations

import hashlib
import html
import json
import posixpath
import re
from functools import cache
from importlib.metadata import version
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


HEADING = re.compile(r'<h([1-6]) id="([^"]+)">(.*?)<a class="anchor-link"', re.S)
STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
NOTEBOOK_CSS = "assets/stylesheets/notebook.css"  # jupyter styles, once for all source pages
CACHE_DIR = "build/cache/source-pages"  # converted modules, relative to the repo root


@cache
def _exporter() -> HTMLExporter:
    """One nbconvert exporter for the whole build: compiling its templates is the slow part."""
    return HTMLExporter(
        config=nbconvert2.get_nbconvert_app().config,
        template_file="gb_notebook.html.j2",
        extra_template_paths=[str(TEMPLATES), settings.templates_dir],
        preprocessors=[SubCell],
        filters={"highlight_code": nbconvert2.mk_custom_highlight_code()},
    )


def toc_tokens(body: str) -> list[dict]:
    """MkDocs TOC tokens (nested by level) from the headings nbconvert rendered."""
    root: list[dict] = []
    stack: list[dict] = []
    for level, anchor, inner in HEADING.findall(body):
        token = {
            "level": int(level),
            "id": anchor,
            "name": html.unescape(re.sub(r"<[^>]+>", "", inner)).strip(),
            "children": [],
        }
        while stack and stack[-1]["level"] >= token["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(token)
        stack.append(token)
    return root


def _convert(path: Path) -> dict[str, Any]:
    """Body HTML, its CSS, TOC tokens and first H1 of a jupytext module.

    The ~600 kB of jupyter CSS that nbconvert inlines is cut out and served once as NOTEBOOK_CSS.
    """
    nbconvert2.cell_id = 0  # ids of the copy-to-clipboard buttons restart on each page
    body, _ = _exporter().from_notebook_node(
        jupytext.read(path), resources={"mkdocs": {"include_requirejs": False}}
    )
    css = "\n".join(STYLE.findall(body))
    body = STYLE.sub("", body)
    tokens = toc_tokens(body)
    title = next((t["name"] for t in tokens if t["level"] == 1), None)
    return {"body": body, "css": css, "toc": tokens, "title": title}


def _cache_key(path: Path) -> str:
    """Changes with the module, our template and the converter versions."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update((TEMPLATES / "gb_notebook.html.j2").read_bytes())
    for dist in ("nbconvert", "mkdocs-jupyter", "jupytext", "pygments"):
        digest.update(f"{dist}={version(dist)}".encode())
    return digest.hexdigest()[:32]


@cache
def _converted(path: Path, key: str, cache_dir: Path) -> dict[str, Any]:
    """Converted module, from memory (the other language build), disk (earlier builds) or nbconvert.

    Converting takes about a second per module, and `mkdocs serve` rebuilds every page on each
    change; the disk cache under build/ keeps that fast.
    """
    cached = cache_dir / f"{path.stem}-{key}.json"
    if cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    result = _convert(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob(f"{path.stem}-*.json"):
        stale.unlink()
    cached.write_text(json.dumps(result), encoding="utf-8")
    return result


def notebook_html(path: Path, root: Path) -> dict[str, Any]:
    """The converted module: keys body, css, toc (MkDocs TOC tokens) and title."""
    return _converted(path, _cache_key(path), root / CACHE_DIR)


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
    modules = chapter_modules(root)
    for module in modules:
        alternates = {code: _page_file(config, module, code, default) for code in languages}
        page = alternates[lang]
        # What static-i18n's page context and language switcher read from a page's file.
        page.alternates = alternates
        page.locale = lang
        page.localization = lang
        page.locale_alternate_of = lang
        page.gb_module = module
        files.append(page)
        if lang == default:  # the downloads and the stylesheet live once, at the site root
            notebook = jupytext.writes(jupytext.read(module), fmt="ipynb")
            files.append(
                File.generated(config, f"{SOURCE_DIR}/{module.stem}.ipynb", content=notebook)
            )
            files.append(
                File.generated(config, f"{SOURCE_DIR}/{module.name}", abs_src_path=str(module))
            )
    if modules and lang == default:
        sheets = dict.fromkeys(notebook_html(m, root)["css"] for m in modules)  # same for all
        files.append(File.generated(config, NOTEBOOK_CSS, content="\n".join(sheets)))
    return files


def on_pre_page(page: Any, config: Any, files: Files) -> Any:
    module: Path | None = getattr(page.file, "gb_module", None)
    if module is None:
        return page
    lang = current_language(config)
    root = repo_root(config)

    def render(self: Any, config: Any, files: Files) -> None:
        nb = notebook_html(module, root)
        css = posixpath.relpath(NOTEBOOK_CSS, self.url.rstrip("/") or ".")
        self.content = (
            f'<link rel="stylesheet" href="{css}">'
            + _links_html(module, self.url, lang)
            + nb["body"]
        )
        self.toc = get_toc(nb["toc"])
        self._title_from_render = nb["title"] or module.name

    page.render = MethodType(render, page)
    return page
