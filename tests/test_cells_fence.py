"""The ```pycell fence: escaped code inside a marked container, and its knobs option (parsed, checked
against the code, written as data-knobs), rendered through real Markdown."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import markdown
import pytest

from gradbook.pages.cells import KnobError, assignment, fence_format, fence_validator, parse_knobs


def render(text: str) -> str:
    md = markdown.Markdown(
        extensions=["pymdownx.superfences"],
        extension_configs={
            "pymdownx.superfences": {
                "custom_fences": [{"name": "pycell", "class": "pycell", "format": fence_format}]
            }
        },
    )
    return md.convert(text)


def test_cell_is_a_code_block_in_a_container() -> None:
    html = render('```pycell\nprint("hi")\n```\n')
    assert html.startswith('<div class="pycell" data-language="python">')
    assert (
        '<pre class="pycell-source"><code class="language-python" tabindex="0">print("hi")\n</code></pre>'
        in html
    )


def test_code_is_html_escaped() -> None:
    html = render("```pycell\nprint('<img src=x onerror=alert(1)>' if 1 < 2 & 3 else '')\n```\n")
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "1 &lt; 2 &amp; 3" in html


def test_code_keeps_indentation_and_blank_lines() -> None:
    source = "for i in range(3):\n\n    print(i)\n"
    html = render(f"```pycell\n{source}```\n")
    assert "for i in range(3):\n\n    print(i)\n</code>" in html


def test_two_cells_stay_separate() -> None:
    html = render("```pycell\na = 1\n```\n\ntext\n\n```pycell\nb = 2\n```\n")
    assert html.count('<div class="pycell"') == 2
    assert "<p>text</p>" in html


def test_plain_python_fence_is_not_a_cell() -> None:
    assert "pycell" not in render("```python\nx = 1\n```\n")


# --------------------------------------------------------------------------- knobs


def render_cells(text: str) -> str:
    """Like render, with the validator the site registers (mkdocs.yml)."""
    md = markdown.Markdown(
        extensions=["pymdownx.superfences"],
        extension_configs={
            "pymdownx.superfences": {
                "custom_fences": [
                    {
                        "name": "pycell",
                        "class": "pycell",
                        "format": fence_format,
                        "validator": fence_validator,
                    }
                ]
            }
        },
    )
    return md.convert(text)


def data_knobs(html: str) -> list[dict]:
    match = re.search(r'data-knobs="([^"]*)"', html)
    assert match, html
    return json.loads(unescape(match.group(1)))


def test_knobs_parse_int_float_and_choice() -> None:
    knobs = parse_knobs(
        "depth:int:1..30, lr:float:0.001..0.5/0.001, activation:choice:sigmoid|tanh|relu,"
        " width:int:8..64/8:隐藏层宽度"
    )
    assert knobs == [
        {"name": "depth", "kind": "int", "min": 1, "max": 30, "step": 1},
        {"name": "lr", "kind": "float", "min": 0.001, "max": 0.5, "step": 0.001, "decimals": 3},
        {"name": "activation", "kind": "choice", "values": ["sigmoid", "tanh", "relu"]},
        {"name": "width", "kind": "int", "min": 8, "max": 64, "step": 8, "label": "隐藏层宽度"},
    ]
    assert parse_knobs("x:float:-1..1/0.5")[0]["decimals"] == 1
    assert parse_knobs("x:float:0..10/2")[0]["decimals"] == 0
    assert parse_knobs("lr:choice:0.01|0.1|1e-3")[0]["values"] == ["0.01", "0.1", "1e-3"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("depth", "name:kind:domain"),
        ("depth:int", "name:kind:domain"),
        ("depth:int:1..30:a:b", "name:kind:domain"),
        ("depth:slider:1..30", "unknown kind 'slider'"),
        ("1depth:int:1..30", "not a Python variable name"),
        ("class:int:1..30", "not a Python variable name"),
        ("depth:int:1-30", "LO..HI"),
        ("depth:int:30..1", "LO must be below HI"),
        ("depth:int:1..1", "LO must be below HI"),
        ("depth:int:1.5..30", "not an integer"),
        ("depth:int:1..30/0", "step must be positive"),
        ("depth:int:1..30/40", "step must be positive"),
        ("lr:float:0..1", "needs a step"),
        ("lr:float:0..x/0.1", "'x' is not a number"),
        ("lr:float:0..inf/0.1", "not a finite number"),
        ("act:choice:relu", "two or more different values"),
        ("act:choice:relu|relu", "two or more different values"),
        ("act:choice:relu|'tanh'", "may only hold"),
        ("act:choice:relu|", "may only hold"),
        ("depth:int:1..30,", "empty knob"),
        ("depth:int:1..3, depth:int:1..4", "has two knobs"),
        ("depth:int:1..30:", "empty label"),
    ],
)
def test_malformed_knobs_fail_with_a_reason(spec: str, message: str) -> None:
    with pytest.raises(KnobError, match=re.escape(message)):
        parse_knobs(spec)


def test_knob_cell_renders_its_knobs_as_json_data() -> None:
    html = render_cells(
        '```pycell knobs="depth:int:1..30:深度, activation:choice:sigmoid|relu"\n'
        'activation = "sigmoid"  # or "relu"\ndepth = 10\nprint(depth)\n```\n'
    )
    assert html.startswith('<div class="pycell" data-language="python" data-knobs="')
    assert data_knobs(html) == [
        {"name": "depth", "kind": "int", "min": 1, "max": 30, "step": 1, "label": "深度"},
        {"name": "activation", "kind": "choice", "values": ["sigmoid", "relu"]},
    ]
    assert 'activation = "sigmoid"  # or "relu"\ndepth = 10\nprint(depth)\n</code>' in html


def test_a_cell_without_knobs_has_no_knob_data() -> None:
    assert "data-knobs" not in render_cells("```pycell\nx = 1\n```\n")


def test_a_knob_label_cannot_break_out_of_the_attribute() -> None:
    html = render_cells('```pycell knobs="x:int:1..3:<b onclick=alert(1)>"\nx = 1\n```\n')
    assert "<b" not in html
    assert data_knobs(html)[0]["label"] == "<b onclick=alert(1)>"


@pytest.mark.parametrize(
    ("knobs", "code", "message"),
    [
        ("depth:int:1..30", "width = 3\n", "found 0"),
        ("depth:int:1..30", "depth, width = 3, 4\n", "found 0"),
        ("depth:int:1..30", "if True:\n    depth = 3\n", "found 0"),
        ("depth:int:1..30", "depth = 3\ndepth = 4\n", "found 2"),
        ("depth:int:1..30", "depth = 3 + 1\n", "found 0"),
        ("depth:int:1..30", "depth = 31\n", "outside 1..30"),
        ("depth:int:1..30", 'depth = "3"\n', "outside 1..30"),
        ("depth:int:1..30", "depth = 2.5\n", "not an integer"),
        ("act:choice:relu|tanh", 'act = "elu"\n', "not one of"),
    ],
)
def test_knobs_must_fit_the_cells_code(knobs: str, code: str, message: str) -> None:
    with pytest.raises(KnobError, match=re.escape(message)):
        render_cells(f'```pycell knobs="{knobs}"\n{code}```\n')


def test_knob_assignments_may_carry_comments_and_any_quotes() -> None:
    code = "act = 'relu'   # a comment\nlr = 1e-2\ndepth=3\nn = 0.5\n"
    html = render_cells(
        '```pycell knobs="act:choice:relu|tanh, lr:choice:0.01|0.1, depth:int:1..4,'
        ' n:float:0..1/0.25"\n' + code + "```\n"
    )
    assert len(data_knobs(html)) == 4
    assert assignment("act").search(code).group(2) == "'relu'"
    assert assignment("depth").search(code).group(2) == "3"
    assert assignment("de").search(code) is None


def test_unknown_fence_options_fail_the_build() -> None:
    with pytest.raises(KnobError, match="unknown option 'knob'"):
        render_cells('```pycell knob="x:int:1..3"\nx = 1\n```\n')


def test_the_site_registers_the_validator() -> None:
    config = (Path(__file__).resolve().parents[1] / "mkdocs.yml").read_text(encoding="utf-8")
    assert "validator: !!python/name:gradbook.pages.cells.fence_validator" in config
