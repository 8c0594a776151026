// Material fetches its search index (0.36 MB English, 0.48 MB Chinese) as soon as a page loads,
// the largest file of a chapter page, for a box most readers never open. This script holds that
// one request back until the reader shows they mean to search: the pointer on the search button
// or box, a tap, focus in the box (Material's s, f and / shortcuts focus it), or a ?q= link. The
// worker then builds its index while the reader types; Material queues the query until it is ready.
// Inlined at the top of <head> by the book's plugin (gradbook/pages/plugin.py), so it runs before
// Material's bundle opens the request. It watches one URL and no Material code: should Material
// fetch the index another way, search still works and loads eagerly again, and
// tests/test_browser.py's search test, which checks the index waits, fails.
(() => {
  const INDEX = /\/search\/search_index\.json(?:[?#]|$)/;
  const INTENT = '[data-md-component="search"], label[for="__search"], .md-search';
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  const held = [];
  let wanted = new URLSearchParams(location.search).has("q");

  function release() {
    if (wanted) return;
    wanted = true;
    for (const [request, args] of held.splice(0)) send.apply(request, args);
  }

  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.gbSearchIndex = INDEX.test(String(url));
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...args) {
    if (this.gbSearchIndex && !wanted) {
      held.push([this, args]);
      return undefined;
    }
    return send.apply(this, args);
  };

  const onIntent = (event) => {
    if (event.target instanceof Element && event.target.closest(INTENT)) release();
  };
  for (const type of ["pointerover", "pointerdown", "focusin"]) {
    document.addEventListener(type, onIntent, { capture: true, passive: true });
  }
  document.addEventListener(
    "change",
    (event) => {
      if (event.target instanceof Element && event.target.id === "__search") release();
    },
    { capture: true },
  );
})();
