// `npm run build`: bundle the cell front end into ../build/web/cells, copy Pyodide's core into
// ../build/web/pyodide, KaTeX into ../build/web/katex and the site's own script and stylesheet into
// ../build/web/site, so the site serves everything from its own origin. The English build of the
// site copies build/web once; the Chinese build links to that copy.

import { copyFile, cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "build", "web");
const cellsOut = join(out, "cells");
const pyodideOut = join(out, "pyodide");
const katexOut = join(out, "katex");
const siteOut = join(out, "site");

// What the pages need of KaTeX: script, stylesheet, auto-render (notebook pages) and the fonts in
// WOFF2 only. The stylesheet lists woff2 first and every browser that runs the cells (WebAssembly,
// module workers) reads it, so the woff and ttf copies would never be fetched (0.8 MB saved).
const KATEX_FILES = ["katex.min.js", "katex.min.css", "contrib/auto-render.min.js"];
const KATEX_FONT = /\.woff2$/;

// The files Pyodide's core loads at startup; packages (gradbook-lite) are added by pack_lite.py.
const PYODIDE_FILES = [
  "pyodide.mjs",
  "pyodide.asm.mjs",
  "pyodide.asm.wasm",
  "python_stdlib.zip",
  "pyodide-lock.json",
];

await rm(cellsOut, { recursive: true, force: true });
await rm(pyodideOut, { recursive: true, force: true }); // pack_lite.py adds the wheel afterwards
await rm(katexOut, { recursive: true, force: true });
await rm(siteOut, { recursive: true, force: true });
await mkdir(cellsOut, { recursive: true });
await mkdir(pyodideOut, { recursive: true });

await build({
  entryPoints: { cells: join(here, "src", "cells.js"), worker: join(here, "src", "worker.js") },
  outdir: cellsOut,
  bundle: true,
  format: "esm",
  splitting: true, // cells.js imports live.js (editor, charts) only when a cell is near
  chunkNames: "chunk-[hash]",
  minify: true,
  target: ["es2022"],
  loader: { ".py": "text" },
  legalComments: "linked",
  logLevel: "warning",
});

const css = await Promise.all([
  readFile(join(here, "node_modules", "uplot", "dist", "uPlot.min.css"), "utf8"),
  readFile(join(here, "src", "cells.css"), "utf8"),
]);
await writeFile(join(cellsOut, "cells.css"), css.join("\n"));

for (const name of PYODIDE_FILES) {
  await copyFile(join(here, "node_modules", "pyodide", name), join(pyodideOut, name));
}
const katexFonts = join(here, "node_modules", "katex", "dist", "fonts");
await mkdir(join(katexOut, "fonts"), { recursive: true });
for (const name of (await readdir(katexFonts)).filter((f) => KATEX_FONT.test(f))) {
  await copyFile(join(katexFonts, name), join(katexOut, "fonts", name));
}
for (const name of KATEX_FILES) {
  await cp(join(here, "node_modules", "katex", "dist", name), join(katexOut, name), {
    recursive: true,
  });
}
await cp(join(here, "site"), siteOut, { recursive: true });
// The offline control (a header button) and the service worker, classic scripts both; the site
// build serves the worker at the site root (gradbook/pages/offline.py).
await build({
  entryPoints: { offline: join(here, "src", "offline.js"), sw: join(here, "src", "sw.js") },
  outdir: siteOut,
  bundle: true,
  format: "iife",
  minify: true,
  target: ["es2022"],
  logLevel: "warning",
});
console.log(`built ${out}: cells, pyodide, katex, site`);
