// The home page's "Your progress" table: per chapter, how many of its checked exercises this
// browser has passed. The list of exercises comes from the manifest the site's build writes
// (assets/web/exercises-<lang>.json: each page's title, URL relative to the language's home, ids);
// what was passed comes from localStorage (store.js). Nothing leaves the reader's machine.
// An exercise passed in one language counts in the other: both pages hold the same code and the
// same check, and a reader who switches language keeps their progress.
import { pageLanguage, texts } from "./i18n.js";
import { exerciseKey, hasPassed } from "./store.js";

/** The site's root path: the cells' bundle is at <root>assets/web/cells/ for both languages. */
const siteRoot = () => new URL("../../../", import.meta.url).pathname;

/** The same page in the other language: the Chinese site is <root>zh/, with the English paths. */
export function otherLanguagePath(path) {
  const root = siteRoot();
  if (!path.startsWith(root)) return path;
  const rest = path.slice(root.length);
  return rest.startsWith("zh/") ? root + rest.slice(3) : `${root}zh/${rest}`;
}

/** Whether exercise `id` of the page at `path` was passed, in this language or the other. */
export function passedInEitherLanguage(id, path = location.pathname) {
  return hasPassed(exerciseKey(id, path)) || hasPassed(exerciseKey(id, otherLanguagePath(path)));
}

/** The manifest of the page's language, next to the cells' bundle (assets/web/cells/). */
function manifestUrl(lang) {
  return new URL(`../exercises-${lang}.json`, import.meta.url);
}

/** Fill every .exercise-progress placeholder of the page (the home page of each language). */
export async function showProgress() {
  const hosts = [...document.querySelectorAll(".exercise-progress")];
  if (hosts.length === 0) return;
  const lang = pageLanguage();
  const t = texts(lang);
  let manifest = null;
  try {
    const response = await fetch(manifestUrl(lang));
    if (response.ok) manifest = await response.json();
  } catch {
    manifest = null;
  }
  const home = new URL(".", location.href); // the language's home: chapter URLs are relative to it
  for (const host of hosts) {
    host.textContent = "";
    if (!manifest) {
      host.append(paragraph(t.progressUnavailable));
      continue;
    }
    const pages = manifest.pages ?? [];
    if (pages.length === 0) {
      host.append(paragraph(t.progressEmpty));
      continue;
    }
    host.append(table(pages, home, t));
  }
}

function paragraph(text) {
  const p = document.createElement("p");
  p.textContent = text;
  return p;
}

function table(pages, home, t) {
  const el = document.createElement("table"); // no class: Material styles table:not([class])
  const caption = document.createElement("caption");
  caption.textContent = t.progressCaption;
  const head = document.createElement("thead");
  const headRow = head.insertRow();
  for (const label of [t.progressChapter, t.progressPassed]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = label;
    headRow.append(th);
  }
  const body = document.createElement("tbody");
  for (const page of pages) {
    const url = new URL(page.url, home);
    const passed = page.ids.filter((id) => passedInEitherLanguage(id, url.pathname)).length;
    const row = body.insertRow();
    row.dataset.page = page.url;
    row.dataset.passed = String(passed);
    row.dataset.total = String(page.ids.length);
    const th = document.createElement("th");
    th.scope = "row";
    const link = document.createElement("a");
    link.href = url.href;
    link.textContent = page.title;
    th.append(link);
    const count = row.insertCell();
    count.textContent = `${passed} / ${page.ids.length}`;
    row.append(th, count);
  }
  el.append(caption, head, body);
  return el;
}
