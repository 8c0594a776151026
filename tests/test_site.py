"""The site: a real MkDocs build in both languages, its links, assets and search, and the hooks.

Generic over chapters: every test walks whatever pages, chapter modules and figures exist.
"""

from __future__ import annotations

import json
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest
from mkdocs.exceptions import PluginError

from gradbook.site import cjk, figures, nav, notebooks, numbers

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
LANGS = ("en", "zh")
DEFAULT = "en"
CJK = re.compile(r"[\u4e00-\u9fff]")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


# --------------------------------------------------------------------------- the source tree


def doc_pages() -> dict[str, dict[str, Path]]:
    """docs pages by language-free path (``chapters/02_activations.md``) -> {lang: file}."""
    pages: dict[str, dict[str, Path]] = {}
    for path in sorted(DOCS.rglob("*.md")):
        rel = path.relative_to(DOCS).as_posix()
        m = re.fullmatch(r"(.+)\.([a-z]{2})\.md", rel)
        key, lang = (f"{m[1]}.md", m[2]) if m else (rel, None)
        pages.setdefault(key, {})[lang] = path
    return pages


def built_path(site: Path, page: str, lang: str) -> Path:
    """Where a docs page lands in the site (directory URLs; Chinese under zh/)."""
    stem = page[: -len(".md")]
    rel = "index.html" if stem == "index" else f"{stem}/index.html"
    if stem.endswith("/index"):
        rel = f"{stem[: -len('index')]}index.html"
    return site / rel if lang == DEFAULT else site / lang / rel


def test_every_docs_page_exists_in_both_languages() -> None:
    pages = doc_pages()
    assert "index.md" in pages
    problems = [
        f"{page}: has {sorted(str(k) for k in by_lang)}, needs {list(LANGS)}"
        for page, by_lang in pages.items()
        if set(by_lang) != set(LANGS)
    ]
    assert not problems, "\n".join(problems)


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
    return m[1] if m else ""


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


@pytest.mark.site
def test_every_page_has_language_switcher_and_dark_mode_toggle(built_site: Path) -> None:
    for path in html_files(built_site):
        if path.name == "404.html" or "assets" in path.relative_to(built_site).parts:
            continue
        html = path.read_text(encoding="utf-8")
        where = path.relative_to(built_site)
        for lang in LANGS:
            assert f'hreflang="{lang}" class="md-select__link"' in html, (
                f"{where}: no {lang} switch"
            )
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
def test_source_pages_are_rendered_notebooks(built_site: Path) -> None:
    modules = notebooks.chapter_modules(REPO)
    if not modules:
        pytest.skip("no chapter modules in chapters_src yet")
    for module in modules:
        for lang in LANGS:
            prefix = built_site if lang == DEFAULT else built_site / lang
            page = prefix / "source" / module.stem / "index.html"
            assert page.is_file(), f"no source page for {module.name} ({lang})"
            html = page.read_text(encoding="utf-8")
            where = f"{page.relative_to(built_site)}"
            assert "jupyter-wrapper" in html and "jp-CodeCell" in html, f"{where}: not a notebook"
            assert "# %%" not in article(html), f"{where}: shows the raw jupytext source"
            assert f"{module.stem}.ipynb" in html, f"{where}: no notebook download link"
        nb = json.loads((built_site / "source" / f"{module.stem}.ipynb").read_text("utf-8"))
        assert nb["cells"], f"{module.stem}.ipynb has no cells"
        assert (built_site / "source" / module.name).is_file()


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


@pytest.mark.site
def test_each_language_loads_only_its_own_search_index(built_site: Path) -> None:
    """Material fetches <base>/search/search_index.json: a zh page's base is the zh root."""
    zh_index = json.loads((built_site / "zh/search/search_index.json").read_text("utf-8"))
    assert zh_index["docs"] and not any(d["location"].startswith("zh/") for d in zh_index["docs"])
    for page, base in [
        ("chapters/01_backprop/index.html", "../.."),
        ("zh/chapters/01_backprop/index.html", "../../../zh/"),
        ("zh/index.html", "../zh/"),
    ]:
        html = (built_site / page).read_text("utf-8")
        assert f'"base": "{base}"' in html, page


# --------------------------------------------------------------------------- hooks, unit level


def fake(tmp_path: Path, src_uri: str, locale: str | None = None) -> tuple[object, object]:
    """A page and a config as the hooks see them, rooted at tmp_path (mkdocs.yml lives there)."""
    config = SimpleNamespace(
        config_file_path=str(tmp_path / "mkdocs.yml"),
        plugins={},
        theme={"language": "en"},
    )
    page = SimpleNamespace(file=SimpleNamespace(src_uri=src_uri, locale=locale))
    return page, config


@pytest.fixture
def results(tmp_path: Path) -> Path:
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
    return tmp_path


def test_numbers_inserts_values_with_format_specs(results: Path) -> None:
    page, config = fake(results, "chapters/02_activations.en.md")
    md = (
        "ReLU reaches {{ 02_activations:test_acc/relu | .1% }} after "
        "{{02_activations:steps|,d}} steps; loss ends at {{ 02_activations:curve/relu/-1 }}, "
        "started at {{ 02_activations:curve/relu/0 | .1f }}; 0.2^30: "
        "{{ 02_activations:chain_grad/0.2 | .1e }}."
    )
    out = numbers.on_page_markdown(md, page, config, None)
    assert out == (
        "ReLU reaches 96.1% after 1,500 steps; loss ends at 0.25, started at 2.3; 0.2^30: 1.1e-21."
    )


def test_numbers_leaves_code_alone(results: Path) -> None:
    page, config = fake(results, "chapters/02_activations.en.md")
    md = "`{{ 02_activations:nope }}`\n\n```python\nx = '{{ 02_activations:nope }}'\n```\n"
    assert numbers.on_page_markdown(md, page, config, None) == md


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("{{ 02_activations:test_acc/tanh }}", "'tanh'"),
        ("{{ 02_activations:curve/relu/7 }}", "'7'"),
        ("{{ 03_initialization:act_std_ratio/naive }}", "03_initialization/results.json"),
        ("{{ 02_activations:test_acc }}", "not a number"),
    ],
)
def test_numbers_fails_naming_page_and_key(results: Path, snippet: str, message: str) -> None:
    page, config = fake(results, "chapters/02_activations.zh.md")
    with pytest.raises(PluginError) as err:
        numbers.on_page_markdown(f"Text {snippet} text", page, config, None)
    assert "chapters/02_activations.zh.md" in str(err.value)
    assert message in str(err.value)


def test_figures_link_the_page_language(tmp_path: Path) -> None:
    d = tmp_path / "figures" / "02_activations"
    d.mkdir(parents=True)
    for lang in LANGS:
        (d / f"grad_norms.{lang}.svg").write_text("<svg/>")
    md = "![Gradient norm per layer](fig:02_activations/grad_norms)\n\n`![x](fig:a/b)`"
    for lang in LANGS:
        page, config = fake(tmp_path, f"chapters/02_activations.{lang}.md", locale=lang)
        out = figures.on_page_markdown(md, page, config, None)
        assert out.startswith(
            f"![Gradient norm per layer](../figures/02_activations/grad_norms.{lang}.svg)"
        )
        assert out.endswith("`![x](fig:a/b)`")


def test_figures_fail_naming_the_page_when_missing(tmp_path: Path) -> None:
    page, config = fake(tmp_path, "chapters/02_activations.zh.md", locale="zh")
    with pytest.raises(PluginError) as err:
        figures.on_page_markdown("![x](fig:02_activations/nope)", page, config, None)
    assert "chapters/02_activations.zh.md" in str(err.value)
    assert "figures/02_activations/nope.zh.svg" in str(err.value)


def test_nav_patterns_expand_to_chapters_and_sources() -> None:
    pages = {
        "index.md": None,
        "chapters/02_activations.md": None,
        "chapters/01_backprop.md": None,
        "source/01_backprop.md": "01_backprop.py",
    }
    out = nav.expand(
        [{"Home": "index.md"}, {"Chapters": "chapters/*.md"}, {"Source code": "source/*.md"}],
        pages,
    )
    assert out == [
        {"Home": "index.md"},
        {"Chapters": ["chapters/01_backprop.md", "chapters/02_activations.md"]},
        {"Source code": [{"01_backprop.py": "source/01_backprop.md"}]},
    ]


def test_cjk_soft_breaks_are_joined_but_code_is_not() -> None:
    md = "构建网站时\n从这个文件里填进去。\nEnglish line\n继续。\n\n```text\n中文\n中文\n```\n"
    out = cjk.join_cjk_lines(md)
    assert out.startswith("构建网站时从这个文件里填进去。\nEnglish line\n继续。")
    assert out.endswith("```text\n中文\n中文\n```\n")


def test_search_split_moves_each_language_to_its_own_index() -> None:
    from gradbook.site.search_split import point_base_at_locale, split_index

    index = {
        "config": {"lang": ["en"]},
        "docs": [
            {"location": "chapters/a/", "text": "x"},
            {"location": "zh/chapters/a/", "text": "y"},
        ],
    }
    parts = split_index(index, ["zh"])
    assert parts[""]["docs"] == [{"location": "chapters/a/", "text": "x"}]
    assert parts["zh"]["docs"] == [{"location": "chapters/a/", "text": "y"}]
    assert parts["zh"]["config"] == index["config"]
    html = '<script id="__config" type="application/json">{"annotate": null, "base": "../..", "x": 1}</script>'
    assert '"base": "../../zh/"' in point_base_at_locale(html, "zh")
    assert '"base": "./zh/"' in point_base_at_locale(html.replace("../..", "."), "zh")
