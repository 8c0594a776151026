"""Every chapter, run in quick mode through the real runner, publishes what its toml asks of it.

Generic over chapters_src/ (found as the build tool finds chapters): a new chapter is covered as
soon as its module and toml exist.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from gradbook.build import discover

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = [c.slug for c in discover.discover(REPO)]

pytestmark = pytest.mark.slow


def _lookup(results: dict, path: str | list[str]) -> object:
    node: object = results
    for part in [path] if isinstance(path, str) else path:
        assert isinstance(node, dict) and part in node, f"missing key {path!r}"
        node = node[part]
    return node


def test_the_book_has_chapters() -> None:
    assert len(CHAPTERS) >= 2, CHAPTERS


@pytest.mark.parametrize("slug", CHAPTERS)
def test_quick_run_publishes_required_keys(quick_book: Path, slug: str) -> None:
    config = tomllib.loads((REPO / "chapters_src" / f"{slug}.toml").read_text())
    results = json.loads((quick_book / slug / "results.json").read_text())
    assert results["chapter"] == slug
    assert results["quick"] is True
    assert isinstance(results["seed"], int) and isinstance(results["config"], dict)
    assert config["required_keys"], f"{slug}.toml lists no required_keys"
    for key in config["required_keys"]:
        _lookup(results, key)


@pytest.mark.parametrize("slug", CHAPTERS)
def test_quick_run_draws_every_figure_in_both_languages(quick_book: Path, slug: str) -> None:
    names = {p.name for p in (quick_book / slug).glob("*.svg")}
    assert names, f"{slug} drew no figures"
    stems = {n.rsplit(".", 2)[0] for n in names}
    assert names == {f"{s}.{lang}.svg" for s in stems for lang in ("en", "zh")}
    committed = {p.name for p in (REPO / "figures" / slug).glob("*.svg")}
    assert names == committed, "quick mode must draw the same figures as the full run"
