"""Cells a reader keeps and shares, in a real Chromium against the built site, in both languages.

A reader's edit survives a reload and is marked; Reset forgets it; an edit written for older book
code is offered, not applied; a Share link opens the page with the reader's code without touching
the saved edit of whoever opens it; knobs moved with the keyboard rewrite their line and rerun the
cell, stopping a run still going. Each test opens its own browser context (its own localStorage),
and nothing may leave the local server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import LOAD_TIMEOUT_MS, CellPage, open_page

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[1]
PLAYGROUND = {"en": "playground/", "zh": "zh/playground/"}
CHAPTER_02 = {"en": "chapters/02_activations/", "zh": "zh/chapters/02_activations/"}
FIRST = "for depth in [1, 5, 10, 20]:\n    print(depth, 0.25 ** depth)"  # the playground's cell 1

TEXT = {
    "en": {
        "edited": "Edited",
        "shared": "Shared",
        "changed": "has changed since you edited it",
        "restore": "Restore my edit",
        "discard": "Discard",
        "kept": "Your own saved edit of this cell is kept",
        "copied": "Link copied",
        "knobs": "Knobs: moving one reruns the cell",
        "depth": "depth layers",
        "relu": "relu: layer 1 / layer 10 = ",
    },
    "zh": {
        "edited": "已修改",
        "shared": "分享版本",
        "changed": "书中的代码后来更新了",
        "restore": "恢复我的修改",
        "discard": "丢弃",
        "kept": "你自己保存的修改不会被覆盖",
        "copied": "链接已复制",
        "knobs": "可调参数：改动任何一项都会重新运行这个代码单元",
        "depth": "depth 层数",
        "relu": "relu：第 1 层 / 第 10 层 = ",
    },
}
LANGS = ["en", "zh"]


@pytest.fixture()
def reader(browser, site_server: str) -> Iterator[callable]:
    """open(path, lang) -> CellPage in a fresh context; afterwards nothing left the server."""
    opened: list[CellPage] = []

    def open_(path: str, lang: str) -> CellPage:
        cp = open_page(browser, site_server + path, lang)
        opened.append(cp)
        return cp

    yield open_
    for cp in opened:
        assert cp.guard.foreign == [], cp.guard.foreign
        assert cp.errors == [], cp.errors
        cp.page.context.close()


def reload(cp: CellPage, url: str | None = None) -> None:
    if url is None:
        cp.page.reload()
    else:
        cp.page.goto("about:blank")
        cp.page.goto(url)
    cp.page.wait_for_function("() => window.gradbookCells !== undefined")


def stored(cp: CellPage, index: int) -> dict | None:
    """What the page saved for the cell. Waits for live cells: a suite under load once found the
    page's cells being set up again (window.gradbookCells not yet back) right after a hashchange."""
    cp.page.wait_for_function("() => window.gradbookCells !== undefined")
    key = cp.page.evaluate("i => window.gradbookCells.cells[i].storageKey", cp.index(index))
    text = cp.page.evaluate("k => localStorage.getItem(k)", key)
    return None if text is None else json.loads(text)


def badge(cp: CellPage, index: int) -> str | None:
    mark = cp.cell(index).locator(".pycell-badge")
    return mark.inner_text() if mark.is_visible() else None


def note(cp: CellPage, index: int, kind: str):
    return cp.cell(index).locator(f'.pycell-note[data-kind="{kind}"]')


@pytest.mark.parametrize("lang", LANGS)
def test_an_edit_survives_a_reload_and_reset_forgets_it(reader, lang: str) -> None:
    cp = reader(PLAYGROUND[lang], lang)
    assert cp.code(0) == FIRST and badge(cp, 0) is None
    assert cp.cell(0).get_attribute("data-differs") == ""
    cp.set_code(0, "print('my edit, 我的修改')")
    assert badge(cp, 0) == TEXT[lang]["edited"]
    assert cp.cell(0).get_attribute("data-differs") == "edited"

    reload(cp)
    assert cp.code(0) == "print('my edit, 我的修改')"
    assert badge(cp, 0) == TEXT[lang]["edited"]
    assert cp.code(1).startswith("from gradbook.lite import charts")  # other cells untouched
    assert badge(cp, 1) is None
    assert stored(cp, 0)["original"] == FIRST

    cp.click(0, "reset")
    assert cp.code(0) == FIRST and badge(cp, 0) is None
    assert stored(cp, 0) is None
    reload(cp)
    assert cp.code(0) == FIRST and badge(cp, 0) is None

    # typing the book's code back by hand is no edit either
    cp.set_code(0, "x = 1")
    assert stored(cp, 0) is not None
    cp.set_code(0, FIRST)
    assert stored(cp, 0) is None and badge(cp, 0) is None


@pytest.mark.parametrize("lang", LANGS)
def test_an_edit_of_older_book_code_is_offered_not_applied(reader, lang: str) -> None:
    cp = reader(PLAYGROUND[lang], lang)
    older = {"original": "for depth in [1, 2]:\n    print(depth)", "code": "print('old edit')"}
    key = cp.page.evaluate("() => window.gradbookCells.cells[0].storageKey")
    write = "([k, v]) => localStorage.setItem(k, v)"
    cp.page.evaluate(write, [key, json.dumps(older)])
    reload(cp)
    assert cp.code(0) == FIRST and badge(cp, 0) is None  # not silently applied
    offer = note(cp, 0, "changed")
    assert TEXT[lang]["changed"] in offer.inner_text()
    offer.get_by_role("button", name=TEXT[lang]["restore"]).click()
    assert cp.code(0) == "print('old edit')"
    assert badge(cp, 0) == TEXT[lang]["edited"]
    assert note(cp, 0, "changed").count() == 0
    assert stored(cp, 0) == {"original": FIRST, "code": "print('old edit')"}
    reload(cp)  # restored, it is an edit of the current code: applied from now on
    assert cp.code(0) == "print('old edit')" and note(cp, 0, "changed").count() == 0

    cp.page.evaluate(write, [key, json.dumps(older)])
    reload(cp)
    note(cp, 0, "changed").get_by_role("button", name=TEXT[lang]["discard"]).click()
    assert note(cp, 0, "changed").count() == 0
    assert stored(cp, 0) is None and cp.code(0) == FIRST
    reload(cp)
    assert note(cp, 0, "changed").count() == 0 and cp.code(0) == FIRST


def test_saved_edits_follow_their_cells_when_a_build_renumbers_them(reader) -> None:
    """A cell inserted above: the edit saved as cell 2 for cell 1's code belongs to cell 1."""
    cp = reader(PLAYGROUND["en"], "en")
    keys = cp.page.evaluate("() => window.gradbookCells.cells.map(c => c.storageKey)")
    records = {
        keys[0]: {"original": "a cell this build removed", "code": "print('gone')"},
        keys[1]: {"original": FIRST, "code": "print('moved')"},
        keys[2]: {"original": "older bars", "code": "print('older')"},
    }
    for key, record in records.items():
        cp.page.evaluate("([k, v]) => localStorage.setItem(k, v)", [key, json.dumps(record)])
    reload(cp)
    assert cp.code(0) == "print('moved')" and badge(cp, 0) == "Edited"
    assert note(cp, 0, "changed").count() == 0
    assert stored(cp, 0) == {"original": FIRST, "code": "print('moved')"}
    assert stored(cp, 1) is None and note(cp, 1, "changed").count() == 0
    assert cp.code(2).startswith("from gradbook.lite import charts")
    assert note(cp, 2, "changed").count() == 1  # its book code is nowhere: offered where it was


@pytest.mark.parametrize("lang", LANGS)
def test_a_shared_link_opens_the_edited_cell(reader, site_server: str, lang: str) -> None:
    # The author of the link edits cell 1 and presses Share.
    author = reader(PLAYGROUND[lang], lang)
    author.page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=site_server.rstrip("/")
    )
    shared = "print('shared 分享', 6 * 7)\n# a comment & <b>no html</b>"
    author.set_code(0, shared)
    author.click(0, "share")
    field = author.cell(0).locator(".pycell-share-link")
    field.wait_for()
    link = field.input_value()
    assert link.startswith(site_server + PLAYGROUND[lang] + "#cell-1=")
    assert set(link.split("#cell-1=")[1]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert TEXT[lang]["copied"] in note(author, 0, "share").inner_text()
    assert author.page.evaluate("() => navigator.clipboard.readText()") == link

    # Another reader, with an edit of their own, opens the link.
    cp = reader(PLAYGROUND[lang], lang)
    cp.set_code(0, "print('mine')")
    reload(cp, link)
    assert cp.code(0) == shared
    assert badge(cp, 0) == TEXT[lang]["shared"]
    assert cp.cell(0).get_attribute("data-differs") == "shared"
    assert TEXT[lang]["kept"] in note(cp, 0, "shared").inner_text()
    assert stored(cp, 0)["code"] == "print('mine')"  # not overwritten by looking
    reload(cp, link)
    assert cp.code(0) == shared and stored(cp, 0)["code"] == "print('mine')"
    assert cp.cell(0).locator("b").count() == 0  # the code is text, never markup

    # Running it makes it theirs: saved, the link's part leaves the address bar.
    assert cp.run(0) == "done"
    assert cp.output(0).strip() == "shared 分享 42"
    assert stored(cp, 0)["code"] == shared
    assert badge(cp, 0) == TEXT[lang]["edited"] and note(cp, 0, "shared").count() == 0
    assert "cell-1=" not in cp.page.url
    reload(cp)
    assert cp.code(0) == shared and badge(cp, 0) == TEXT[lang]["edited"]


def test_a_shared_link_followed_on_the_page_shows_its_code(reader, site_server: str) -> None:
    """Same page, new fragment (a link pasted into the address bar): no reload, hashchange."""
    cp = reader(PLAYGROUND["en"], "en")
    page = cp.page
    shared = "print('from the fragment')"
    page.evaluate("code => { location.hash = 'cell-1=' + btoa(code).replace(/=+$/, ''); }", shared)
    page.wait_for_function(
        "code => window.gradbookCells.cells[0].editor.state.doc.toString() === code", arg=shared
    )
    assert badge(cp, 0) == "Shared" and stored(cp, 0) is None
    cp.set_code(0, "print('from the fragment, edited')")  # editing adopts it too
    assert stored(cp, 0)["code"] == "print('from the fragment, edited')"
    assert "cell-1=" not in page.url


def knob(cp: CellPage, index: int, name: str):
    return cp.cell(index).locator(f'.pycell-knob[data-name="{name}"] .pycell-knob-input')


@pytest.mark.parametrize("lang", LANGS)
def test_a_knob_moved_by_keyboard_reruns_its_cell(reader, lang: str) -> None:
    cp = reader(PLAYGROUND[lang], lang)
    k = cp.count() - 2  # the knob cell, before "Your turn"
    group = cp.cell(k).locator(".pycell-knobs")
    assert group.get_attribute("role") == "group"
    assert group.get_attribute("aria-label") == TEXT[lang]["knobs"]
    depth = cp.cell(k).get_by_label(TEXT[lang]["depth"])
    assert depth.get_attribute("type") == "range" and depth.input_value() == "10"
    assert knob(cp, k, "factor").input_value() == "0.25"

    depth.focus()
    cp.page.keyboard.press("ArrowRight")
    assert cp.wait_state(k, ("done", "error")) == "done", cp.stderr(k)
    assert "depth = 11\n" in cp.code(k)
    assert cp.output(k).startswith("0.25 ** 11 = 2.38e-07")
    assert cp.cell(k).locator(".pycell-chart").count() == 1
    assert badge(cp, k) == TEXT[lang]["edited"]
    assert cp.cell(k).locator(".pycell-knob output").first.inner_text() == "0.25"

    # A knob moved while the cell runs stops that run: this one would never end at depth 11.
    cp.set_code(k, "factor = 0.25\ndepth = 11\nwhile depth == 11:\n    pass\nprint('depth', depth)")
    cp.click(k, "run")
    cp.wait_state(k, ("running",))
    depth.focus()
    cp.page.keyboard.press("ArrowRight")
    cp.page.wait_for_function(
        "i => document.querySelectorAll('.pycell')[i].querySelector('.pycell-output')"
        ".textContent.includes('depth 12')",
        arg=cp.index(k),
        timeout=LOAD_TIMEOUT_MS,
    )
    assert cp.wait_state(k, ("done", "error")) == "done"
    assert "depth = 12\nwhile" in cp.code(k)

    # The knob follows the code; a knob whose line is gone says so instead of guessing.
    cp.set_code(k, "factor = 0.5\ndepth = 3\nprint(factor ** depth)")
    assert depth.input_value() == "3" and knob(cp, k, "factor").input_value() == "0.5"
    cp.set_code(k, "factor = 0.5\nprint(factor)")
    depth.focus()
    cp.page.keyboard.press("ArrowLeft")
    assert "depth" in note(cp, k, "knob").inner_text()
    assert cp.code(k) == "factor = 0.5\nprint(factor)"
    cp.click(k, "reset")
    assert depth.input_value() == "10" and note(cp, k, "knob").count() == 0


@pytest.mark.parametrize("lang", LANGS)
def test_chapter_02_activation_knob_switches_to_relu(reader, lang: str) -> None:
    cp = reader(CHAPTER_02[lang], lang)
    activation = knob(cp, 0, "activation")
    assert activation.evaluate("el => el.tagName") == "SELECT"
    assert activation.evaluate("el => el.labels[0].textContent") == "activation"
    label = {"en": "depth hidden layers", "zh": "depth 隐藏层数"}[lang]
    assert cp.cell(0).get_by_label(label).input_value() == "10"
    activation.focus()
    cp.page.keyboard.press("ArrowDown")  # tanh
    cp.page.keyboard.press("ArrowDown")  # relu
    cp.page.wait_for_function(
        "t => document.querySelector('.pycell .pycell-output').textContent.includes(t)",
        arg=TEXT[lang]["relu"],
        timeout=LOAD_TIMEOUT_MS,
    )
    assert cp.wait_state(0, ("done", "error")) == "done"
    assert activation.input_value() == "relu"
    comment = {"en": "try", "zh": "试试"}[lang]
    assert f'activation = "relu"  # {comment}' in cp.code(0)  # the line's comment is kept
    chart = cp.cell(0).locator(".pycell-chart")
    assert chart.locator(".u-legend .u-series .u-label").all_inner_texts()[1:] == ["relu"]
    reload(cp)  # the knob's edit is kept like any other
    assert knob(cp, 0, "activation").input_value() == "relu"
    assert badge(cp, 0) == TEXT[lang]["edited"]


NODE_CHECK = r"""
import { readValue, writeValue } from "./web/src/knobs.js";
import { decode, encode, sharedCells } from "./web/src/share.js";
const depth = { name: "depth", kind: "int", min: 1, max: 30, step: 1 };
const lr = { name: "lr", kind: "float", min: 0, max: 1, step: 0.05, decimals: 2 };
const act = { name: "act", kind: "choice", values: ["relu", "tanh", "0.5"] };
const code = "act = 'relu'  # pick one\nmy_depth = 4\ndepth = 3\nif x:\n    depth = 9\nlr = 1e-1\n";
const out = {
  depth: readValue(code, depth),
  lr: readValue(code, lr),
  act: readValue(code, act),
  written: writeValue(writeValue(writeValue(code, depth, 12), lr, 0.3), act, "tanh"),
  number: writeValue(code, act, "0.5").split("\n")[0],
  missing: writeValue("depths = 3\n", depth, 4),
  roundtrip: decode(encode("print('é 中文 ✓')\n")),
  bad: decode("%%%"),
  shared: [...sharedCells("#intro&cell-2=" + encode("x = 1") + "&cell-5=" + encode("y"))],
};
console.log(JSON.stringify(out));
"""


def test_knob_rewrites_and_share_encoding_in_node() -> None:
    """The pure parts of knobs.js and share.js, run by node on the sources (no bundle)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is missing")
    proc = subprocess.run(
        [node, "--input-type=module", "-e", NODE_CHECK],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    out = json.loads(proc.stdout)
    assert out["depth"] == 3 and out["lr"] == 0.1 and out["act"] == "relu"
    assert out["written"] == (
        "act = 'tanh'  # pick one\nmy_depth = 4\ndepth = 12\nif x:\n    depth = 9\nlr = 0.30\n"
    )
    assert out["number"] == "act = 0.5  # pick one"
    assert out["missing"] is None
    assert out["roundtrip"] == "print('é 中文 ✓')\n" and out["bad"] is None
    assert out["shared"] == [[1, "x = 1"], [4, "y"]]
