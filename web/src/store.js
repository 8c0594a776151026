// A reader's edits, kept in this browser's localStorage: one record per page and cell,
// {original, code}. The book's code at the time of the edit is kept with it, so when a new build
// changes a cell the edit is offered instead of being applied to code it was not written for.
// Nothing leaves the machine; without storage (private mode, quota) edits simply are not kept.

const PREFIX = "gradbook.cell.v1:";

/** The storage key of cell `index` (0-based) on the page at `path` (location.pathname). */
export function storageKey(index, path = location.pathname) {
  return `${PREFIX}${path}#${index + 1}`;
}

/** The saved record {original, code} of a key, or null. */
export function load(key) {
  try {
    const record = JSON.parse(localStorage.getItem(key));
    if (record && typeof record.original === "string" && typeof record.code === "string") {
      return record;
    }
  } catch {
    // unreadable or no storage: nothing saved
  }
  return null;
}

/** Save an edit; returns false when the browser does not keep it. */
export function save(key, original, code) {
  try {
    localStorage.setItem(key, JSON.stringify({ original, code }));
    return true;
  } catch {
    return false;
  }
}

export function forget(key) {
  try {
    localStorage.removeItem(key);
  } catch {
    // no storage: nothing to forget
  }
}
