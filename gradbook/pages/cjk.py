"""Join soft line breaks between Chinese characters.

Markdown turns a line break inside a paragraph into a space. Between two Chinese characters that
space is a visible gap ("构建网站时 从这个文件"), so a Chinese page wrapped at 100 columns would read
badly. The break is removed when the characters on both sides are CJK (ideographs or full-width
punctuation); code is left alone.
"""

from __future__ import annotations

import re

from gradbook.pages.prose import map_prose

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
SOFT_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t]*\n[ \t]*(?=[{_CJK}])")


def join_cjk_lines(markdown: str) -> str:
    """Remove line breaks (and the indentation after them) between two CJK characters."""
    return map_prose(markdown, lambda text: SOFT_BREAK.sub("", text))
