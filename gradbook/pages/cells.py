"""The ```pycell fence: a code block that the page's script turns into a runnable cell.

Registered as a pymdownx.superfences custom fence. The HTML is a plain code block inside a marked
container, so without JavaScript the reader still sees the code; web/src/cells.js finds
``div.pycell`` and replaces it with an editor, buttons and an output area.
"""

from __future__ import annotations

from html import escape
from typing import Any

CSS_CLASS = "pycell"


def fence_format(
    source: str,
    language: str,
    css_class: str,
    options: dict[str, Any],
    md: Any,
    **kwargs: Any,
) -> str:
    """Render one cell; ``source`` is escaped, so printed HTML in the code stays text."""
    code = escape(source.rstrip("\n"), quote=False)
    return (
        f'<div class="{CSS_CLASS}" data-language="python">'
        f'<pre class="pycell-source"><code class="language-python">{code}\n</code></pre>'
        "</div>"
    )
