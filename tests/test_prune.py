"""The built site keeps only the theme files a language loads (gradbook/pages/prune.py)."""

from __future__ import annotations

import json
from pathlib import Path

from gradbook.pages import prune


def test_the_search_worker_rule() -> None:
    """What Material's search worker imports: nothing for English alone."""
    assert prune.lunr_needed(["en"]) == set()
    assert prune.lunr_needed(["en", "ja"]) == {
        "tinyseg.js", "min/lunr.ja.min.js", "min/lunr.multi.min.js",
        "min/lunr.stemmer.support.min.js",
    }  # fmt: skip
    assert "wordcut.js" in prune.lunr_needed(["th"])


def test_the_built_site_has_no_unused_theme_files(built_site: Path) -> None:
    for root in (built_site, built_site / "zh"):
        assert prune.search_langs(root) == ["en"]  # what both indexes ask the worker for
        assert not (root / prune.LUNR).exists(), root
        assert not [p for top in prune.THEME_DIRS for p in (root / top).rglob("*.map")], root
        assert (root / "assets/javascripts/workers").is_dir()  # the search worker itself stays
        manifest = json.loads((root / "offline.json").read_text(encoding="utf-8"))
        listed = [f["url"] for f in manifest["files"]]
        assert not [u for u in listed if "/lunr/" in u or u.endswith(".map")]
