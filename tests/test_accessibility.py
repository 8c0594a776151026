"""Accessibility: axe-core audits every page of both languages in a real Chromium.

Every HTML page of the built site (English and Chinese, the 404 page included) is loaded and
audited with axe-core (npm, from web/node_modules: nothing is fetched at test time) against the
WCAG 2.x A and AA rules and axe's best practices. A serious or critical violation fails the test,
and so does any violation of the structure rules below (language, headings, landmarks, image
alternatives), whatever axe rates it. The failure lists every violation: page, rule, selectors and
what is wrong. More states are audited, each in both languages: the playground with live cells and
their output, a checked exercise with its hint and solution, the search dialog open with results,
and a chapter in the dark (slate) palette.
One browser, one context per language, the pages in sequence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import new_visit
from test_browser import LOAD_TIMEOUT_MS, Guard

pytestmark = pytest.mark.browser

pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
LANGS = {"en": "", "zh": "zh/"}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
SEVERE = {"serious", "critical"}
# Rules that fail at any impact: a page's language, its outline and landmarks, image text.
STRUCTURE = {
    "html-has-lang",
    "html-lang-valid",
    "html-xml-lang-mismatch",
    "valid-lang",
    "document-title",
    "heading-order",
    "empty-heading",
    "page-has-heading-one",
    "image-alt",
    "role-img-alt",
    "svg-img-alt",
    "landmark-one-main",
    "landmark-no-duplicate-main",
    "landmark-unique",
    "landmark-banner-is-top-level",
    "landmark-contentinfo-is-top-level",
    "landmark-main-is-top-level",
    "region",
}
# Violations inside mkdocs-material that no public customisation reaches: the rule, a pattern of
# the selectors it is excused at, and why. Keep this short: fix what is ours at the root.
EXCLUDED: list[tuple[str, re.Pattern[str], str]] = [
    (
        "landmark-unique",
        re.compile(r"(^|[ >])\.md-code__nav$"),
        "Material's script adds an unnamed <nav> of buttons to every code block (content.code.copy); "
        "its markup is built in the theme's JavaScript, with no template or option to name it",
    ),
]
CJK = re.compile(r"[\u3400-\u9fff]")
CHAPTER = "chapters/03_initialization/"
PLAYGROUND = "playground/"
EXERCISES = "chapters/02_activations/"
QUERY = {"en": "gradient", "zh": "梯度"}
SAVE_DATA = (
    "Object.defineProperty(Navigator.prototype, 'connection', {get: () => ({saveData: true})})"
)

# Runs in the page: axe over the whole document, reduced to what a failure message needs.
AUDIT = """async ([tags]) => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.map(String).join(" "),
      impact: n.impact,
      summary: (n.failureSummary || "").split("\\n").slice(1).join(" ").trim(),
    })),
  }));
}"""


# Audit the page as a reader sees it once it has settled: Material fades its header and tabs in
# (axe would measure the contrast of a half-faded label), and a font arriving late moves text.
# Bounded, so a page that never settles is still audited.
SETTLE = """async () => {
  const finite = document.getAnimations().filter(
    (a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity,
  );
  const settled = Promise.all([document.fonts.ready, ...finite.map((a) => a.finished.catch(() => {}))]);
  await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 3000))]);
}"""


@dataclass
class Violation:
    page: str
    rule: str
    impact: str
    target: str
    summary: str


@dataclass
class Auditor:
    """One browser context (one language) that loads pages in sequence and audits them."""

    page: object
    guard: Guard
    base: str
    errors: list[str]

    def open(self, path: str) -> None:
        self.page.goto(self.base + path, wait_until="load")
        self.page.evaluate(SETTLE)

    def audit(self, label: str) -> list[Violation]:
        """axe-core on the page as it is now; the violations that fail the test."""
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.add_script_tag(path=str(AXE))
        found = []
        for v in self.page.evaluate(AUDIT, [TAGS]):
            for node in v["nodes"]:
                impact = node["impact"] or v["impact"] or "minor"
                if impact not in SEVERE and v["id"] not in STRUCTURE:
                    continue
                if any(v["id"] == rule and at.search(node["target"]) for rule, at, _ in EXCLUDED):
                    continue
                summary = node["summary"] or v["help"]
                found.append(Violation(label, v["id"], impact, node["target"], summary))
        return found


def pages(site: Path, lang: str) -> dict[str, Path]:
    """The site's HTML pages of one language: URL path (from the language's root) -> file."""
    root = site / LANGS[lang]
    found = {}
    for html in sorted(root.rglob("*.html")):
        rel = html.relative_to(root)
        if rel.parts[0] not in {"assets", "zh"}:
            found[rel.as_posix().removesuffix("index.html")] = html
    return found


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make setup` installs axe-core (web/package.json)")
    return AXE


@pytest.fixture(scope="module", params=list(LANGS))
def auditor(request, browser, site_server: str, axe_script: Path) -> Iterator[Auditor]:
    lang = request.param
    context = new_visit(browser)
    # A reader who asks to save data gets no Python started at idle (web/src/cells.js): each page
    # is audited without a Pyodide boot competing for the CPU; Run still starts it (live cells).
    context.add_init_script(SAVE_DATA)
    guard = Guard()
    context.route("**/*", guard.route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    auditor = Auditor(page=page, guard=guard, base=site_server + LANGS[lang], errors=errors)
    auditor.lang = lang
    yield auditor
    context.close()
    assert guard.foreign == [], guard.foreign


def report(found: list[Violation]) -> str:
    """Every violation, one line per page, rule and problem, with all the selectors it is at."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for v in found:
        groups.setdefault((v.page, v.rule, v.impact, v.summary), []).append(v.target)
    lines = [
        f"{page}: {rule} ({impact}) x{len(at)}: {summary}\n    at {', '.join(at)}"
        for (page, rule, impact, summary), at in groups.items()
    ]
    return f"{len(found)} accessibility violation(s):\n" + "\n".join(lines)


def test_every_page_passes_axe(auditor: Auditor, built_site: Path) -> None:
    paths = pages(built_site, auditor.lang)
    docs = REPO / "docs" / auditor.lang
    expected = len([*docs.rglob("*.md"), *(docs / "source").glob("*.py")])
    assert len(paths) >= expected, paths  # every page (and 404.html) is audited
    found: list[Violation] = []
    for path in paths:
        auditor.open(path)
        found += auditor.audit(LANGS[auditor.lang] + (path or "(home)"))
    assert not found, report(found)
    assert auditor.errors == []


def test_pages_speak_their_language(auditor: Auditor, built_site: Path) -> None:
    """The page's lang is the language its text is in; a Chinese figure's alt text is Chinese."""
    wrong = []
    for path, file in pages(built_site, auditor.lang).items():
        html = file.read_text(encoding="utf-8")
        if f'<html lang="{auditor.lang}"' not in html:
            wrong.append(f"{path}: no <html lang={auditor.lang}>")
        if auditor.lang == "zh":
            for alt in re.findall(r'<img[^>]*src="[^"]*/figures/[^"]*"[^>]*alt="([^"]*)"', html):
                if not CJK.search(alt):
                    wrong.append(f"{path}: figure alt {alt!r} is not Chinese")
    assert not wrong, "\n".join(wrong)


def test_live_cells_and_their_output_pass_axe(auditor: Auditor) -> None:
    """The playground with its cells live (editors, buttons), a text output and a chart."""
    auditor.open(PLAYGROUND)
    auditor.page.wait_for_function("() => window.gradbookCells !== undefined")
    auditor.page.wait_for_function(
        "() => [...document.querySelectorAll('.pycell')].every(c => c.matches('.pycell--live'))"
    )
    for i in (0, 1):  # the first prints numbers, the second draws a line chart
        auditor.page.locator(".pycell").nth(i).locator(".pycell-run").click()
        auditor.page.wait_for_function(
            "i => document.querySelectorAll('.pycell')[i].dataset.state === 'done'", arg=i
        )
    auditor.page.locator(".pycell").nth(1).locator(".pycell-chart canvas").first.wait_for()
    found = auditor.audit(f"{LANGS[auditor.lang]}{PLAYGROUND} (live cells, output, chart)")
    assert not found, report(found)
    assert auditor.errors == []


def test_exercise_with_its_check_hint_and_solution_passes_axe(auditor: Auditor) -> None:
    """A checked exercise, live, after a failed Check, its first hint and its solution shown."""
    auditor.open(EXERCISES)
    box = auditor.page.locator(".pyexercise").first
    box.scroll_into_view_if_needed()
    auditor.page.wait_for_function(
        "() => document.querySelector('.pyexercise').matches('.pyexercise--live')"
    )
    box.locator(".pyexercise-check").click()
    box.locator(".pyexercise-result[data-result='failed']").wait_for()  # the starter fails
    box.locator(".pyexercise-hint-button").click()
    box.locator(".pyexercise-solution-button").click()
    box.locator(".pyexercise-solution pre").wait_for()
    found = auditor.audit(f"{LANGS[auditor.lang]}{EXERCISES} (exercise checked, hint, solution)")
    assert not found, report(found)
    assert auditor.errors == []


def test_search_dialog_with_results_passes_axe(auditor: Auditor) -> None:
    auditor.open("")
    box = auditor.page.locator("input.md-search__input")
    box.click()
    results = auditor.page.locator(".md-search-result__item")
    # A query sent before Material's search worker has its index is dropped: type it again.
    for _ in range(60):
        box.fill(QUERY[auditor.lang])
        box.press("End")
        auditor.page.wait_for_timeout(1_000)
        if results.count():
            break
    results.first.wait_for()
    found = auditor.audit(f"{LANGS[auditor.lang]}(home, search dialog open)")
    assert not found, report(found)


def test_dark_palette_passes_axe(auditor: Auditor, browser) -> None:
    """A chapter in Material's slate palette, chosen by a reader's dark system setting.

    Its own context: Material keeps the palette it chose in localStorage, which would otherwise
    hold the light one from the pages audited before.
    """
    context = new_visit(browser, color_scheme="dark")
    context.add_init_script(SAVE_DATA)
    context.route("**/*", auditor.guard.route)
    try:
        dark = Auditor(page=context.new_page(), guard=auditor.guard, base=auditor.base, errors=[])
        dark.page.on("pageerror", lambda err: dark.errors.append(str(err)))
        dark.open(CHAPTER)
        assert dark.page.evaluate("() => document.body.dataset.mdColorScheme") == "slate"
        found = dark.audit(f"{LANGS[auditor.lang]}{CHAPTER} (dark)")
    finally:
        context.close()
    assert not found, report(found)
    assert dark.errors == []


def test_notebook_code_blocks_become_named_focusable_regions() -> None:
    """The source-page transform (gradbook/pages/source.py) on nbconvert's markup."""
    from gradbook.pages.source import label_code_regions

    html = '<div class="highlight-ipynb hl-python"><pre>a</pre></div><div class="highlight-ipynb">'
    assert label_code_regions(html, "zh") == (
        '<div class="highlight-ipynb hl-python" tabindex="0" role="region" aria-label="第 1 个代码单元">'
        '<pre>a</pre></div><div class="highlight-ipynb" tabindex="0" role="region" '
        'aria-label="第 2 个代码单元">'
    )
    assert 'aria-label="Code cell 1"' in label_code_regions(html, "en")
    assert label_code_regions("<pre>no notebook</pre>", "en") == "<pre>no notebook</pre>"
