"""The site: a real MkDocs build in both languages, its links, assets and search, and the hooks.

Generic over chapters: every test walks whatever pages, chapter modules and figures exist.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jupytext
import pytest

from gradbook.pages import cjk, figures, nav, numbers, source
from gradbook.results import load as load_results

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
LANGS = ("en", "zh")
DEFAULT = "en"
CJK = re.compile(r"[\u4e00-\u9fff]")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


# --------------------------------------------------------------------------- the source tree


def doc_pages() -> dict[str, dict[str, Path]]:
    """docs pages by their path in a language's folder (``chapters/02_activations.md``) -> {lang: file}."""
    pages: dict[str, dict[str, Path]] = {}
    for lang in LANGS:
        for path in sorted((DOCS / lang).rglob("*.md")):
            pages.setdefault(path.relative_to(DOCS / lang).as_posix(), {})[lang] = path
    return pages


def chapter_modules() -> list[Path]:
    return sorted((REPO / "chapters_src").glob("[0-9][0-9]_*.py"))


def site_root(site: Path, lang: str) -> Path:
    return site if lang == DEFAULT else site / lang


def built_path(site: Path, page: str, lang: str) -> Path:
    """Where a docs page lands in the site (directory URLs; Chinese under zh/)."""
    stem = page[: -len(".md")]
    rel = "index.html" if stem == "index" else f"{stem}/index.html"
    if stem.endswith("/index"):
        rel = f"{stem[: -len('index')]}index.html"
    return site_root(site, lang) / rel


def test_every_docs_page_exists_in_both_languages() -> None:
    pages = doc_pages()
    assert "index.md" in pages
    problems = [
        f"{page}: has {sorted(by_lang)}, needs {list(LANGS)}"
        for page, by_lang in pages.items()
        if set(by_lang) != set(LANGS)
    ]
    assert not problems, "\n".join(problems)
    assert not list(DOCS.glob("*.md")), "pages live in docs/<lang>/, not in docs/"


def test_every_chapter_module_is_linked_into_both_languages() -> None:
    """mkdocs-jupyter renders the modules that sit in docs_dir: docs/<lang>/source/NN_slug.py."""
    assert chapter_modules()
    for lang in LANGS:
        linked = sorted(p.name for p in (DOCS / lang / "source").glob("*.py"))
        assert linked == [m.name for m in chapter_modules()], f"docs/{lang}/source/"
        for module in chapter_modules():
            link = DOCS / lang / "source" / module.name
            assert link.is_symlink() and link.resolve() == module.resolve(), f"{link}"


def test_chinese_sources_are_written_in_chinese() -> None:
    for page, by_lang in doc_pages().items():
        text = by_lang["zh"].read_text(encoding="utf-8")
        assert len(CJK.findall(text)) > 20, f"{page}: the zh page has (almost) no Chinese"


# --------------------------------------------------------------------------- the built site


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def article(html: str) -> str:
    """The page's own text: the <article> that material wraps around the content."""
    m = re.search(r'<article class="md-content__inner[^"]*">(.*?)</article>', html, re.S)
    assert m, "no <article> in the page"
    return m[1]


@pytest.mark.site
def test_every_docs_page_is_built_in_both_languages(built_site: Path) -> None:
    missing = [
        f"{page} ({lang}): {built_path(built_site, page, lang).relative_to(built_site)}"
        for page in doc_pages()
        for lang in LANGS
        if not built_path(built_site, page, lang).is_file()
    ]
    assert not missing, "not built:\n" + "\n".join(missing)


@pytest.mark.site
def test_built_pages_declare_their_language_and_chinese_pages_are_chinese(built_site: Path) -> None:
    for page in doc_pages():
        for lang in LANGS:
            html = built_path(built_site, page, lang).read_text(encoding="utf-8")
            assert f'<html lang="{lang}"' in html, f"{page} ({lang}): wrong <html lang>"
            if lang == "zh":
                assert len(CJK.findall(article(html))) > 20, f"zh/{page}: content is not Chinese"


SWITCH = re.compile(
    r'<a href="([^"]*)" hreflang="(\w+)" target="_self" class="md-select__link"[^>]*>'
)


@pytest.mark.site
def test_language_switcher_links_the_same_page_in_every_language(built_site: Path) -> None:
    pages = [(page, lang) for page in doc_pages() for lang in LANGS]
    pages += [(f"source/{m.stem}.md", lang) for m in chapter_modules() for lang in LANGS]
    for page, lang in pages:
        path = built_path(built_site, page, lang)
        html = path.read_text(encoding="utf-8")
        where = path.relative_to(built_site)
        links = dict((target_lang, url) for url, target_lang in SWITCH.findall(html))
        assert set(links) == set(LANGS), f"{where}: switcher links {links}"
        for target_lang, url in links.items():
            target = resolve(built_site, path, url)
            assert target == built_path(built_site, page, target_lang), f"{where}: {url}"
        assert 'data-md-component="palette"' in html, f"{where}: no dark mode toggle"


@pytest.mark.site
def test_chapter_figures_are_in_the_page_language(built_site: Path) -> None:
    chapters = [p for p in doc_pages() if p.startswith("chapters/")]
    if not chapters:
        pytest.skip("no chapter pages in docs/chapters yet")
    for page in chapters:
        for lang in LANGS:
            source = doc_pages()[page][lang].read_text(encoding="utf-8")
            html = article(built_path(built_site, page, lang).read_text(encoding="utf-8"))
            imgs = [
                src for src in re.findall(r'<img[^>]*\ssrc="([^"]+)"', html) if "figures/" in src
            ]
            assert len(imgs) >= len(figures.FIG_LINK.findall(source)), f"{page} ({lang})"
            wrong = [src for src in imgs if not src.endswith(f".{lang}.svg")]
            assert not wrong, f"{page} ({lang}) shows figures of another language: {wrong}"


@pytest.mark.site
def test_source_pages_are_rendered_notebooks_with_downloads(built_site: Path) -> None:
    import nbformat

    for module in chapter_modules():
        for lang in LANGS:
            root = site_root(built_site, lang)
            page = root / "source" / module.stem / "index.html"
            assert page.is_file(), f"no source page for {module.name} ({lang})"
            html = page.read_text(encoding="utf-8")
            where = f"{page.relative_to(built_site)}"
            body = article(html)
            assert "jupyter-wrapper" in body and "jp-CodeCell" in body, f"{where}: not a notebook"
            assert "# %%" not in body, f"{where}: shows the raw jupytext source"
            assert "<style" not in html, f"{where}: notebook CSS inlined, not shared"
            assert "notebook.css" in html, f"{where}: no shared notebook stylesheet"
            for ext in (".ipynb", ".py"):
                link = f'href="../{module.stem}{ext}" download'
                assert link in html, f"{where}: no {ext} download link"
                assert (root / "source" / f"{module.stem}{ext}").is_file(), f"{where}: {ext}"
            wheel = re.search(r'href="([^"]*/assets/web/dist/gradbook-[^"/]+\.whl)" download', html)
            assert wheel, f"{where}: no gradbook wheel download beside the notebooks"
            assert (page.parent / unquote(wheel[1])).resolve().is_file(), f"{where}: {wheel[1]}"
            nb = nbformat.read(root / "source" / f"{module.stem}.ipynb", as_version=4)
            nbformat.validate(nb)
            assert nb.cells and nb.metadata["kernelspec"]["name"] == "python3", where
            assert f'LANG = "{lang}"' in nb.cells[1].source, f"{where}: figures not in {lang}"
            twin = (root / "source" / module.name).read_text(encoding="utf-8")
            assert twin == jupytext.writes(nb, fmt="py:percent"), (
                f"{where}: .py is not the notebook"
            )
    assert (built_site / "assets" / "web" / "notebook.css").stat().st_size > 10_000


@pytest.mark.site
def test_shared_assets_are_in_the_site_once(built_site: Path) -> None:
    """Pyodide and the cell bundle live at assets/web/; the Chinese pages link to that copy."""
    wasm = sorted(p.relative_to(built_site).as_posix() for p in built_site.rglob("*.wasm"))
    assert wasm == ["assets/web/pyodide/pyodide.asm.wasm"], wasm
    assert not (built_site / "zh" / "assets" / "web").exists()
    html = built_path(built_site, "chapters/01_backprop.md", "zh").read_text(encoding="utf-8")
    assert 'src="../../../assets/web/cells/cells.js"' in html


# Attributes that make the browser fetch something, in HTML, and the same in CSS.
LOADS_IN_HTML = re.compile(
    r"<(?P<tag>script|link|img|iframe|source|audio|video|embed|object|track|input)\b[^>]*?"
    r"\s(?P<attr>src|href|data|srcset|poster)\s*=\s*[\"']?(?P<url>[^\"'\s>]+)",
    re.I,
)
LOADS_IN_CSS = re.compile(r"url\(\s*[\"']?(?P<url>[^\"')]+)|@import\s+[\"'](?P<imp>[^\"']+)", re.I)


def third_party(url: str) -> bool:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https", "") or not parts.netloc:
        return bool(parts.scheme in ("http", "https"))
    return parts.hostname not in LOCAL_HOSTS


@pytest.mark.site
def test_nothing_is_loaded_from_a_third_party_host(built_site: Path) -> None:
    offenders = []
    for path in sorted(built_site.rglob("*")):
        if path.suffix not in (".html", ".css"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        where = path.relative_to(built_site)
        if path.suffix == ".html":
            for m in LOADS_IN_HTML.finditer(text):
                if m["tag"].lower() == "link" and re.search(r'rel="(canonical|alternate)"', m[0]):
                    continue  # a link to a page, not a resource the browser loads
                if third_party(m["url"]):
                    offenders.append(f"{where}: <{m['tag']} {m['attr']}={m['url']}>")
            css = "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", text, re.S | re.I))
        else:
            css = text
        for m in LOADS_IN_CSS.finditer(css):
            url = m["url"] or m["imp"]
            if third_party(url):
                offenders.append(f"{where}: css {url}")
    assert not offenders, "third-party loads:\n" + "\n".join(offenders[:50])


class _Links(HTMLParser):
    """Collects the URLs of a page: links, images, scripts, stylesheets and element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        for attr in ("href", "src"):
            if a.get(attr) and tag in ("a", "img", "script", "link", "source", "iframe"):
                self.urls.append((tag, a[attr] or ""))


def resolve(site: Path, page: Path, url: str) -> Path | None:
    """The file an internal URL of page points at, or None for external/special URLs."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("#", "mailto:", "data:", "javascript:")):
        return None
    path = unquote(parts.path)
    if not path:
        return None
    base = page.parent.relative_to(site).as_posix()
    target = path.lstrip("/") if path.startswith("/") else posixpath.join(base, path)
    resolved = site / posixpath.normpath(target)
    if path.endswith("/") or resolved.is_dir():
        resolved = resolved / "index.html"
    return resolved


@pytest.mark.site
def test_every_internal_link_and_image_resolves(built_site: Path) -> None:
    broken = []
    ids: dict[Path, set[str]] = {}
    pending_anchors = []
    for page in html_files(built_site):
        if page.name == "404.html":
            continue  # its links are absolute to the deployment root, by design
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        ids[page] = parser.ids
        for tag, url in parser.urls:
            target = resolve(built_site, page, url)
            if target is None:
                continue
            if not target.is_file():
                broken.append(f"{page.relative_to(built_site)}: <{tag}> {url}")
            elif tag == "a" and urlsplit(url).fragment and target.suffix == ".html":
                pending_anchors.append((page, url, target))
    for page, url, target in pending_anchors:
        if target not in ids:
            parser = _Links()
            parser.feed(target.read_text(encoding="utf-8"))
            ids[target] = parser.ids
        if unquote(urlsplit(url).fragment) not in ids[target]:
            broken.append(f"{page.relative_to(built_site)}: anchor {url}")
    assert not broken, "broken links:\n" + "\n".join(broken[:50])


def search_tokens(index: dict, prefix_filter) -> set[str]:
    """The terms lunr will index: entry text split by the configured separator (as the browser does)."""
    sep = re.compile(index["config"]["separator"])
    tokens: set[str] = set()
    for entry in index["docs"]:
        if prefix_filter(entry["location"]):
            tokens.update(t.lower() for t in sep.split(entry["title"] + " " + entry["text"]) if t)
    return tokens


@pytest.mark.site
def test_search_index_finds_terms_in_both_languages(built_site: Path) -> None:
    read = lambda path: json.loads((built_site / path).read_text("utf-8"))  # noqa: E731
    en_index, zh_index = read("search/search_index.json"), read("zh/search/search_index.json")
    zh = search_tokens(zh_index, lambda loc: True)
    en = search_tokens(en_index, lambda loc: True)
    assert "梯度消失" in zh, "the Chinese search index does not hold 梯度消失 as a term"
    assert "梯度爆炸" in zh
    assert "vanishing" in en and "gradient" in en
    assert not any(d["location"].startswith("zh/") for d in en_index["docs"]), (
        "zh pages in en index"
    )


CONFIG_BASE = re.compile(r'<script id="__config"[^>]*>\{[^<]*?"base": "([^"]*)"')


@pytest.mark.site
def test_each_language_loads_only_its_own_search_index(built_site: Path) -> None:
    """Material fetches <base>/search/search_index.json: a page's base is its language's root."""
    for page in ("index.md", "chapters/01_backprop.md", "glossary.md"):
        for lang in LANGS:
            path = built_path(built_site, page, lang)
            base = CONFIG_BASE.search(path.read_text("utf-8"))[1]
            root = (path.parent / base).resolve()
            assert root == site_root(built_site, lang).resolve(), f"{path}: base {base}"
            assert (root / "search" / "search_index.json").is_file()


# --------------------------------------------------------------------------- hooks, unit level


@pytest.fixture
def results(tmp_path: Path) -> Callable[[str], dict]:
    d = tmp_path / "figures" / "02_activations"
    d.mkdir(parents=True)
    (d / "results.json").write_text(
        json.dumps(
            {
                "test_acc": {"relu": 0.9612, "sigmoid": 0.1},
                "chain_grad": {"0.2": 1.07e-21},
                "curve": {"relu": [2.3, 1.1, 0.25]},
                "steps": 1500,
            }
        )
    )
    return lambda slug: load_results(slug, tmp_path)


def test_numbers_inserts_values_with_format_specs(results: Callable[[str], dict]) -> None:
    md = (
        "ReLU reaches {{ 02_activations:test_acc/relu | .1% }} after "
        "{{02_activations:steps|,d}} steps; loss ends at {{ 02_activations:curve/relu/-1 }}, "
        "started at {{ 02_activations:curve/relu/0 | .1f }}; 0.2^30: "
        "{{ 02_activations:chain_grad/0.2 | .1e }}."
    )
    out = numbers.render_numbers(md, src_uri="chapters/02_activations.md", results=results)
    assert out == (
        "ReLU reaches 96.1% after 1,500 steps; loss ends at 0.25, started at 2.3; 0.2^30: 1.1e\u221221."
    )


def test_numbers_in_scientific_notation_as_a_reader_writes_them() -> None:
    assert numbers.format_value(6.2345e-06, ".2sci") == "6.2 × 10⁻⁶"
    assert numbers.format_value(1.07e21, ".3sci") == "1.07 × 10²¹"
    assert numbers.format_value(0.27, ".2sci") == "2.7 × 10⁻¹"
    assert numbers.format_value(3.14159, ".3sci") == "3.14"
    assert numbers.format_value(0.5, ".1%") == "50.0%"
    assert numbers.format_value(-1.47, ".2f") == "\u22121.47"
    assert numbers.format_value(-3.7e-6, ".2sci") == "\u22123.7 × 10⁻⁶"
    assert numbers.format_value("ReLU-6", "") == "ReLU-6"


def test_numbers_leaves_code_alone(results: Callable[[str], dict]) -> None:
    md = "`{{ 02_activations:nope }}`\n\n```python\nx = '{{ 02_activations:nope }}'\n```\n"
    assert numbers.render_numbers(md, src_uri="x.md", results=results) == md


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("{{ 02_activations:test_acc/tanh }}", "'test_acc/tanh'"),
        ("{{ 02_activations:curve/relu/7 }}", "'curve/relu/7'"),
        ("{{ 03_initialization:act_std_ratio/naive }}", "03_initialization/results.json"),
        ("{{ 02_activations:test_acc }}", "not a number"),
    ],
)
def test_numbers_fail_naming_page_and_key(
    results: Callable[[str], dict], snippet: str, message: str
) -> None:
    with pytest.raises(numbers.BadNumber) as err:
        numbers.render_numbers(f"Text {snippet} text", src_uri="chapters/02_a.md", results=results)
    assert "chapters/02_a.md" in str(err.value)
    assert message in str(err.value)


def test_figures_link_the_page_language(tmp_path: Path) -> None:
    d = tmp_path / "figures" / "02_activations"
    d.mkdir(parents=True)
    for lang in LANGS:
        (d / f"grad_norms.{lang}.svg").write_text("<svg/>")
        (d / f"grad_norms.{lang}.csv").write_text("panel\n")  # its data (test_figure_data.py)
    (d / "provenance.json").write_text("{}")
    md = "![Gradient norm per layer](fig:02_activations/grad_norms)\n\n`![x](fig:a/b)`"
    for lang in LANGS:
        out = figures.rewrite_figures(
            md, src_uri="chapters/02_activations.md", lang=lang, figures_dir=tmp_path / "figures"
        )
        assert out.startswith(
            f"![Gradient norm per layer](../figures/02_activations/grad_norms.{lang}.svg)"
            "{ loading=lazy decoding=async }"  # fetched when scrolled near, not with the page
        )
        assert out.endswith("`![x](fig:a/b)`")
        assert list(figures.figure_files(tmp_path / "figures", lang)) == [
            f"figures/02_activations/grad_norms.{lang}.svg"
        ]


def test_figures_fail_naming_the_page_when_missing(tmp_path: Path) -> None:
    with pytest.raises(figures.MissingFigure) as err:
        figures.rewrite_figures(
            "![x](fig:02_activations/nope)", src_uri="chapters/02_a.md", lang="zh",
            figures_dir=tmp_path / "figures",
        )  # fmt: skip
    assert "chapters/02_a.md" in str(err.value)
    assert "figures/02_activations/nope.zh.svg" in str(err.value)


def test_nav_patterns_expand_to_chapters_and_sources(tmp_path: Path) -> None:
    for name in ("index.md", "chapters/02_activations.md", "chapters/01_backprop.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# x\n")
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "01_backprop.py").write_text("# %%\n")
    out = nav.expand(
        [{"Home": "index.md"}, {"Chapters": "chapters/*.md"}, {"Source code": "source/*.py"}],
        nav.known_pages(tmp_path),
    )
    assert out == [
        {"Home": "index.md"},
        {"Chapters": ["chapters/01_backprop.md", "chapters/02_activations.md"]},
        {"Source code": [{"01_backprop.py": "source/01_backprop.py"}]},
    ]


def test_cjk_soft_breaks_are_joined_but_code_is_not() -> None:
    md = "构建网站时\n从这个文件里填进去。\nEnglish line\n继续。\n\n```text\n中文\n中文\n```\n"
    out = cjk.join_cjk_lines(md)
    assert out.startswith("构建网站时从这个文件里填进去。\nEnglish line\n继续。")
    assert out.endswith("```text\n中文\n中文\n```\n")


def test_notebook_styles_move_to_one_shared_stylesheet() -> None:
    html = '<style type="text/css">a{b:c}</style>\n<div>x</div><style>d{e:f}</style><p>y</p>'
    out, css = source.hoist_styles(html, "../../assets/web/notebook.css")
    assert (
        out == '<link rel="stylesheet" href="../../assets/web/notebook.css">\n<div>x</div><p>y</p>'
    )
    assert css == "a{b:c}\nd{e:f}"
    assert source.hoist_styles("<p>no style</p>", "x.css") == ("<p>no style</p>", "")


def test_scripts_that_name_another_host_are_dropped() -> None:
    kept = '<script src="../../assets/web/site/math.js"></script><script>let x = 1;</script>'
    cdn = '<script type="module">\nconst m = await import("https://cdnjs.cloudflare.com/m.mjs");\n</script>\n'
    assert source.drop_foreign_scripts(kept + cdn + "<p>z</p>") == kept + "<p>z</p>"
    assert source.drop_foreign_scripts('<script src="//cdn.example.org/a.js"></script>') == ""


def test_downloads_run_outside_the_repository_with_their_config_and_settings() -> None:
    """A notebook and its .py twin that need no toml beside them and no `__file__` (see
    tests/test_notebooks.py for the runs themselves)."""
    import nbformat

    wheel = "gradbook-9.9-py3-none-any.whl"
    for module in chapter_modules():
        for lang in LANGS:
            files = source.downloads(module, lang, wheel=wheel, torch="torch>=2.4,<3")
            assert set(files) == {f"{module.stem}.ipynb", module.name}
            nb = nbformat.reads(files[f"{module.stem}.ipynb"], as_version=4)
            nbformat.validate(nb)
            assert nb.metadata["kernelspec"]["name"] == "python3"
            intro, settings, config = nb.cells[:3]
            assert intro.cell_type == "markdown" and wheel in intro.source
            assert "%pip install" in intro.source and "QUICK = True" in intro.source
            assert bool(CJK.search(intro.source)) == (lang == "zh"), f"{module.name} {lang}"
            assert "QUICK = False" in settings.source and f'LANG = "{lang}"' in settings.source
            toml = module.with_suffix(".toml").read_text(encoding="utf-8")
            assert toml in config.source and "notebook.prepare(" in config.source
            code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
            assert "__file__" not in code and code.count(source.START_IN_NOTEBOOK) == 1
            for cell in nb.cells:  # the notebook compiles, the twin too (a __future__ import first)
                if cell.cell_type == "code":
                    compile(cell.source, f"{module.name} cell", "exec")
            compile(files[module.name], module.name, "exec")


def test_downloads_say_how_long_a_chapter_runs() -> None:
    from gradbook.pages import notebook_cells

    assert notebook_cells.about(12.3, "en") == "about 10 s"
    assert notebook_cells.about(13, "zh") == "约 15 秒"
    assert notebook_cells.about(71, "en") == "about 1 minute"
    assert notebook_cells.about(100, "zh") == "约 2 分钟"
    times = notebook_cells.run_times()
    missing = sorted({m.stem for m in chapter_modules()} - set(times))
    assert not missing, (
        f"run times not measured for {missing}: "
        f".venv/bin/python tests/test_notebooks.py --measure --only {' '.join(missing)}"
    )
    assert all(0 < t["quick"] < t["full"] for t in times.values()), times


def glossary_terms_zh() -> list[str]:
    """The Chinese terms of the glossary's first column (alternatives split, notes dropped)."""
    terms = []
    for line in (DOCS / "zh" / "glossary.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| ") or line.startswith(("| ---", "| 术语")):
            continue
        first = re.sub(r"（[^）]*）", "", line.split("|")[1])
        terms += [
            t.strip()
            for t in re.split(r"[、/／]", first)
            if re.fullmatch(r"\s*[\u4e00-\u9fff]{2,}\s*", t)
        ]
    return terms


def test_chinese_search_keeps_every_glossary_term_one_word() -> None:
    """The search segments Chinese with jieba and the user dictionary mkdocs.zh.yml names."""
    import jieba

    jieba.setLogLevel(30)
    jieba.load_userdict(str(REPO / "gradbook" / "pages" / "jieba_terms.txt"))
    terms = glossary_terms_zh()
    assert len(terms) > 30
    split = {t: jieba.lcut(t) for t in terms if jieba.lcut(t) != [t]}
    assert not split, f"add to gradbook/pages/jieba_terms.txt: {split}"


def prose_of(path: Path) -> str:
    """A page's prose: code blocks, inline code and math removed."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.S | re.M)
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", "", text, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", text)


ITALIC_CHINESE = re.compile(
    r"(?<![*\w\\])\*(?![*\s])[^*\n]*[\u4e00-\u9fff][^*\n]*?(?<![\s*])\*(?![*\w])"
)
PADDED_CHAPTER = re.compile(r"第 0\d 章|\b[Cc]hapters? 0\d(?![\d_])")
# 单元 alone is ambiguous: cells are 代码单元, a layer's units are 神经元; these compounds are terms.
BARE_UNIT = re.compile(
    r"(?<!代码)(?<!记忆)(?<!整流)(?<!线性)(?<!循环)(?<!隐藏)(?<!门控)单元(?!测试)"
)


@pytest.mark.parametrize("lang", LANGS)
def test_one_editorial_style(lang: str) -> None:
    """Chinese in bold, never italic; 「第 3 章」 and "chapter 3"; 代码单元 or 神经元, not bare 单元."""
    problems = []
    for path in sorted((DOCS / lang).rglob("*.md")):
        text = prose_of(path)
        problems += [
            f"{path.relative_to(DOCS)}: italic Chinese {m}" for m in ITALIC_CHINESE.findall(text)
        ]
        problems += [f"{path.relative_to(DOCS)}: {m}" for m in PADDED_CHAPTER.findall(text)]
        if lang == "zh":
            problems += [f"{path.relative_to(DOCS)}: bare 单元" for _ in BARE_UNIT.findall(text)]
    assert not problems, "\n".join(problems)


def page_outline(path: Path) -> dict[str, object]:
    """What must match between a page and its twin: sections, figures, numbers, cells."""
    text = path.read_text(encoding="utf-8")
    prose = re.sub(r"^(```|~~~)(?!pycell).*?^\1", "", text, flags=re.S | re.M)
    return {
        "sections": len(re.findall(r"^#{1,6} ", prose, re.M)),
        "figures": sorted(re.findall(r"\(fig:([\w./-]+)", text)),
        "numbers": sorted(
            {m.split("|")[0].strip() for m in re.findall(r"\{\{\s*([^}]+?)\s*\}\}", text)}
        ),
        "cells": len(re.findall(r"^```pycell", text, re.M)),
    }


def test_every_chinese_page_matches_its_english_twin() -> None:
    problems = []
    for page, by_lang in doc_pages().items():
        en, zh = page_outline(by_lang["en"]), page_outline(by_lang["zh"])
        problems += [f"{page}: {key} differ" for key in en if en[key] != zh[key]]
    assert not problems, "\n".join(problems)


def test_no_page_holds_a_control_character() -> None:
    bad = [
        f"{path.relative_to(DOCS)}: {hex(ord(c))}"
        for path in sorted(DOCS.rglob("*.md"))
        for c in set(path.read_text(encoding="utf-8"))
        if ord(c) < 32 and c not in "\n\t"
    ]
    assert not bad, bad


def chinese_figure_labels() -> list[tuple[str, int, str]]:
    """The Chinese half of every `tr(english, chinese)` in the chapter modules."""
    import ast

    labels = []
    for module in chapter_modules():
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "tr"
                and len(node.args) > 1
            ):
                arg = node.args[1]
                parts = [arg] if isinstance(arg, ast.Constant) else getattr(arg, "values", [])
                text = "".join(
                    p.value
                    for p in parts
                    if isinstance(p, ast.Constant) and isinstance(p.value, str)
                )
                labels.append((module.name, node.lineno, text))
    return labels


def test_chinese_figure_labels_use_chinese_punctuation() -> None:
    labels = chinese_figure_labels()
    assert len(labels) > 50
    ascii_comma = re.compile(r"[\u4e00-\u9fff]\s*,|,\s*[\u4e00-\u9fff]")
    bad = [f"{name}:{line}: {text!r}" for name, line, text in labels if ascii_comma.search(text)]
    assert not bad, "use ，or 、 in Chinese labels:\n" + "\n".join(bad)
