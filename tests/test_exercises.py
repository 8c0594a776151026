"""Checked exercises on CPython: gradbook.lite.check, the ```pyexercise parser and fence, and every
exercise of every page (the solution passes its check, the starter fails it with a message in the
page's language; the en and zh twins are the same code).

The chapter-count test (`test_chapter_has_two_checked_exercises`) says which chapter pages still
have fewer than two checked exercises: it fails until the chapters' exercises are written.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import Any

import markdown
import pytest

from gradbook.lite import Tensor, check
from gradbook.pages.exercises import (
    Exercise,
    ExerciseError,
    exercises_in,
    fence_format,
    fence_validator,
    parse_exercise,
    render_hint,
)

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
LANGS = ("en", "zh")
CJK = re.compile(r"[\u3400-\u9fff]")


@contextmanager
def language(lang: str) -> Iterator[None]:
    before = check.language()
    check.set_language(lang)
    try:
        yield
    finally:
        check.set_language(before)


def failure(claim: Callable[[], object], lang: str = "en") -> str:
    """The message `claim` fails with in `lang` (the test fails if it passes)."""
    with language(lang), pytest.raises(check.Failed) as info:
        claim()
    text = str(info.value)
    assert text.strip()
    if lang == "zh":
        assert CJK.search(text), text
    return text


def both(claim: Callable[[], object]) -> tuple[str, str]:
    return failure(claim, "en"), failure(claim, "zh")


# --- check: each function passes and fails, with messages that say what is wrong -----------------


def test_close_passes_within_tolerance() -> None:
    check.close(1.005e-3, 1e-3, rel=0.01, name="w ** 30")
    check.close(0.0, 0.0, abs_tol=1e-9)
    check.close(1e-12, 0.0, abs_tol=1e-9)
    check.close([1.0, 2.0], [1.0, 2.001], rel=1e-3)
    check.close(Tensor([[1.0, 2.0]]), [1.0, 2.0])
    check.close(Tensor(3.0), 3.0)


def test_close_says_too_large_and_by_what_factor() -> None:
    en, zh = both(lambda: check.close(1.0, 1e-3, name="w ** 30"))
    assert "`w ** 30`" in en and "too large" in en and "1000" in en
    assert "太大" in zh and "1000" in zh
    assert "0.001" not in en  # it does not print the answer


def test_close_says_too_small_wrong_sign_and_nearly() -> None:
    en, zh = both(lambda: check.close(1e-6, 1e-3))
    assert "too small" in en and "1000" in en and "太小" in zh
    en, zh = both(lambda: check.close(-2.0, 2.0, name="w"))
    assert "wrong sign" in en and "符号" in zh
    en, zh = both(lambda: check.close(1.05, 1.0, rel=0.01))
    assert "close" in en and "too large by 5%" in en and "1%" in en
    assert "偏大 5%" in zh
    en, _ = both(lambda: check.close(0.3, 0.0, abs_tol=1e-6))
    assert "should be 0" in en


@pytest.mark.parametrize(
    ("value", "expected", "tolerance", "en", "zh"),
    [
        # Just over the tolerance: the digits that show it is over (1.0101, by 1.01%, not 1%).
        (1.0101, 1.0, {"rel": 0.01}, "`x` is 1.0101: close, but too large by 1.01% (the "
         "tolerance is 1%).", "`x` 是 1.0101：接近了，但偏大 1.01%（允许的误差是 1%）。"),
        (0.9, 1.0, {"rel": 0.05}, "`x` is 0.9: close, but too small by 10% (the tolerance is "
         "5%).", "`x` 是 0.9：接近了，但偏小 10%（允许的误差是 5%）。"),
        # Within a factor 2 but not within 10%: how far, without calling it close.
        (1.9, 1.0, {"rel": 0.01}, "`x` is 1.9: too large by 90% (the tolerance is 1%).",
         "`x` 是 1.9：偏大 90%（允许的误差是 1%）。"),
        (0.55, 1.0, {"rel": 0.01}, "`x` is 0.55: too small by 45% (the tolerance is 1%).",
         "`x` 是 0.55：偏小 45%（允许的误差是 1%）。"),
        # An absolute tolerance: the difference in the same unit, not a percentage.
        (100.5, 100.0, {"rel": 0.0, "abs_tol": 0.1}, "`x` is 100.5: close, but too large by "
         "0.5 (the tolerance is 0.1).", "`x` 是 100.5：接近了，但偏大 0.5（允许的误差是 0.1）。"),
        # A tight tolerance: the value keeps the digits where it differs.
        (1.0000000012, 1.0, {"rel": 1e-9}, "`x` is 1.0000000012: close, but too large by "
         "1.2 × 10⁻⁷% (the tolerance is 1 × 10⁻⁷%).",
         "`x` 是 1.0000000012：接近了，但偏大 1.2 × 10⁻⁷%（允许的误差是 1 × 10⁻⁷%）。"),
    ],
)  # fmt: skip
def test_close_within_a_factor_2_says_how_far_in_the_tolerance_unit(
    value: float, expected: float, tolerance: dict, en: str, zh: str
) -> None:
    assert both(lambda: check.close(value, expected, name="x", **tolerance)) == (en, zh)


def test_close_on_lists_names_the_worst_entry() -> None:
    en, zh = both(lambda: check.close([1.0, 50.0, 3.3], [1.0, 5.0, 3.0], name="norms"))
    assert en.startswith("2 of 3 entries of `norms` are off") and "`norms[1]`" in en
    assert "`norms[1]`" in zh
    en, zh = both(lambda: check.close([1.0, 2.0], [1.0, 2.0, 3.0], name="norms"))
    assert "has 2 numbers; it should have 3" in en and "3 个" in zh


def test_close_refuses_what_is_not_a_number() -> None:
    en, zh = both(lambda: check.close("0.5", 0.5, name="w"))
    assert "should be a number" in en and "a string" in en and "字符串" in zh
    en, zh = both(lambda: check.close(..., 0.5, name="w"))
    assert "placeholder" in en and "占位符" in zh
    en, _ = both(lambda: check.close(math.nan, 0.5, name="w"))
    assert "`w` is nan" in en


def test_numbers_are_written_as_the_book_writes_them() -> None:
    assert check.fmt(1.2e-7) == "1.2 × 10⁻⁷"
    assert check.fmt(-0.25) == "\u22120.25"
    assert check.fmt(3) == "3"
    assert check.fmt(math.inf) == "inf"


def f_quadratic(p: list[float]) -> float:
    return p[0] ** 2 + 3 * p[0] * p[1] - 2 * p[1]


def test_grad_matches_passes_for_the_true_gradient() -> None:
    x = [0.5, -1.5]
    check.grad_matches(f_quadratic, x, [2 * x[0] + 3 * x[1], 3 * x[0] - 2])
    check.grad_matches(lambda p: Tensor(p[0] ** 3), [2.0], Tensor(12.0))


def test_grad_matches_names_the_worst_component_and_how_it_is_off() -> None:
    x = [0.5, -1.5]
    right = [2 * x[0] + 3 * x[1], 3 * x[0] - 2]
    en, zh = both(lambda: check.grad_matches(f_quadratic, x, [right[0], -right[1]]))
    assert "component 1" in en and "opposite sign" in en
    assert "第 1 个分量" in zh and "符号相反" in zh
    en, zh = both(lambda: check.grad_matches(f_quadratic, x, [right[0] * 10, right[1]]))
    assert "component 0" in en and "10 times" in en and "10 倍" in zh
    en, _ = both(lambda: check.grad_matches(f_quadratic, x, [right[0]]))
    assert "has 1 numbers; it should have 2" in en
    en, _ = both(lambda: check.grad_matches(lambda p: "x", x, right))
    assert "should return a number" in en


def test_shape_of_tensors_and_nested_lists() -> None:
    check.shape(Tensor([[1.0, 2.0, 3.0]]), (1, 3))
    check.shape([[1, 2], [3, 4], [5, 6]], (3, 2))
    check.shape([1, 2, 3], (3,))
    en, zh = both(lambda: check.shape(Tensor([[1.0, 2.0, 3.0]]), (3, 1), name="h"))
    assert "(1, 3)" in en and "(3, 1)" in en and "swapped" in en and "行与列" in zh
    en, zh = both(lambda: check.shape([[1, 2], [3]], (2, 2), name="h"))
    assert "ragged" in en and "长度" in zh
    en, _ = both(lambda: check.shape([[1, 2, 3]], (2, 3), name="h"))
    assert "(1, 3)" in en and "(2, 3)" in en and "swapped" not in en
    both(lambda: check.shape(3.0, (1,), name="h"))


def test_below_and_above() -> None:
    check.below(0.05, 0.1)
    check.above(0.95, 0.9, name="accuracy")
    en, zh = both(lambda: check.below(0.8, 0.1))
    assert "`loss` is 0.8" in en and "below 0.1" in en and "8 times" in en and "低于" in zh
    en, _ = both(lambda: check.below(0.105, 0.1))
    assert "almost" in en
    en, zh = both(lambda: check.above(0.5, 0.9, name="accuracy"))
    assert "above 0.9" in en and "高于" in zh
    en, _ = both(lambda: check.below(math.inf, 0.1))
    assert "inf" in en


def test_equal_says_which_way() -> None:
    check.equal(3, 3, name="layer")
    check.equal(3.0, 3, name="layer")
    check.equal("tanh", "tanh")
    en, zh = both(lambda: check.equal(7, 3, name="layer"))
    assert "too large" in en and "太大" in zh and "3" not in en.replace("`layer`", "")
    en, _ = both(lambda: check.equal(1, 3, name="layer"))
    assert "too small" in en
    en, zh = both(lambda: check.equal("3", 3, name="layer"))
    assert "should be an integer" in en and "a string" in en and "整数" in zh
    en, _ = both(lambda: check.equal("relu", "tanh", name="act"))
    assert "'relu'" in en and "not right" in en
    en, _ = both(lambda: check.equal(1, True, name="flag"))
    assert "True or False" in en


def test_that_uses_the_authors_message_in_the_page_language() -> None:
    check.that(True, en="never", zh="从不")
    assert both(lambda: check.that(False, en="the norm grows", zh="范数在增长")) == (
        "the norm grows",
        "范数在增长",
    )


def test_finite() -> None:
    check.finite(1.0)
    check.finite([1.0, 2.0])
    check.finite(Tensor([[1.0], [2.0]]))
    en, zh = both(lambda: check.finite([1.0, math.nan], name="losses"))
    assert "`losses[1]` is nan" in en and "溢出" in zh
    en, _ = both(lambda: check.finite(Tensor([[math.inf]]), name="loss"))
    assert "`loss` is inf" in en


def test_run_turns_a_name_error_into_your_code_does_not_define() -> None:
    ns: dict = {}
    en, zh = both(lambda: check.run("from gradbook.lite import check\ncheck.close(w, 1.0)", ns))
    assert en == "your code does not define `w`."
    assert zh == "你的代码没有定义 `w`。"
    check.run("assert x == 2", {"x": 2})


def test_set_language() -> None:
    with language("zh-CN"):
        assert check.language() == "zh"
    with pytest.raises(ValueError, match="unknown language"):
        check.set_language("fr")
    assert check.language() == "en"


def test_every_message_exists_in_both_languages_with_the_same_fields() -> None:
    fields = re.compile(r"\{(\w+)\}")
    for key, texts in check.MESSAGES.items():
        assert set(texts) == set(LANGS), key
        assert sorted(fields.findall(texts["en"])) == sorted(fields.findall(texts["zh"])), key
        assert not re.search(r"[\u4e00-\u9fff],|,[\u4e00-\u9fff]", texts["zh"]), key


# --- the parser and the fence --------------------------------------------------------------------

BODY = """\
#| starter
# choose w
w = 1.0
#| check
from gradbook.lite import check
check.close(w ** 30, 1e-3, rel=0.01, name="w ** 30")
#| hint
The product of the local derivatives, $w^{30}$.
#| hint
Take *logarithms* of `w ** 30`.
#| solution
w = 10 ** (-3 / 30)
"""


def test_parse_exercise_splits_the_sections() -> None:
    ex = parse_exercise(BODY)
    assert ex == Exercise(
        starter="# choose w\nw = 1.0\n",
        check='from gradbook.lite import check\ncheck.close(w ** 30, 1e-3, rel=0.01, name="w ** 30")\n',
        hints=[
            "The product of the local derivatives, $w^{30}$.",
            "Take *logarithms* of `w ** 30`.",
        ],
        solution="w = 10 ** (-3 / 30)\n",
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("w = 1\n#| check\nx\n#| hint\nh\n#| solution\nw = 2\n", "text before '#| starter'"),
        ("#| check\nx\n#| starter\nw=1\n#| hint\nh\n#| solution\nw = 2\n", "start with"),
        ("#| starter\nw = 1\n#| hint\nh\n#| solution\nw = 2\n", "exactly one '#| check'"),
        ("#| starter\nw = 1\n#| check\nx\n#| solution\nw = 2\n", "at least one '#| hint'"),
        ("#| starter\nw = 1\n#| check\nx\n#| hint\nh\n", "exactly one '#| solution'"),
        ("#| starter\nw = 1\n#| check\nx\n#| check\ny\n#| hint\nh\n#| solution\nw=2\n", "found 2"),
        ("#| starter\nw = 1\n#| check\n\n#| hint\nh\n#| solution\nw = 2\n", "empty '#| check'"),
        ("#| starter\nw = 1\n#| answer\nx\n", "unknown section 'answer'"),
        ("#| starter\nw = 1\n#|check\nx\n", "not a section marker"),
        ("#| starter\nw = (\n#| check\nx\n#| hint\nh\n#| solution\nw = 2\n", "(starter): line 1"),
        ("#| starter\nw = 1\n#| check\nx\n#| hint\na\n\nb\n#| solution\nw = 2\n", "blank line"),
    ],
)
def test_a_malformed_body_says_what_is_wrong(body: str, problem: str) -> None:
    with pytest.raises(ExerciseError, match=re.escape(problem)) as info:
        parse_exercise(body, name="pyexercise id='x'")
    assert "pyexercise id='x'" in str(info.value)


def render(text: str) -> str:
    fence = {"name": "pyexercise", "class": "pyexercise", "format": fence_format}
    fence["validator"] = fence_validator
    md = markdown.Markdown(
        extensions=["pymdownx.superfences"],
        extension_configs={"pymdownx.superfences": {"custom_fences": [fence]}},
    )
    return md.convert(text)


def attribute(html: str, name: str) -> str:
    m = re.search(rf' {name}="([^"]*)"', html)
    assert m, f"no {name} in {html}"
    return unescape(m[1])


def test_fence_renders_a_plain_starter_and_carries_the_rest_hidden() -> None:
    html = render(f'```pyexercise id="chain-weight"\n{BODY}```\n')
    assert html.startswith('<div class="pyexercise" data-language="python" data-id="chain-weight"')
    assert (
        '<pre class="pyexercise-starter"><code class="language-python" tabindex="0"># choose w\nw = 1.0\n'
        in html
    )
    visible = re.sub(r' data-[a-z]+="[^"]*"', "", html)
    assert "10 ** (-3 / 30)" not in visible and "check.close" not in visible
    assert attribute(html, "data-check") == parse_exercise(BODY).check
    assert attribute(html, "data-solution") == "w = 10 ** (-3 / 30)\n"
    hints = json.loads(attribute(html, "data-hints"))
    assert hints == [
        'The product of the local derivatives, <span class="arithmatex">\\(w^{30}\\)</span>.',
        "Take <em>logarithms</em> of <code>w ** 30</code>.",
    ]


def test_check_solution_and_hints_are_escaped() -> None:
    body = (
        "#| starter\nprint('<b>\"x\"</b> & y')\n"
        "#| check\nassert '</div><script>' != '\"'\n"
        "#| hint\nuse <script>alert(1)</script> & `a<b`\n"
        '#| solution\ns = "<img src=x onerror=alert(1)>"\n'
    )
    html = render(f'```pyexercise id="x"\n{body}```\n')
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert attribute(html, "data-check") == "assert '</div><script>' != '\"'\n"
    assert attribute(html, "data-solution") == 's = "<img src=x onerror=alert(1)>"\n'
    assert "print('&lt;b&gt;\"x\"&lt;/b&gt; &amp; y')" in html  # the visible starter, as text
    (hint,) = json.loads(attribute(html, "data-hints"))
    assert hint == "use &lt;script&gt;alert(1)&lt;/script&gt; &amp; <code>a&lt;b</code>"


def test_chinese_hint_lines_are_joined() -> None:
    assert render_hint("把 $w^{30}$ 取对数，\n再解出 $w$。") == (
        '把 <span class="arithmatex">\\(w^{30}\\)</span> 取对数，再解出 '
        '<span class="arithmatex">\\(w\\)</span>。'
    )


@pytest.mark.parametrize(
    ("info", "problem"),
    [
        ("pyexercise", "id option is required"),
        ('pyexercise id="Chain_Weight"', "lowercase letters"),
        ('pyexercise id="a" knobs="x"', "unknown option 'knobs'"),
    ],
)
def test_fence_options_are_checked(info: str, problem: str) -> None:
    with pytest.raises(ExerciseError, match=re.escape(problem)):
        render(f"```{info}\n{BODY}```\n")


def test_a_malformed_fence_names_the_exercise() -> None:
    with pytest.raises(
        ExerciseError, match=r"pyexercise id='broken': needs exactly one '#\| check'"
    ):
        render('```pyexercise id="broken"\n#| starter\nw = 1\n#| hint\nh\n#| solution\nw=2\n```\n')


@functools.cache
def book_config() -> Any:
    from mkdocs.config import load_config

    return load_config(str(REPO / "mkdocs.yml"))


def book_markdown() -> markdown.Markdown:
    """Markdown configured as the book's mkdocs.yml configures it (the zh project inherits it)."""
    config = book_config()
    return markdown.Markdown(
        extensions=config["markdown_extensions"], extension_configs=config["mdx_configs"]
    )


def test_the_book_registers_the_fence_and_a_malformed_one_fails_naming_it() -> None:
    html = book_markdown().convert(f'Exercise 1.\n\n```pyexercise id="chain-weight"\n{BODY}```\n')
    assert '<div class="pyexercise" data-language="python" data-id="chain-weight"' in html
    bad = '```pyexercise id="no-solution"\n#| starter\nw = 1\n#| check\nx\n#| hint\nh\n```\n'
    with pytest.raises(ExerciseError, match="pyexercise id='no-solution': needs exactly one"):
        book_markdown().convert(bad)


def test_exercises_are_found_like_the_site_renders_them() -> None:
    page = (
        f'text\n\n```pyexercise id="a"\n{BODY}```\n\n'
        '````markdown\n```pyexercise id="shown"\nx\n```\n````\n\n'
        f'1. item\n\n    ```pyexercise id="b"\n    #| starter\n    w = 1\n    ```\n'
        "```pycell\nx = 1\n```\n"
    )
    assert exercises_in(page) == [("a", BODY), ("b", "#| starter\nw = 1\n")]


# --- every exercise of every page ----------------------------------------------------------------


def page_exercises(page: Path) -> list[tuple[str, Exercise]]:
    rel = page.relative_to(DOCS).as_posix()
    return [
        (ident, parse_exercise(body, name=f"{rel} pyexercise id={ident!r}"))
        for ident, body in exercises_in(page.read_text(encoding="utf-8"))
    ]


PAGES = sorted(p for p in DOCS.rglob("*.md") if exercises_in(p.read_text(encoding="utf-8")))
EXERCISES = [(page, ident, ex) for page in PAGES for ident, ex in page_exercises(page)]
EXERCISE_IDS = [f"{p.relative_to(DOCS).as_posix()}#{i}" for p, i, _ in EXERCISES]
CHAPTERS = sorted(DOCS.glob("*/chapters/*.md"))
TRANSLATED = sorted({Path(*p.relative_to(DOCS).parts[1:]) for p in PAGES})


def run_exercise(code: str, ex: Exercise, lang: str, where: str) -> dict:
    """Run `code` then the check in one fresh namespace, as the page's Check button does."""
    namespace: dict = {"__name__": "__main__"}
    exec(compile(code, f"{where} (reader's code)", "exec"), namespace)  # noqa: S102
    with language(lang):
        check.run(ex.check, namespace, filename=f"{where} (check)")
    return namespace


@pytest.mark.parametrize(("page", "ident", "ex"), EXERCISES, ids=EXERCISE_IDS)
def test_solution_passes_its_check(page: Path, ident: str, ex: Exercise) -> None:
    lang = page.relative_to(DOCS).parts[0]
    run_exercise(ex.solution, ex, lang, f"{page.name}#{ident}")


@pytest.mark.parametrize(("page", "ident", "ex"), EXERCISES, ids=EXERCISE_IDS)
def test_starter_runs_but_fails_its_check_with_a_message(
    page: Path, ident: str, ex: Exercise
) -> None:
    lang = page.relative_to(DOCS).parts[0]
    with pytest.raises(check.Failed) as info:
        run_exercise(ex.starter, ex, lang, f"{page.name}#{ident}")
    text = str(info.value).strip()
    assert text, f"{page.name}#{ident}: the starter fails with an empty message"
    if lang == "zh":
        assert CJK.search(text), f"{page.name}#{ident}: a Chinese page's message is {text!r}"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_ids_are_unique_on_a_page(page: Path) -> None:
    ids = [ident for ident, _ in exercises_in(page.read_text(encoding="utf-8"))]
    assert len(ids) == len(set(ids)), (
        f"{page}: repeated ids {sorted({i for i in ids if ids.count(i) > 1})}"
    )


@pytest.mark.parametrize("page", TRANSLATED, ids=[p.as_posix() for p in TRANSLATED])
def test_english_and_chinese_exercises_are_the_same_code(page: Path) -> None:
    """Same ids in the same order, the same starter, check and solution; only hints differ."""
    en, zh = (DOCS / lang / page for lang in LANGS)
    assert en.exists() and zh.exists(), f"{page} has exercises but is missing in one language"
    twins = [page_exercises(en), page_exercises(zh)]
    assert [i for i, _ in twins[0]] == [i for i, _ in twins[1]], f"{page}: ids differ"
    for (ident, a), (_, b) in zip(*twins, strict=True):
        assert (a.starter, a.check, a.solution) == (b.starter, b.check, b.solution), ident
        assert len(a.hints) == len(b.hints), f"{page}#{ident}: a different number of hints"


# CONTENT: fails until every chapter page has its checked exercises (the chapters' authors' part).
@pytest.mark.parametrize(
    "chapter", CHAPTERS, ids=[p.relative_to(DOCS).as_posix() for p in CHAPTERS]
)
def test_chapter_has_two_checked_exercises(chapter: Path) -> None:
    count = len(exercises_in(chapter.read_text(encoding="utf-8")))
    assert count >= 2, (
        f"CONTENT: {chapter.relative_to(DOCS)} has {count} checked exercise(s) "
        "(```pyexercise); every chapter needs at least 2"
    )
