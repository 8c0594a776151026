"""`python -m gradbook.pdf [--site site]`: print each language of a built site as one PDF.

Writes SITE/pdf/gradbook-en.pdf and SITE/pdf/gradbook-zh.pdf (atomically). Needs the built site
(`make site`) and Chromium (`make browser-deps`); `make pdf` runs all three.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from gradbook.pdf.assemble import assemble
from gradbook.pdf.links import link_pdfs

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
LANGS = (("en", "", "GRADBOOK_SITE_URL"), ("zh", "zh", "GRADBOOK_SITE_URL_ZH"))
TIMEOUT_MS = 180_000  # a busy machine: KaTeX over every page, the figures, the Chinese font
FOOTER = (
    '<div style="width:100%;font-size:8px;color:#777;text-align:center">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)
# Runs in the print page once it is parsed: the Chinese font is loaded before any text is laid
# out (so no word is shaped with the fallback), then the site's KaTeX typesets the math as
# web/site/math.js does, the page is shown and every figure decoded.
PREPARE = """async () => {
  const body = document.querySelector(".md-typeset");
  if (document.documentElement.lang === "zh") {
    await document.fonts.load('16px "Gradbook Noto Sans SC"', "梯度");
  }
  for (const el of document.querySelectorAll(".arithmatex")) {
    if (el.querySelector(".katex")) continue;  // typeset when the site was built
    const tex = el.textContent.trim();
    katex.render(tex.slice(2, -2), el, { throwOnError: false, displayMode: tex.startsWith("\\\\[") });
  }
  body.hidden = false;
  const settled = Promise.all([...document.images].map((img) => img.decode().catch(() => null)));
  await Promise.race([settled, new Promise((done) => setTimeout(done, 120000))]);
  await document.fonts.ready;
  return [...document.images].filter((img) => !img.naturalWidth).map((img) => img.src);
}"""


# The contents list each page's first sheet: numbers read from the outline of a first printing
# (the contents stay one sheet long, so the numbers hold in the second).
NUMBER_TOC = """(pages) => {
  const items = document.querySelectorAll(".gb-print-toc li");
  items.forEach((li, i) => {
    const n = li.querySelector(".gb-toc-page") ?? li.appendChild(document.createElement("span"));
    n.className = "gb-toc-page";
    n.textContent = pages[i] ?? "";
  });
}"""


def toc_pages(pdf: bytes) -> list[int]:
    """The first page (1-based) of each book page: the outline's top entries after Contents."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    top = [item for item in reader.outline if not isinstance(item, list)]
    return [reader.get_destination_page_number(item) + 1 for item in top[1:]]


def print_pdf(site: Path, out_dir: Path, urls: dict[str, str | None]) -> dict[str, float]:
    """Print every language of site into out_dir; return the seconds each took."""
    from playwright.sync_api import sync_playwright

    from gradbook.serve import make_server

    server = make_server(site, "127.0.0.1", 0, isolated=False, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    seconds: dict[str, float] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            for lang, subdir, _ in LANGS:
                start = time.perf_counter()
                lang_base = f"/{subdir}/" if subdir else "/"
                html = assemble(site / subdir, lang, lang_base, urls[lang])
                page = browser.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                url = f"{base}/pdf/print-{lang}.html"  # served from memory, never written
                page.route(url, _serve(html))
                page.goto(url, wait_until="load")
                broken = page.evaluate(PREPARE)
                if broken:
                    raise RuntimeError(f"{lang}: figures that did not load: {broken}")
                first = _pdf(page)
                page.evaluate(NUMBER_TOC, toc_pages(first))  # the contents get page numbers
                _write_atomic(out_dir / f"gradbook-{lang}.pdf", _pdf(page))
                page.close()
                seconds[lang] = time.perf_counter() - start
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return seconds


def _serve(html: str):
    """A route handler answering with the print page (Playwright calls it with the route)."""

    def handler(route) -> None:
        route.fulfill(body=html, content_type="text/html; charset=utf-8")

    return handler


def _pdf(page) -> bytes:
    margin = {"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"}
    return page.pdf(
        format="A4",
        margin=margin,
        print_background=True,
        display_header_footer=True,
        header_template="<span></span>",
        footer_template=FOOTER,
        outline=True,  # bookmarks from the headings
        tagged=True,  # an accessible, structured PDF (and the outline needs it)
    )


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def web_urls() -> dict[str, str | None]:
    """Each language's web book (GRADBOOK_SITE_URL, _ZH): where the PDF links what it lacks."""
    urls: dict[str, str | None] = {lang: os.environ.get(var) or None for lang, _, var in LANGS}
    if urls["en"] and not urls["zh"]:
        urls["zh"] = urls["en"].rstrip("/") + "/zh/"
    return {k: (v if v is None or v.endswith("/") else v + "/") for k, v in urls.items()}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m gradbook.pdf", description=__doc__)
    parser.add_argument("--site", type=Path, default=REPO / "site", help="the built site")
    parser.add_argument("--out", type=Path, help="default: SITE/pdf")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / "index.html").is_file() or not (site / "zh" / "index.html").is_file():
        print(f"error: {site} is not a built site: run `make site`", file=sys.stderr)
        return 1
    if not Path(CHROMIUM).exists():
        print(f"error: {CHROMIUM} is missing: run `make browser-deps`", file=sys.stderr)
        return 1
    try:
        seconds = print_pdf(site, (args.out or site / "pdf").resolve(), web_urls())
    except (RuntimeError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.out is None:  # the PDFs are in the site: its home pages link to them
        link_pdfs(site, {lang: site / "pdf" / f"gradbook-{lang}.pdf" for lang, _, _ in LANGS})
    print("printed " + ", ".join(f"{lang} in {s:.1f} s" for lang, s in seconds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
