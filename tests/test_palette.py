"""Cells' charts and the figures share one palette: chart.js copies gradbook.plot.PALETTE."""

import re
from pathlib import Path

from gradbook import plot

CHART_JS = Path(__file__).resolve().parent.parent / "web" / "src" / "chart.js"


def test_chart_js_palette_is_plot_palette_in_the_same_order() -> None:
    block = re.search(r"const PALETTE = \[(.*?)\];", CHART_JS.read_text(), re.S)
    assert block, "chart.js no longer defines const PALETTE = [...]"
    colours = re.findall(r'"(#[0-9A-Fa-f]{6})"', block.group(1))
    assert [c.upper() for c in colours] == [c.upper() for c in plot.PALETTE]
