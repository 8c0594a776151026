// Share links: the reader's version of a cell travels in the URL fragment, which browsers never
// send to a server: #cell-3=<base64url of the UTF-8 code> (cells numbered from 1, several joined by &).

const PART = /^cell-(\d+)=(.*)$/;

export function encode(code) {
  const bytes = new TextEncoder().encode(code);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The code in a base64url string, or null when it is not valid base64url of UTF-8. */
export function decode(text) {
  try {
    const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
    const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Shared code by 0-based cell index, read from a fragment such as location.hash. */
export function sharedCells(hash = location.hash) {
  const shared = new Map();
  for (const part of hash.replace(/^#/, "").split("&")) {
    const match = PART.exec(part);
    if (!match) continue;
    const code = decode(match[2]);
    if (code !== null) shared.set(Number(match[1]) - 1, code);
  }
  return shared;
}

/** A link to this page that opens cell `index` (0-based) with `code`. */
export function shareLink(index, code, where = location) {
  return `${where.origin}${where.pathname}${where.search}#cell-${index + 1}=${encode(code)}`;
}

/** Drop cell `index`'s shared code from the address bar (the reader made it their own). */
export function dropFromHash(index) {
  const parts = location.hash.replace(/^#/, "").split("&");
  const kept = parts.filter((part) => PART.exec(part)?.[1] !== String(index + 1));
  if (kept.length === parts.length) return;
  const hash = kept.filter(Boolean).join("&");
  history.replaceState(
    history.state,
    "",
    `${location.pathname}${location.search}${hash ? `#${hash}` : ""}`,
  );
}
