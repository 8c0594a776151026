"""A static file server for the built site on 127.0.0.1 that counts the bytes it sends per path.

Counting at the server tells exactly what the browser fetched over the network (a cache hit never
reaches it), including requests made from the cell worker.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from gradbook.serve import MIME_TYPES


class Served:
    """What the server sent, as (path, bytes) pairs in order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[tuple[str, int]] = []

    def add(self, path: str, n: int) -> None:
        with self._lock:
            self._sent.append((path, n))

    def mark(self) -> int:
        """A position to count from later (`since`)."""
        with self._lock:
            return len(self._sent)

    def since(self, mark: int) -> list[tuple[str, int]]:
        with self._lock:
            return list(self._sent[mark:])


class _Handler(SimpleHTTPRequestHandler):
    served: Served
    isolated: bool = False
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def end_headers(self) -> None:
        # What a typical static host sends (GitHub Pages: max-age=600): a reload within ten
        # minutes is served from the browser cache.
        self.send_header("Cache-Control", "max-age=600")
        if self.isolated:  # cross-origin isolation: lets a cell be interrupted in place
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def copyfile(self, source, outputfile) -> None:  # type: ignore[override]
        start = source.tell()
        super().copyfile(source, outputfile)
        self.served.add(self.path.split("?")[0], source.tell() - start)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A browser closed with a download under way (a profile ends while the page, its worker or
        its service worker still fetches): nothing to report. Anything else is printed as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextmanager
def serve(root: Path, isolated: bool = False) -> Iterator[tuple[str, Served]]:
    """Serve `root` on a free port; yield (base URL ending in '/', byte counter).

    `isolated` adds the COOP/COEP headers that make the page cross-origin isolated (a host must
    be configured for that; plain static hosting is not)."""
    served = Served()
    handler = type("Handler", (_Handler,), {"served": served, "isolated": isolated})
    httpd = _Server(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
