// The math the build could not typeset, with the KaTeX the site serves itself (build/web/katex).
// Markdown pages and the exercises' hints arrive typeset (gradbook/pages/math.py: KaTeX's markup
// inside each .arithmatex), so they need only katex.min.css and its fonts, not its 270 KB script.
// Source pages (notebooks): markdown cells keep $...$ as text; for them, and for any .arithmatex
// still holding TeX, KaTeX's script and auto-render are fetched once, when a page needs them.
// Material's document$ emits each page, the first and every one instant navigation brings in.
const KATEX_DIR = new URL("../katex/", document.currentScript.src);
const NOTEBOOK_MATH = /\$|\\\(|\\\[/;
let loading = null;

function load(name) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = new URL(name, KATEX_DIR).href;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`${script.src} did not load`));
    document.head.append(script);
  });
}

function loadKatex() {
  loading ??= load("katex.min.js").then(() => load("contrib/auto-render.min.js"));
  return loading;
}

function typeset() {
  const math = [...document.querySelectorAll(".arithmatex")].filter(
    (el) => !el.querySelector(".katex"), // typeset at build time
  );
  const cells = [...document.querySelectorAll(".jupyter-wrapper .jp-MarkdownCell")].filter((el) =>
    NOTEBOOK_MATH.test(el.textContent),
  );
  if (math.length === 0 && cells.length === 0) return;
  loadKatex().then(() => render(math, cells), console.error);
}

function render(math, cells) {
  const options = { throwOnError: false };
  for (const el of math) {
    if (el.querySelector(".katex") || !el.isConnected) continue;
    const tex = el.textContent.trim();
    const display = tex.startsWith("\\[");
    katex.render(tex.slice(2, -2), el, { ...options, displayMode: display });
    // A display wider than the page scrolls (extra.css): a keyboard reader must be able to focus it.
    // Every display, not only those wider now: the width changes with the fonts and the window.
    if (display) el.tabIndex = 0;
  }
  for (const el of cells) {
    if (!el.isConnected) continue;
    renderMathInElement(el, {
      ...options,
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "$", right: "$", display: false },
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
    });
  }
}

if (typeof window.document$?.subscribe === "function") window.document$.subscribe(typeset);
else document.addEventListener("DOMContentLoaded", typeset);
