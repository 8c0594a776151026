// The offline control in the header: registers the book's service worker (sw.js at the site root)
// and says whether this language's book is saved in the browser. On the first visit it saves it
// once the page is idle (not when the connection asks to save data: then the control is a button
// that saves when pressed), showing the progress. Material's instant navigation keeps the header,
// and with it the control; document$ puts it back if a page came without it.
//
// This script is served at assets/web/site/offline.js in both languages, so the site root (where
// the worker lives, and its scope) is three levels up from it, whatever sub-path the book is on.

import { offlineText } from "./offline-text.js";

const ROOT = new URL("../../../", document.currentScript?.src ?? location.href);
const WORKER = new URL("sw.js", ROOT);
const IDLE_TIMEOUT_MS = 5000; // how long the first save may wait for an idle moment
const PYTHON_WAIT_MS = 20000; // the longest the first save waits for the page's Python to start
const POLL_MS = 5000; // while saving, ask again: a worker stopped by the browser resumes

// Material Design Icons (Apache 2.0, shipped with mkdocs-material): cloud-download, cloud-check,
// cloud-alert and cloud-off, outlined.
const ICONS = {
  unsaved:
    "M6.5 20q-2.28 0-3.89-1.57Q1 16.85 1 14.58q0-1.95 1.17-3.48 1.18-1.53 3.08-1.95.43-1.8 2.13-3.42Q9.07 4.1 11 4.1q.83 0 1.41.59.59.59.59 1.41v6.05l1.6-1.55L16 12l-4 4-4-4 1.4-1.4 1.6 1.55V6.1q-1.9.35-2.95 1.84T7 11h-.5q-1.45 0-2.47 1.03Q3 13.05 3 14.5T4.03 17q1.02 1 2.47 1h12q1.05 0 1.77-.73.73-.72.73-1.77t-.73-1.77Q19.55 13 18.5 13H17v-2q0-1.2-.55-2.24Q15.9 7.73 15 7V4.68q1.85.87 2.93 2.58Q19 9 19 11q1.73.2 2.86 1.5 1.14 1.28 1.14 3 0 1.88-1.31 3.19T18.5 20M12 11.05",
  saved:
    "M13 19c0 .34.04.67.09 1H6.5c-1.5 0-2.81-.5-3.89-1.57C1.54 17.38 1 16.09 1 14.58q0-1.95 1.17-3.48C3.34 9.57 4 9.43 5.25 9.15c.42-1.53 1.25-2.77 2.5-3.72S10.42 4 12 4c1.95 0 3.6.68 4.96 2.04S19 9.05 19 11c1.15.13 2.1.63 2.86 1.5.51.57.84 1.21 1 1.92A5.9 5.9 0 0 0 19 13h-2v-2c0-1.38-.5-2.56-1.46-3.54C14.56 6.5 13.38 6 12 6s-2.56.5-3.54 1.46C7.5 8.44 7 9.62 7 11h-.5c-.97 0-1.79.34-2.47 1.03-.69.68-1.03 1.5-1.03 2.47s.34 1.79 1.03 2.5c.68.66 1.5 1 2.47 1h6.59c-.05.33-.09.66-.09 1m4.75.43-1.59-1.59L15 19l2.75 3 4.75-4.75-1.16-1.41z",
  error:
    "M21.86 12.5A4.31 4.31 0 0 0 19 11c0-1.95-.68-3.6-2.04-4.96S13.95 4 12 4c-1.58 0-3 .47-4.25 1.43s-2.08 2.19-2.5 3.72c-1.25.28-2.29.93-3.08 1.95S1 13.28 1 14.58c0 1.51.54 2.8 1.61 3.85C3.69 19.5 5 20 6.5 20h12c1.25 0 2.31-.44 3.19-1.31.87-.88 1.31-1.94 1.31-3.19q0-1.725-1.14-3m-1.59 4.77c-.48.49-1.07.73-1.77.73h-12c-.97 0-1.79-.34-2.47-1C3.34 16.29 3 15.47 3 14.5s.34-1.79 1.03-2.47C4.71 11.34 5.53 11 6.5 11H7c0-1.38.5-2.56 1.46-3.54C9.44 6.5 10.62 6 12 6s2.56.5 3.54 1.46C16.5 8.44 17 9.62 17 11v2h1.5c.7 0 1.29.24 1.77.73S21 14.8 21 15.5s-.24 1.29-.73 1.77M11 15h2v2h-2zm0-8h2v6h-2z",
  off: "M19.8 22.6 17.15 20H6.5q-2.3 0-3.9-1.6T1 14.5q0-1.92 1.19-3.42 1.19-1.51 3.06-1.93.08-.2.15-.39.1-.19.15-.41L1.4 4.2l1.4-1.4 18.4 18.4M6.5 18h8.65L7.1 9.95q-.05.28-.07.55-.03.23-.03.5h-.5q-1.45 0-2.47 1.03Q3 13.05 3 14.5T4.03 17q1.02 1 2.47 1m15.1.75-1.45-1.4q.43-.35.64-.81T21 15.5q0-1.05-.73-1.77-.72-.73-1.77-.73H17v-2q0-2.07-1.46-3.54Q14.08 6 12 6q-.67 0-1.3.16-.63.17-1.2.52L8.05 5.23q.88-.6 1.86-.92Q10.9 4 12 4q2.93 0 4.96 2.04Q19 8.07 19 11q1.73.2 2.86 1.5 1.14 1.28 1.14 3 0 1-.37 1.81-.38.84-1.03 1.44m-6.77-6.72",
};
const ICON_OF = { checking: "unsaved", unsaved: "unsaved", saving: "unsaved", saved: "saved" };

const t = offlineText(document.documentElement.lang);
const status = { state: "checking", done: 0, total: 0, reason: "" };
let control = null; // {root, button, label, icon, live}
let registration = null;
let autoSave = !navigator.connection?.saveData; // the first visit saves by itself
let poll = 0;

function mount() {
  if (control?.root.isConnected) return control;
  const header = document.querySelector(".md-header__inner");
  if (!header) return null;
  const root = document.createElement("div");
  root.className = "md-header__option gb-offline";
  root.innerHTML = `<button type="button" class="md-header__button gb-offline__button">
<svg class="gb-offline__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path/></svg>
<span class="gb-offline__label"></span></button><span class="gb-offline__live" role="status"></span>`;
  const search =
    header.querySelector('label[for="__search"]') ?? header.querySelector(".md-search");
  header.insertBefore(root, search);
  const button = root.querySelector("button");
  button.addEventListener("click", onClick);
  control = {
    root,
    button,
    label: root.querySelector(".gb-offline__label"),
    icon: root.querySelector("path"),
    live: root.querySelector(".gb-offline__live"),
  };
  render();
  return control;
}

function words() {
  const { state, done, total, reason } = status;
  switch (state) {
    case "saving":
      return [t.saving(total ? Math.floor((100 * done) / total) : 0), t.savingTitle];
    case "saved":
      return [t.saved, t.savedTitle];
    case "unsaved":
      return [t.unsaved, t.unsavedTitle(total)];
    case "error":
      return [t[reason] ?? t.failed, t.retryTitle];
    case "unsupported":
      return [window.isSecureContext ? t.unsupported : t.insecure, ""];
    default:
      return [t.checking, ""];
  }
}

function render() {
  if (!control) return;
  const { state } = status;
  const [label, title] = words();
  const { root, button, live } = control;
  root.dataset.state = state;
  control.label.textContent = label;
  button.title = title || label;
  button.setAttribute("aria-disabled", String(!["unsaved", "error"].includes(state)));
  control.icon.setAttribute("d", ICONS[ICON_OF[state] ?? (state === "error" ? "error" : "off")]);
  // Screen readers hear the changes of state, not every percent.
  const said = state === "saving" ? t.savingTitle : label;
  if (state !== "checking" && live.textContent !== said) live.textContent = said;
}

function update(message) {
  const previous = status.state;
  Object.assign(status, { done: 0, total: 0, reason: "" }, message);
  if (status.state === "saving" && previous !== "saving") startPolling();
  if (status.state !== "saving") stopPolling();
  if (status.state === "unsaved" && autoSave) {
    autoSave = false;
    afterPython(() => whenIdle(save));
  }
  if (status.state === "error" && status.reason === "changed") registration?.update();
  render();
}

/**
 * On a page with cells, Python starts at the first idle moment and the reader may press Run at
 * once: the background save (up to 25 MB, hashed in the worker) waits until Python has started
 * (or failed, or PYTHON_WAIT_MS passed), so it never slows the first output.
 */
function afterPython(fn) {
  const hasCells = document.querySelector(".pycell, .pyexercise");
  if (!hasCells || document.documentElement.dataset.gradbookPython) {
    fn();
    return;
  }
  let done = false;
  const go = () => {
    if (done) return;
    done = true;
    window.removeEventListener("gradbook:python", go);
    fn();
  };
  window.addEventListener("gradbook:python", go);
  setTimeout(go, PYTHON_WAIT_MS);
}

function whenIdle(fn) {
  if (typeof requestIdleCallback === "function")
    requestIdleCallback(fn, { timeout: IDLE_TIMEOUT_MS });
  else setTimeout(fn, 1000);
}

function ask(type) {
  registration?.active?.postMessage({ type });
}

function save() {
  navigator.storage?.persist?.().catch(() => {}); // ask the browser to keep it: best effort
  ask("save");
}

function startPolling() {
  stopPolling();
  poll = setInterval(() => ask(status.state === "saving" ? "save" : "status"), POLL_MS);
}

function stopPolling() {
  clearInterval(poll);
  poll = 0;
}

function onClick() {
  if (status.state === "unsaved" || status.state === "error") save();
  else if (status.state === "saved") ask("status");
}

/** A site without the worker (a preview, or sw.js gone): forget any old one, hide the control. */
async function withdraw(err) {
  console.warn("gradbook: no offline copy:", err);
  try {
    const response = await fetch(WORKER, { method: "HEAD", cache: "no-store" });
    if (response.status === 404)
      (await navigator.serviceWorker.getRegistration(ROOT))?.unregister();
  } catch {
    // offline: keep what is there
  }
  control?.root.remove();
  control = null;
}

async function start() {
  if (!("serviceWorker" in navigator) || !window.caches) {
    update({ state: "unsupported" });
    return;
  }
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "gradbook-offline") update(event.data);
  });
  navigator.serviceWorker.addEventListener("controllerchange", () => ask("status"));
  try {
    await navigator.serviceWorker.register(WORKER, { scope: ROOT.href });
  } catch (err) {
    await withdraw(err);
    return;
  }
  registration = await navigator.serviceWorker.ready;
  ask("status");
}

if (typeof window.document$?.subscribe === "function") window.document$.subscribe(mount);
else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
else mount();
start();
