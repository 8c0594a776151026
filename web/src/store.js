// A reader's edits, kept in this browser's localStorage: one record per page and cell,
// {original, code}. The book's code at the time of the edit is kept with it, so when a new build
// changes a cell the edit is offered instead of being applied to code it was not written for.
// Nothing leaves the machine; without storage (private mode, quota) edits simply are not kept.

const PREFIX = "gradbook.cell.v1:";

/**
 * A new build may insert or remove cells, which renumbers the cells after them. An edit saved under
 * another number whose book code is exactly some cell's code follows that cell (an edit whose book
 * code is nowhere on the page stays where it is, to be offered, unless another edit moves there).
 * `originals` is the book's code of each cell of this page, in order.
 */
export function relocate(originals, path = location.pathname) {
  const records = new Map();
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      const match = key?.startsWith(`${PREFIX}${path}#`) && /#(\d+)$/.exec(key);
      const record = match && load(key);
      if (record) records.set(Number(match[1]) - 1, record);
    }
  } catch {
    return; // no storage
  }
  const placed = new Map();
  for (const [index, record] of records) {
    if (originals[index] === record.original) placed.set(index, record);
  }
  const moved = new Set();
  for (const [index, record] of records) {
    if (originals[index] === record.original) continue;
    const home = originals.findIndex((code, j) => code === record.original && !placed.has(j));
    if (home >= 0) {
      placed.set(home, record);
      moved.add(record);
    }
  }
  if (moved.size === 0) return;
  for (const [index, record] of records) {
    if (!placed.has(index) && !moved.has(record)) placed.set(index, record);
  }
  for (const index of records.keys()) forget(storageKey(index, path));
  for (const [index, record] of placed) save(storageKey(index, path), record.original, record.code);
}

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

// Checked exercises: the reader's edit of exercise `id` is kept like a cell's, under its id (ids
// do not shift when cells are added); a passed check is one record {passed, at} per exercise.
const EXERCISE_PREFIX = "gradbook.exercise.v1:";

/** Where the reader's edit of exercise `id` on the page at `path` is kept. */
export function exerciseCodeKey(id, path = location.pathname) {
  return `${PREFIX}${path}#exercise-${id}`;
}

/** The key of exercise `id`'s passed record (gradbook.exercise.v1:<path>#<id>). */
export function exerciseKey(id, path = location.pathname) {
  return `${EXERCISE_PREFIX}${path}#${id}`;
}

/** Whether the reader has passed the check of the exercise at `key`. */
export function hasPassed(key) {
  try {
    return JSON.parse(localStorage.getItem(key))?.passed === true;
  } catch {
    return false;
  }
}

/** Remember a passed check; returns false when the browser does not keep it. */
export function markPassed(key) {
  try {
    localStorage.setItem(key, JSON.stringify({ passed: true, at: new Date().toISOString() }));
    return true;
  } catch {
    return false;
  }
}
