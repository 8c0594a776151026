// The live cells: turns every ```pycell fence on the page into a live cell backed by one shared kernel,
// and every ```pyexercise fence into a checked exercise (exercise.js) on the same kernel.
// Loaded on demand by cells.js (CodeMirror and uPlot are most of the page's JavaScript).
import { Cell } from "./cell.js";
import { setupExercises } from "./exercise.js";
import { texts } from "./i18n.js";
import { sharedKernel } from "./kernel.js";
import { sharedCells } from "./share.js";
import { relocate } from "./store.js";

/**
 * Make the page's cells and exercises live on the visit's kernel; returns { kernel, cells,
 * exercises, teardown } (null when the page has none). teardown() drops the page's listeners when
 * instant navigation replaces it.
 */
export function setup() {
  const roots = [...document.querySelectorAll(".pycell:not(.pycell--live)")];
  const exerciseRoots = [...document.querySelectorAll(".pyexercise:not(.pycell--live)")];
  if (roots.length === 0 && exerciseRoots.length === 0) return null;
  const kernel = sharedKernel();
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
  const exercises = setupExercises(exerciseRoots, kernel, text);
  const first = cells.find((cell) => cell.shared);
  if (first) first.root.scrollIntoView({ block: "start" });
  const onHash = () => {
    for (const [index, code] of sharedCells()) cells[index]?.showShared(code);
  };
  window.addEventListener("hashchange", onHash);
  kernel.restartListeners.add(() => {
    for (const cell of [...cells, ...exercises]) cell.markStale();
  });

  // Start Python when the first cell comes into view, if the page's idle moment (cells.js) has not
  // already (Run buttons also start it on hover or focus, see cell.js).
  let observer = null;
  if ("IntersectionObserver" in window) {
    observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        observer.disconnect();
        kernel.warm();
      }
    });
    for (const root of [...roots, ...exerciseRoots]) observer.observe(root);
  }

  // Canvas charts do not follow CSS: redraw them when Material switches colour scheme.
  const scheme = new MutationObserver(() => {
    for (const cell of [...cells, ...exercises]) cell.redrawCharts();
  });
  scheme.observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });

  const teardown = () => {
    window.removeEventListener("hashchange", onHash);
    observer?.disconnect();
    scheme.disconnect();
  };
  return { kernel, cells, exercises, teardown };
}
