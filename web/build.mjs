// `npm run build`: bundle the cell front end into ../build/web/cells and copy Pyodide's core
// into ../build/web/pyodide, so the site serves everything from its own origin.
import { build } from "esbuild";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "build", "web");
const cellsOut = join(out, "cells");
const pyodideOut = join(out, "pyodide");

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
console.log(`built ${cellsOut} and ${pyodideOut}`);
