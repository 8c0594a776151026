// The book's service worker (bundled into build/web/site/sw.js; the site build serves it at the
// root, behind a first line that sets self.GRADBOOK_OFFLINE: {version, languages: {lang: {root,
// manifest, version}}}, see gradbook/pages/offline.py). One cache per build, named by its version:
//
// - save (a page asks, see offline.js): every file of the page's language manifest goes into the
//   cache, checked against its SHA-256, the manifest itself last, as the mark that it is complete;
// - install (a new build): the languages an older cache holds are saved again, unchanged files
//   copied from the old cache, so an update neither loses the offline book nor downloads Pyodide
//   again; then the new worker takes over at once and activate deletes every older cache;
// - fetch: what the cache holds, else the network, else (a page) an offline page in its language.
//   Cached responses keep the headers they were served with (COOP/COEP included), so a page
//   from the cache is as cross-origin isolated as the one from the server.

import { offlinePage } from "./offline-text.js";

const SITE = self.GRADBOOK_OFFLINE;
const SCOPE = self.registration.scope;
// The scope's path is in the name: two builds of the book on one host keep their own caches.
const PREFIX = `gradbook ${new URL(SCOPE).pathname} `;
const CACHE = `${PREFIX}${SITE.version}`;
const CONCURRENCY = 4; // downloads at a time while saving

// Each language with absolute URLs, the longest root first (zh/ before the English root).
const LANGUAGES = Object.entries(SITE.languages)
  .map(([lang, l]) => ({
    lang,
    root: new URL(l.root, SCOPE).href,
    manifest: new URL(l.manifest, SCOPE).href,
    version: l.version,
  }))
  .sort((a, b) => b.root.length - a.root.length);

const jobs = new Map(); // lang -> {done, total, promise}: saves under way
const sizes = new Map(); // lang -> bytes to save, for the hint of a page not saved yet

class SaveError extends Error {
  constructor(reason, detail) {
    super(`${reason}: ${detail}`);
    this.reason = reason; // "network" | "full" | "changed" | "failed"
  }
}

function languageOf(url) {
  return LANGUAGES.find((l) => url.startsWith(l.root)) ?? LANGUAGES.at(-1);
}

async function sha256(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function put(cache, url, response) {
  try {
    await cache.put(url, response);
  } catch (err) {
    throw new SaveError(err?.name === "QuotaExceededError" ? "full" : "failed", err);
  }
}

async function download(url) {
  let response;
  try {
    response = await fetch(url, { cache: "no-cache" });
  } catch (err) {
    throw new SaveError("network", `${url}: ${err}`);
  }
  if (!response.ok) throw new SaveError("network", `${url}: HTTP ${response.status}`);
  return response;
}

/** The url -> hash table of a language saved in an older cache (empty when it is not there). */
async function savedHashes(cache, language) {
  const response = await cache.match(language.manifest);
  if (!response) return new Map();
  const manifest = await response.json();
  return new Map(manifest.files.map((f) => [new URL(f.url, language.manifest).href, f.hash]));
}

/** Save one language into cache; older: [{cache, hashes}] to copy unchanged files from. */
async function save(language, cache, older, progress) {
  const manifestResponse = await download(language.manifest);
  const manifest = await manifestResponse.clone().json();
  if (manifest.version !== language.version) {
    throw new SaveError("changed", `${language.manifest} is ${manifest.version}`); // a new worker follows
  }
  const files = manifest.files.map((f) => ({ ...f, url: new URL(f.url, language.manifest).href }));
  const total = files.reduce((sum, f) => sum + f.size, 0);
  let done = 0;
  progress(done, total);
  const one = async (file) => {
    if (!(await cache.match(file.url))) {
      const old = older.find((o) => o.hashes.get(file.url) === file.hash);
      const copy = old && (await old.cache.match(file.url));
      if (copy) {
        await put(cache, file.url, copy);
      } else {
        const response = await download(file.url);
        const body = await response.arrayBuffer();
        if ((await sha256(body)) !== file.hash) throw new SaveError("changed", file.url);
        const { status, statusText, headers } = response; // a fresh response: never "redirected"
        await put(cache, file.url, new Response(body, { status, statusText, headers }));
      }
    }
    done += file.size;
    progress(done, total);
  };
  // Smallest first: the pages and figures are saved soonest, and Pyodide comes last, by when a
  // page that runs a cell has fetched it itself (the HTTP cache then answers the revalidation).
  const queue = [...files].sort((a, b) => a.size - b.size);
  const worker = async () => {
    while (queue.length) await one(queue.shift());
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await put(cache, language.manifest, manifestResponse); // the mark: this language is complete
  return total;
}

async function tell(language, message) {
  const all = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of all) {
    if (languageOf(client.url) === language)
      client.postMessage({ type: "gradbook-offline", ...message });
  }
}

/** Save the language (once at a time), telling its pages how far it got. */
function start(language) {
  const running = jobs.get(language.lang);
  if (running) return running.promise;
  const job = { done: 0, total: 0, percent: -1 };
  const progress = (done, total) => {
    Object.assign(job, { done, total });
    const percent = total ? Math.floor((100 * done) / total) : 0;
    if (percent === job.percent) return;
    job.percent = percent;
    tell(language, { state: "saving", done, total });
  };
  job.promise = caches
    .open(CACHE)
    .then((cache) => save(language, cache, [], progress))
    .then(
      (total) => tell(language, { state: "saved", done: total, total }),
      (err) => {
        console.warn("gradbook: saving for offline failed:", err);
        return tell(language, { state: "error", reason: err.reason ?? "failed", ...job });
      },
    )
    .finally(() => jobs.delete(language.lang));
  jobs.set(language.lang, job);
  return job.promise;
}

async function status(language) {
  const job = jobs.get(language.lang);
  if (job) return { state: "saving", done: job.done, total: job.total };
  const cache = await caches.open(CACHE);
  if (await cache.match(language.manifest)) return { state: "saved" };
  if (!sizes.has(language.lang)) {
    try {
      const manifest = await (await fetch(language.manifest, { cache: "no-cache" })).json();
      sizes.set(
        language.lang,
        manifest.files.reduce((sum, f) => sum + f.size, 0),
      );
    } catch {
      return { state: "unsaved", total: 0 }; // offline: the hint goes without a size
    }
  }
  return { state: "unsaved", total: sizes.get(language.lang) };
}

self.addEventListener("message", (event) => {
  const type = event.data?.type;
  const client = event.source;
  if (!client || (type !== "status" && type !== "save")) return;
  const language = languageOf(client.url);
  const reply = async () => {
    if (type === "save") start(language);
    client.postMessage({ type: "gradbook-offline", ...(await status(language)) });
    await jobs.get(language.lang)?.promise; // keep the worker alive while it saves
  };
  event.waitUntil(reply());
});

/** On install: save again, into this build's cache, every language an older cache holds. */
async function refresh() {
  const names = (await caches.keys()).filter((n) => n.startsWith(PREFIX) && n !== CACHE);
  if (names.length === 0) return;
  const cache = await caches.open(CACHE);
  for (const language of LANGUAGES) {
    const older = [];
    for (const name of names) {
      const old = await caches.open(name);
      const hashes = await savedHashes(old, language);
      if (hashes.size) older.push({ cache: old, hashes });
    }
    if (older.length) await save(language, cache, older, () => {});
  }
}

self.addEventListener("install", (event) => {
  // An update that cannot be saved (offline, storage full) fails here: the old worker and its
  // cache stay, and the browser tries again on a later visit.
  event.waitUntil(refresh().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  const drop = async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim(); // the first visit's page: its later requests come here too
  };
  event.waitUntil(drop());
});

function cacheKey(url) {
  const key = new URL(url);
  key.hash = "";
  key.search = "";
  if (key.pathname.endsWith("/index.html")) key.pathname = key.pathname.slice(0, -10);
  return key.href;
}

async function respond(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(cacheKey(request.url), { ignoreVary: true });
  if (cached) return cached;
  try {
    return await fetch(request);
  } catch (err) {
    if (request.mode !== "navigate") throw err;
    const language = languageOf(request.url);
    return new Response(offlinePage(language.lang, language.root), {
      status: 503,
      headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
    });
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || request.headers.has("range")) return;
  if (!request.url.startsWith(SCOPE)) return; // another origin or outside the book
  event.respondWith(respond(request));
});
