// The live cells: turns every ```pycell fence on the page into a live cell backed by one shared kernel.
// Loaded on demand by cells.js (CodeMirror and uPlot are most of the page's JavaScript).
import { Cell } from "./cell.js";
import { texts } from "./i18n.js";
import { Kernel } from "./kernel.js";
import { sharedCells } from "./share.js";
import { relocate } from "./store.js";

/** Make the page's cells live; returns { kernel, cells } (null when the page has none). */
export function setup() {
  const roots = [...document.querySelectorAll(".pycell:not(.pycell--live)")];
  if (roots.length === 0) return null;
  const kernel = new Kernel();
  const text = texts();
  let chains = 0;

  // Running a cell first runs the earlier cells that have not run in this interpreter, in order.
  const runUpTo = (target) => {
    const chain = ++chains;
    for (const cell of cells.slice(0, target.index)) {
      const busy = cell.job && kernel.isBusyWith(cell.job);
      if (!busy && cell.ranEpoch !== kernel.epoch) cell.enqueue(chain);
    }
    target.enqueue(chain);
  };
  // Saved edits follow their cells when a new build renumbered them; a shared link (#cell-3=...)
  // shows its code in its cell.
  relocate(roots.map((root) => root.querySelector("code").textContent.replace(/\n$/, "")));
  const shared = sharedCells();
  const cells = roots.map(
    (root, index) =>
      new Cell(root, index, { kernel, text, runUpTo, shared: shared.get(index) ?? null }),
  );
  const first = cells.find((cell) => cell.shared);
  if (first) first.root.scrollIntoView({ block: "start" });
  window.addEventListener("hashchange", () => {
    for (const [index, code] of sharedCells()) cells[index]?.showShared(code);
  });
  kernel.restartListeners.add(() => {
    for (const cell of cells) cell.markStale();
  });

  // Start Python when the first cell comes into view, so a later Run feels quick (Run buttons also
  // start it on hover or focus, see cell.js).
  if ("IntersectionObserver" in window) {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        observer.disconnect();
        kernel.warm();
      }
    });
    for (const root of roots) observer.observe(root);
  }

  // Canvas charts do not follow CSS: redraw them when Material switches colour scheme.
  new MutationObserver(() => {
    for (const cell of cells) cell.redrawCharts();
  }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });

  return { kernel, cells };
}
