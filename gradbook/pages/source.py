"""Source pages: a chapter module as a notebook, with ``.ipynb`` and ``.py`` downloads.

mkdocs-jupyter renders ``source/NN_slug.py`` (a jupytext percent-format module linked into each
language's docs folder) as ``source/NN_slug/``. Here is what the book needs beyond that: the
downloads beside the page; one shared stylesheet instead of the ~600 kB of notebook CSS that
nbconvert inlines into every page; and no loader that points at a CDN (nbconvert's template
imports mermaid from cdnjs when a notebook holds a diagram; ours hold none, and the book loads
nothing from another host). Math in the notebooks is typeset by the site's own KaTeX.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
STYLE = re.compile(r"<style[^>]*>(.*?)</style>\s*", re.S)
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>\s*", re.S)
FOREIGN_URL = re.compile(r"""(?:https?:|["'])//[\w.-]+\.[a-z]{2,}/""", re.I)  # also "//host/"


def downloads(module: Path) -> dict[str, str]:
    """The files a reader downloads for a chapter module: the notebook and the module itself."""
    notebook = jupytext.read(module)
    notebook.metadata["kernelspec"] = KERNELSPEC  # so Jupyter opens it without asking for a kernel
    notebook.metadata.setdefault("language_info", {"name": "python"})
    return {
        f"{module.stem}.ipynb": jupytext.writes(notebook, fmt="ipynb"),
        f"{module.stem}.py": module.read_text(encoding="utf-8"),
    }


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
