// `node minify_figures.mjs <figures dir> <cache dir>`: every committed figure, minified by svgo, as
// <cache dir>/<sha256 of the committed SVG>.svg, which the site build ships in its place
// (gradbook/pages/figures.py). The committed SVGs stay matplotlib's own output, readable in a diff;
// the reader downloads 37% fewer bytes (6.15 MB to 3.87 MB for the book's 92 figures).
// svgo's default preset keeps the viewBox, the <title> and every referenced id, and rounds
// coordinates to 3 decimals: at twice the figure's size, Chromium draws the two versions of every
// figure with at most one pixel apart (tests/test_figures_min.py checks it on the built site).
// Named by content, a figure already minified is not redone; names no figure has any more are
// removed, so the cache holds what the next build needs and nothing else.

import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { optimize } from "svgo";

const CONFIG = { multipass: true };

async function committedFigures(figuresDir) {
  const chapters = await readdir(figuresDir, { withFileTypes: true });
  const paths = [];
  for (const chapter of chapters) {
    if (!chapter.isDirectory() || chapter.name.startsWith(".")) continue; // .staging: a build
    const dir = join(figuresDir, chapter.name);
    for (const name of (await readdir(dir)).sort()) {
      if (name.endsWith(".svg")) paths.push(join(dir, name));
    }
  }
  return paths;
}

async function main([figuresDir, cacheDir]) {
  if (!figuresDir || !cacheDir) {
    throw new Error("usage: node minify_figures.mjs <figures dir> <cache dir>");
  }
  await mkdir(cacheDir, { recursive: true });
  const cached = new Set(await readdir(cacheDir));
  const wanted = new Set();
  let made = 0;
  for (const path of await committedFigures(figuresDir)) {
    const bytes = await readFile(path);
    const name = `${createHash("sha256").update(bytes).digest("hex")}.svg`;
    wanted.add(name);
    if (cached.has(name)) continue;
    const { data } = optimize(bytes.toString("utf8"), { ...CONFIG, path });
    const partial = join(cacheDir, `${name}.partial`); // a stopped run leaves no half file
    await writeFile(partial, data);
    await rename(partial, join(cacheDir, name));
    made += 1;
  }
  for (const name of cached) {
    if (!wanted.has(name)) await rm(join(cacheDir, name), { force: true });
  }
  console.log(`minified ${made} figures, ${wanted.size - made} cached, into ${cacheDir}`);
}

await main(process.argv.slice(2));
