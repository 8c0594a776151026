"""Checked exercises in a real Chromium, as a new reader meets them, in both languages.

On a chapter page with exercises: the starter fails with the check's own message in the page's
language (the same text CPython gives), a hint reveals, the solution is offered after the failure,
Use this code + Shift+Enter in the editor checks and passes (Ctrl+Enter only runs), and after a
reload the exercise is still passed, the chapter's progress line counts it and the home page's
table does too; a pass in one language counts in the other. Asking for a solution before any
check needs a confirmation; a check message holding HTML is shown as text. Every request to a
host other than the local server is aborted, and none may happen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import new_visit

from gradbook.lite import check
from gradbook.pages.exercises import Exercise, exercises_in, parse_exercise

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[1]
LOAD_TIMEOUT_MS = 120_000  # a cold Pyodide start on a busy 2-core machine takes 15-30 s
CHAPTER = "chapters/07_clipping"  # a chapter with three checked exercises
HOME = {"en": "", "zh": "zh/"}
TEXT = {
    "en": {
        "failed": "Not yet: ",
        "passed": "Passed: your code passes the check.",
        "hint": "Hint 1 of {n}",
        "progress": "{p} of {t} checked exercises passed on this page",
        "confirm": "Check your own attempt first?",
        "code_error": "Your code raised an error (see the traceback below); fix it and check again.",
        "keys": "In an exercise's editor, Shift+Enter checks your code",
    },
    "zh": {
        "failed": "还没通过：",
        "passed": "通过：你的代码通过了检查。",
        "hint": "提示 1（共 {n} 条）",
        "progress": "本页 {t} 道自动检查的练习中，你已通过 {p} 道",
        "confirm": "要不要先检查一下你自己的尝试？",
        "code_error": "你的代码出错了（见下面的回溯信息）；改正后再检查一次。",
        "keys": "在练习的编辑器里，按 Shift+Enter 会检查你的代码",
    },
}


@dataclass
class Guard:
    """Aborts (and records) every request that leaves the local server."""

    foreign: list[str] = field(default_factory=list)

    def route(self, route: object) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in {"127.0.0.1"}:
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()


def page_exercises(lang: str) -> list[tuple[str, Exercise]]:
    text = (REPO / "docs" / lang / f"{CHAPTER}.md").read_text(encoding="utf-8")
    return [(ident, parse_exercise(body)) for ident, body in exercises_in(text)]


def cpython_message(ex: Exercise, lang: str) -> str:
    """What the check says about the starter on CPython: the page must say the same."""
    namespace: dict = {"__name__": "__main__"}
    exec(ex.starter, namespace)  # noqa: S102 - the book's own code
    before = check.language()
    check.set_language(lang)
    try:
        check.run(ex.check, namespace)
    except check.Failed as err:
        return str(err)
    finally:
        check.set_language(before)
    raise AssertionError("the starter passes its check")


@dataclass
class Reader:
    page: object
    lang: str
    base: str
    guard: Guard
    errors: list[str]

    def exercise(self, ident: str):
        return self.page.locator(f'.pyexercise[data-id="{ident}"]')

    def open(self, path: str) -> None:
        self.page.goto(self.base + HOME[self.lang] + path)

    def live(self, ident: str):
        ex = self.exercise(ident)
        ex.scroll_into_view_if_needed()
        self.page.locator(f'.pyexercise--live[data-id="{ident}"]').wait_for(timeout=30_000)
        return ex

    def result(self, ident: str, kinds: tuple[str, ...]) -> str:
        self.page.wait_for_function(
            "([id, kinds]) => kinds.includes(document.querySelector("
            '`.pyexercise[data-id="${id}"] .pyexercise-result`)?.dataset.result)',
            arg=[ident, list(kinds)],
            timeout=LOAD_TIMEOUT_MS,
        )
        return self.exercise(ident).locator(".pyexercise-result").inner_text()

    def code(self, ident: str) -> str:
        return self.page.evaluate(
            "id => window.gradbookCells.exercises.find(e => e.id === id)"
            ".editor.state.doc.toString()",
            ident,
        )


@pytest.fixture(scope="module", params=["en", "zh"])
def reader(request, browser, site_server: str) -> Iterator[Reader]:
    """A new reader (empty storage) in one language; nothing may leave the local server."""
    context = new_visit(browser)
    guard = Guard()
    context.route("**/*", guard.route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield Reader(page, request.param, site_server, guard, errors)
    assert guard.foreign == []
    assert errors == []
    context.close()


def test_a_new_reader_fails_reads_a_hint_uses_the_solution_and_passes(reader: Reader) -> None:
    lang, t = reader.lang, TEXT[reader.lang]
    (ident, ex), *_ = page_exercises(lang)
    reader.open(f"{CHAPTER}/")
    box = reader.live(ident)
    total = reader.page.locator(".pyexercise").count()
    progress = reader.page.locator(".pyexercise-progress")
    assert progress.inner_text() == t["progress"].format(p=0, t=total)
    # The progress line opens the Exercises section.
    assert (
        reader.page.evaluate(
            "() => document.querySelector('.pyexercise-progress').previousElementSibling.tagName"
        )
        == "H2"
    )
    assert reader.page.locator(".pyexercise-keys").inner_text().startswith(t["keys"])
    assert box.locator(".pyexercise-mark").is_hidden()
    assert reader.code(ident) == ex.starter.rstrip("\n")

    # Ctrl+Enter in the editor runs the reader's code and does not check it.
    box.locator(".cm-content").click()
    reader.page.keyboard.press("Control+Enter")
    reader.page.wait_for_function(
        "id => ['done', 'error'].includes("
        'document.querySelector(`.pyexercise[data-id="${id}"]`).dataset.state)',
        arg=ident,
        timeout=LOAD_TIMEOUT_MS,
    )
    assert box.locator(".pyexercise-result").is_hidden()

    box.locator(".pyexercise-check").click()
    message = reader.result(ident, ("failed", "passed", "error"))
    assert message == t["failed"] + cpython_message(ex, lang).replace("`", "")
    assert box.locator(".pyexercise-result").get_attribute("aria-live") == "polite"

    box.locator(".pyexercise-hint-button").click()
    hint = box.locator(".pyexercise-hint")
    assert hint.count() == 1
    assert hint.locator("strong").inner_text() == t["hint"].format(n=len(ex.hints))
    assert hint.locator(".katex").count() > 0 or "$" not in ex.hints[0]  # math is typeset

    box.locator(".pyexercise-solution-button").click()  # after a failed check: no confirmation
    assert box.locator(".pycell-note[data-kind='solution']").count() == 0
    solution = box.locator(".pyexercise-solution pre")
    assert solution.inner_text().rstrip("\n") == ex.solution.rstrip("\n")
    box.locator(".pyexercise-use-solution").click()
    assert reader.code(ident) == ex.solution.rstrip("\n")
    box.locator(".cm-content").click()
    reader.page.keyboard.press("Shift+Enter")  # in an exercise: Check
    assert reader.result(ident, ("passed", "failed", "error")) == t["passed"]
    assert reader.code(ident) == ex.solution.rstrip("\n")  # no newline typed
    assert box.locator(".pyexercise-mark").is_visible()
    assert progress.inner_text() == t["progress"].format(p=1, t=total)

    reader.page.reload()
    box = reader.live(ident)
    assert box.get_attribute("data-passed") == "true"
    assert box.locator(".pyexercise-mark").is_visible()
    assert reader.code(ident) == ex.solution.rstrip("\n")  # the edit is kept, like a cell's
    assert reader.page.locator(".pyexercise-progress").inner_text() == t["progress"].format(
        p=1, t=total
    )
    box.locator(".pycell-reset").click()
    assert reader.code(ident) == ex.starter.rstrip("\n")
    assert box.get_attribute("data-passed") == "true"  # Reset does not forget a pass

    reader.open("")
    row = reader.page.locator(f'.exercise-progress table tr[data-page="{CHAPTER}/"]')
    row.wait_for(timeout=30_000)
    assert row.get_attribute("data-passed") == "1"
    assert row.get_attribute("data-total") == str(total)
    assert row.locator("td").inner_text() == f"1 / {total}"
    assert reader.page.locator(".exercise-progress table tbody tr").count() >= 2


def test_the_solution_before_any_check_asks_first(reader: Reader) -> None:
    t = TEXT[reader.lang]
    _, (ident, ex), *_ = page_exercises(reader.lang)
    reader.open(f"{CHAPTER}/")
    box = reader.live(ident)
    box.locator(".pyexercise-solution-button").click()
    note = box.locator(".pycell-note[data-kind='solution']")
    assert note.inner_text().startswith(t["confirm"])
    assert box.locator(".pyexercise-solution").is_hidden()
    box.locator(".pyexercise-solution-cancel").click()
    assert note.count() == 0 and box.locator(".pyexercise-solution").is_hidden()
    box.locator(".pyexercise-solution-button").click()
    box.locator(".pyexercise-solution-confirm").click()
    assert box.locator(".pyexercise-solution pre").inner_text().rstrip("\n") == ex.solution.rstrip(
        "\n"
    )


def test_a_check_message_holding_html_is_shown_as_text(reader: Reader) -> None:
    (ident, ex), *_ = page_exercises(reader.lang)
    reader.open(f"{CHAPTER}/")
    box = reader.live(ident)
    # The reader's code (the starter, then this) makes every check fail with HTML in its message.
    code = ex.starter + (
        "from gradbook.lite import check\n"
        "def _html(*args, **kwargs):\n"
        "    raise check.Failed('<img src=x onerror=\"window.pwned = 1\"> and `<b>bold</b>`')\n"
        "for _name in ('close', 'grad_matches', 'shape', 'below', 'above', 'equal', 'that',\n"
        "              'finite'):\n"
        "    setattr(check, _name, _html)\n"
    )
    reader.page.evaluate(
        "([id, code]) => { const e = window.gradbookCells.exercises.find(x => x.id === id);"
        " e.setCodeQuietly(code); }",
        [ident, code],
    )
    box.locator(".pyexercise-check").click()
    text = reader.result(ident, ("failed", "passed", "error"))
    assert (
        text
        == TEXT[reader.lang]["failed"] + '<img src=x onerror="window.pwned = 1"> and <b>bold</b>'
    )
    result = box.locator(".pyexercise-result")
    assert result.locator("img, b").count() == 0
    assert result.locator("code").inner_text() == "<b>bold</b>"
    assert reader.page.evaluate("() => window.pwned") is None


def test_an_error_in_the_readers_code_shows_its_traceback_and_skips_the_check(
    reader: Reader,
) -> None:
    (ident, _), *_ = page_exercises(reader.lang)
    reader.open(f"{CHAPTER}/")
    box = reader.live(ident)
    reader.page.evaluate(
        "([id, code]) => window.gradbookCells.exercises.find(x => x.id === id)"
        ".setCodeQuietly(code)",
        [ident, "x = 1\ny = x / 0\n"],
    )
    box.locator(".pyexercise-check").click()
    assert reader.result(ident, ("error", "failed", "passed")) == TEXT[reader.lang]["code_error"]
    stderr = box.locator(".pycell-stderr").inner_text()
    assert "ZeroDivisionError" in stderr and "y = x / 0" in stderr
    assert "<check of" not in stderr  # the check did not run


def test_a_pass_in_one_language_counts_in_the_other(browser, site_server: str) -> None:
    """Both languages' pages hold the same exercise: passing it in English shows it passed on the
    Chinese page and counts on the Chinese home (and back), each home listing its own titles."""
    context = new_visit(browser)
    page = context.new_page()
    try:
        en, zh = page_exercises("en"), page_exercises("zh")
        assert [i for i, _ in en] == [i for i, _ in zh]
        (first, _), (second, _), *_ = en
        page.goto(site_server)
        # What a passed check writes (store.js markPassed): one English pass, one Chinese pass.
        page.evaluate(
            "([a, b, ch]) => {"
            " const rec = JSON.stringify({ passed: true, at: new Date().toISOString() });"
            " localStorage.setItem(`gradbook.exercise.v1:/${ch}/#${a}`, rec);"
            " localStorage.setItem(`gradbook.exercise.v1:/zh/${ch}/#${b}`, rec); }",
            [first, second, CHAPTER],
        )
        for lang in ("en", "zh"):
            page.goto(site_server + HOME[lang])
            row = page.locator(f'.exercise-progress table tr[data-page="{CHAPTER}/"]')
            row.wait_for(timeout=30_000)
            assert row.get_attribute("data-passed") == "2", lang
            title = row.locator("th a").inner_text()
            assert (title.isascii()) == (lang == "en"), title  # the home's own language
            page.goto(site_server + HOME[lang] + f"{CHAPTER}/")
            for ident in (first, second):
                box = page.locator(f'.pyexercise[data-id="{ident}"]')
                box.scroll_into_view_if_needed()
                page.locator(f'.pyexercise--live[data-id="{ident}"]').wait_for(timeout=30_000)
                assert box.get_attribute("data-passed") == "true", (lang, ident)
            line = page.locator(".pyexercise-progress")
            assert line.get_attribute("data-passed") == "2", lang
    finally:
        context.close()
