// Typeset math with the KaTeX the site serves itself (build/web/katex, from npm).
// Markdown pages: pymdownx.arithmatex (generic) wraps TeX in .arithmatex as \(...\) or \[...\].
// Source pages (notebooks): markdown cells keep $...$ as text, so auto-render scans them.
// Material's document$ emits each page, the first and every one instant navigation brings in.
function typeset() {
  if (typeof katex === "undefined") return;
  const options = { throwOnError: false };
  for (const el of document.querySelectorAll(".arithmatex")) {
    if (el.querySelector(".katex")) continue; // already typeset
    const tex = el.textContent.trim();
    const display = tex.startsWith("\\[");
    katex.render(tex.slice(2, -2), el, { ...options, displayMode: display });
    // A display wider than the page scrolls (extra.css): a keyboard reader must be able to focus it.
    // Every display, not only those wider now: the width changes with the fonts and the window.
    if (display) el.tabIndex = 0;
  }
  if (typeof renderMathInElement === "undefined") return;
  for (const el of document.querySelectorAll(".jupyter-wrapper .jp-MarkdownCell")) {
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
