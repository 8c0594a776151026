"""MkDocs hook: teach jieba the book's terms, so Chinese search finds them as words.

mkdocs-material's search plugin segments Chinese text with jieba at build time. Left alone, jieba
cuts 梯度消失 ("vanishing gradient") into 梯度 + 消失, and a search for the term as a whole finds
nothing. The glossary's terms live in ``jieba_terms.txt`` (jieba's user-dictionary format:
word, frequency, part of speech). Loaded here rather than through the plugin's ``jieba_dict_user``
option because that option is a path relative to the working directory, not to mkdocs.yml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TERMS = Path(__file__).with_name("jieba_terms.txt")
_loaded = False


def load_terms() -> None:
    """Add the book's terms to jieba's dictionary (once per process)."""
    global _loaded
    if _loaded:
        return
    import jieba

    jieba.setLogLevel(30)  # jieba prints its dictionary loading at INFO
    jieba.load_userdict(str(TERMS))
    _loaded = True


def on_config(config: Any) -> None:
    load_terms()
