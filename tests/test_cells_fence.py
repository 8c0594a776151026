"""The ```pycell fence: escaped code inside a marked container, rendered through real Markdown."""

from __future__ import annotations

import markdown

from gradbook.pages.cells import fence_format


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
        '<pre class="pycell-source"><code class="language-python">print("hi")\n</code></pre>'
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
