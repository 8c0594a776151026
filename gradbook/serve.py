"""Serve the built site locally, cross-origin isolated, so Stop can interrupt a cell in place.

    python -m gradbook.serve site --host 127.0.0.1 --port 8000

A plain static server works too, but without the two COOP/COEP headers the page is not
cross-origin isolated: there is no SharedArrayBuffer to signal Python with, so Stop has to replace
the interpreter (the cells then restart on a standby worker and lose their variables). Everything
the site loads is same-origin, which is what `Cross-Origin-Embedder-Policy: require-corp` asks for.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}

# Types the stdlib table may miss or get wrong on some systems; .wasm must be application/wasm for
# the browser to compile Pyodide while it downloads (WebAssembly.instantiateStreaming).
MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".woff2": "font/woff2",
    ".ipynb": "application/json",
}


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files plus the isolation headers; every response is revalidated, never stale."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    isolated = True  # False serves the site as a plain static host would (no COOP/COEP)
    quiet = False

    def end_headers(self) -> None:
        if self.isolated:
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)
        # A rebuilt site shows up on the next reload: the browser asks again (If-Modified-Since) and
        # gets a cheap 304 for unchanged files, such as Pyodide's 10 MB runtime.
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def make_server(
    root: Path, host: str, port: int, *, isolated: bool = True, quiet: bool = False
) -> ThreadingHTTPServer:
    """A server for root on host:port (port 0 picks a free one); call serve_forever() on it."""
    handler = type("Handler", (SiteHandler,), {"isolated": isolated, "quiet": quiet})
    return ThreadingHTTPServer((host, port), partial(handler, directory=str(root)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gradbook.serve", description=__doc__.split("\n")[0]
    )
    parser.add_argument("root", type=Path, help="the built site (make site)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if not (args.root / "index.html").is_file():
        parser.error(f"{args.root} has no index.html: build the site first (make site)")
    server = make_server(args.root, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"Serving {args.root} on http://{host}:{port}/ (cross-origin isolated; Ctrl-C stops)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
