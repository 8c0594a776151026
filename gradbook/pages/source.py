"""Source pages: a chapter module as a notebook, with ``.ipynb`` and ``.py`` downloads.

mkdocs-jupyter renders ``source/NN_slug.py`` (a jupytext percent-format module linked into each
language's docs folder) as ``source/NN_slug/``. Here is what the book needs beyond that: the
downloads beside the page, which run outside the repository with gradbook installed from its wheel; one shared stylesheet instead of the ~600 kB of notebook CSS that
nbconvert inlines into every page; and no loader that points at a CDN (nbconvert's template
imports mermaid from cdnjs when a notebook holds a diagram; ours hold none, and the book loads
nothing from another host). Math in the notebooks is typeset by the site's own KaTeX.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import jupytext
from nbformat.v4 import new_code_cell, new_markdown_cell

from gradbook.pages import notebook_cells as cells

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
STYLE = re.compile(r"<style[^>]*>(.*?)</style>\s*", re.S)
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>\s*", re.S)
FOREIGN_URL = re.compile(r"""(?:https?:|["'])//[\w.-]+\.[a-z]{2,}/""", re.I)  # also "//host/"
CODE_REGION = re.compile(r'<div class="highlight-ipynb( [^"]*)?">')
CODE_LABEL = {"en": "Code cell {n}", "zh": "第 {n} 个代码单元"}
FUTURE = re.compile(r"^from __future__ import .*$")
START = re.compile(r"\bChapter\.start\(__file__\)")
START_IN_NOTEBOOK = "Chapter.start(run.module, argv=run.argv)"


def downloads(
    module: Path, lang: str = "en", *, wheel: str, torch: str, wheel_url: str | None = None
) -> dict[str, str]:
    """The files a reader downloads for a chapter module: a notebook and its `.py` twin.

    Both run outside the repository once `wheel` is installed: they open with the cells of
    `notebook_cells` (what the chapter needs, settings, its config from the toml beside the
    module), and the chapter's `Chapter.start(__file__)` reads that config instead. `lang` is the
    site's language: the intro's and the figures' shown inline. `torch` is the requirement the
    wheel declares; `wheel_url`, when the site knows its address, makes Colab's install one line.
    """
    slug = module.stem
    nb = jupytext.read(module)
    future = _pop_future_imports(nb.cells, module)
    _point_start_at_run(nb.cells, module)
    toml = module.resolve().with_suffix(".toml").read_text(encoding="utf-8")
    first = [
        new_markdown_cell(cells.intro(slug, lang, wheel=wheel, wheel_url=wheel_url, torch=torch)),
        new_code_cell("".join(future) + cells.settings(slug, lang)),
        new_code_cell(cells.config(slug, lang, toml)),
    ]
    nb.cells[:0] = first
    nb.metadata = {
        "kernelspec": KERNELSPEC,  # so Jupyter opens it without asking for a kernel
        "language_info": {"name": "python"},
        "jupytext": {"text_representation": {"extension": ".py", "format_name": "percent"}},
    }
    for i, cell in enumerate(nb.cells):
        cell.metadata = {}
        cell.id = f"cell-{i}"  # stable ids: the same sources give the same download bytes
    return {
        f"{slug}.ipynb": jupytext.writes(nb, fmt="ipynb"),
        f"{slug}.py": jupytext.writes(nb, fmt="py:percent"),
    }


def torch_requirement(pyproject: Path) -> str:
    """The torch requirement that pyproject.toml declares (`torch>=2.4,<3`)."""
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    found = [d for d in deps if re.match(r"torch\b(?![-_])", d)]
    if len(found) != 1:
        raise ValueError(f"{pyproject}: expected one torch requirement, found {found}")
    return found[0].replace(" ", "")


def _pop_future_imports(cells: list, module: Path) -> list[str]:
    """Take `from __future__` lines out of the chapter's cells: they must open the `.py` twin."""
    found: list[str] = []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines(keepends=True)
        future = [line for line in lines if FUTURE.match(line)]
        if future:
            found += [line if line.endswith("\n") else line + "\n" for line in future]
            cell.source = "".join(line for line in lines if not FUTURE.match(line)).lstrip("\n")
    return [*dict.fromkeys(found)] + (["\n"] if found else [])


def _point_start_at_run(cells: list, module: Path) -> None:
    """`Chapter.start(__file__)` -> the config and arguments `notebook.prepare` gave the run."""
    hits = 0
    for cell in cells:
        if cell.cell_type == "code":
            cell.source, n = START.subn(START_IN_NOTEBOOK, cell.source)
            hits += n
    if hits != 1:
        raise ValueError(
            f"{module.name}: the notebook download needs exactly one `Chapter.start(__file__)`, "
            f"found {hits}"
        )


def hoist_styles(html: str, href: str) -> tuple[str, str]:
    """Move every inline ``<style>`` of a notebook page into one stylesheet linked at ``href``.

    Returns the page, with a single ``<link>`` where the first style was, and the CSS. A page
    with no inline style comes back unchanged with empty CSS.
    """
    blocks = STYLE.findall(html)
    if not blocks:
        return html, ""
    link = f'<link rel="stylesheet" href="{href}">\n'
    first = True

    def replace(_: re.Match[str]) -> str:
        nonlocal first
        out, first = (link if first else ""), False
        return out

    return STYLE.sub(replace, html), "\n".join(blocks)


def drop_foreign_scripts(html: str) -> str:
    """Remove every ``<script>`` whose source or text names a URL on another host."""
    return SCRIPT.sub(lambda m: "" if FOREIGN_URL.search(m[0]) else m[0], html)


def label_code_regions(html: str, lang: str) -> str:
    """Make each notebook code block a named, focusable region (``tabindex="0"``).

    A long line scrolls the block sideways; a keyboard reader can only scroll what takes focus,
    and the label ("Code cell 3", 第 3 个代码单元) says what the focus landed on (WCAG 2.1.1).
    """
    count = 0

    def label(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        name = CODE_LABEL[lang].format(n=count)
        return f'{m[0][:-1]} tabindex="0" role="region" aria-label="{name}">'

    return CODE_REGION.sub(label, html)
