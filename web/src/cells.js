// Entry point, kept tiny: the editor and charts (live.js: CodeMirror, uPlot) load only when a cell
// comes near the viewport or the reader touches one, so pages are light until cells are wanted.
// Until then each cell shows its code as a plain, highlighted block. Python (kernel.js, its worker
// and Pyodide) starts as soon as a page with cells is idle, so it is ready when the reader clicks Run.
//
// With Material's instant navigation this script is not run again on the next page: it follows
// Material's `document$` (one emission per page) and sets up each page's cells on the same kernel,
// whose worker stays warm; the kernel gives each page a fresh Python namespace.

// How far ahead of the viewport a cell starts loading its editor.
const NEAR = "100% 0px";
// How long Python's start may wait for an idle moment of the page (ms).
const BOOT_IDLE_TIMEOUT_MS = 1000;

let page = null; // this page's {roots, loading, live, observer}
let kernels = null; // kernel.js, once imported

function defineCells(value) {
  Object.defineProperty(window, "gradbookCells", { value, writable: true, configurable: true });
}

/** Load live.js once per page and make the page's cells live; `window.gradbookCells` is then {kernel, cells}. */
function load(state) {
  state.loading ??= import("./live.js").then(({ setup }) => {
    if (state !== page) return null; // the reader has moved on to another page
    state.live = setup();
    defineCells(state.live ?? undefined);
    return state.live;
  });
  return state.loading;
}

/** Start Python at the page's first idle moment (not on a metered connection that asks to save data). */
function bootWhenIdle(state) {
  if (navigator.connection?.saveData) return;
  const boot = () => {
    if (state !== page) return;
    import("./kernel.js").then((module) => {
      kernels = module;
      module.sharedKernel().warm();
    });
  };
  if (typeof requestIdleCallback === "function") {
    requestIdleCallback(boot, { timeout: BOOT_IDLE_TIMEOUT_MS });
  } else {
    setTimeout(boot, 200);
  }
}

/** A new page is shown (the first load, or an instant navigation): drop the old cells, set up these. */
function onPage() {
  const previous = page;
  if (previous) {
    previous.observer?.disconnect();
    previous.live?.teardown();
    (previous.live?.kernel ?? kernels?.sharedKernel())?.newPage();
  }
  const roots = [
    ...document.querySelectorAll(".pycell:not(.pycell--live), .pyexercise:not(.pycell--live)"),
  ];
  page = { roots, loading: null, live: null, observer: null };
  if (document.querySelector(".exercise-progress")) {
    import("./progress.js").then(({ showProgress }) => showProgress());
  }
  if (roots.length === 0) {
    delete window.gradbookCells;
    return;
  }
  start(page);
}

function start(state) {
  const { roots } = state;
  // Debugging and browser tests read window.gradbookCells: reading it asks for the cells.
  Object.defineProperty(window, "gradbookCells", {
    configurable: true,
    get() {
      load(state);
      return undefined;
    },
  });
  bootWhenIdle(state);
  // A shared link (#cell-3=...) should show its cell at once, wherever it is on the page.
  if (/(?:^#|&)cell-\d+=/.test(location.hash)) {
    load(state);
    return;
  }
  const touch = () => load(state);
  for (const root of roots) {
    for (const type of ["pointerdown", "focusin", "pointerenter"]) {
      root.addEventListener(type, touch, { once: true, passive: true });
    }
  }
  if (!("IntersectionObserver" in window)) {
    load(state);
    return;
  }
  state.observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        state.observer.disconnect();
        load(state);
      }
    },
    { rootMargin: NEAR },
  );
  for (const root of roots) state.observer.observe(root);
}

// Material's document$ emits the current document once it is loaded and again after every instant
// navigation; without it (another theme), the page is set up once.
if (typeof window.document$?.subscribe === "function") window.document$.subscribe(onPage);
else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onPage);
else onPage();
