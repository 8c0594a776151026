"""The search index, lighter: every page downloads it, so its bytes are every page's bytes.

Three changes to what Material's search plugin writes and does, the same search either way:

- The source pages' code cells are left out of the index (Material's ``data-search-exclude``
  attribute on each cell): the code is 60% of the English index and what a reader looks for in
  it (the chapter's ideas, its terms) is in the chapters and in the modules' own prose, which
  stays indexed.
- ``search/search_index.json`` is rewritten as UTF-8 JSON: Material escapes every non-ASCII
  character as ``\\uXXXX`` (6 bytes for a Chinese character and for each zero-width space jieba
  puts between words, 3 bytes in UTF-8). The worker reads it with ``JSON.parse`` of the fetched
  text, which is UTF-8, so the data it indexes is the same.
- Each page carries a short script, inlined before Material's bundle runs, that holds the index's
  request back until the reader shows they mean to search (web/site/search-on-demand.js): a
  chapter page no longer downloads the index for a search box the reader never opens.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from gradbook.results import atomic_write_text

INDEX = "search/search_index.json"  # Material's search plugin writes it here, in each language
# What a source page's code cell holds, as mkdocs-jupyter writes it: the prompt ("In [ ]:"), the
# copy button ("Copied!"), the code and its plain copy for the button. Material's parser drops an excluded element until the
# first closing tag of the same name, so each mark goes on an element that holds none of its own
# tag: the prompt's and the plain copy's <div> (text only), <clipboard-copy>, the code's <pre>.
CODE_PARTS = re.compile(
    r'<div class="(?:jp-InputPrompt|clipboard-copy-txt)\b[^"]*"|<clipboard-copy\b'
    r'|(?<=<div class="highlight-ipynb)[^>]*><pre'  # the code, right after its wrapper
)
# Material strips data-search-* attributes from the page once it has indexed it, if they have a
# value; a valueless one would stay in the page.
EXCLUDE = 'data-search-exclude="code"'


def exclude_code_cells(html: str) -> str:
    """A source page's HTML with each code cell's prompt, copy button and code marked for
    Material's search to skip (the markdown cells between them stay in the index)."""
    return CODE_PARTS.sub(lambda m: f"{m[0]} {EXCLUDE}", html)


ON_DEMAND = "site/search-on-demand.js"  # in `make web`'s build/web/


def load_on_demand(script: str) -> str:
    """web/site/search-on-demand.js as an inline ``<script>`` element for every page's head."""
    if "</script" in script.lower():  # would end the inline element early
        raise ValueError(f"{ON_DEMAND} must not contain '</script'")
    return f"<script>{script.strip()}</script>"


def hold_index_request(html: str, element: str) -> str:
    """The page with `element` (load_on_demand) at the end of its head, before any body script."""
    head, found, rest = html.partition("</head>")
    return f"{head}{element}{found}{rest}" if found else html


def rewrite_utf8(site_dir: Path) -> tuple[int, int] | None:
    """Rewrite this build's search index as compact UTF-8 JSON; return (bytes before, after).

    None when the build has no index (search disabled)."""
    path = site_dir / INDEX
    if not path.is_file():
        return None
    raw = path.read_bytes()
    text = json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":"))
    atomic_write_text(path, text)
    return len(raw), len(text.encode())
