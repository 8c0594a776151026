"""gradbook.serve: the isolation headers, the MIME types Pyodide needs, and revalidated caching."""

from __future__ import annotations

import threading
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from gradbook.serve import main, make_server


def fetch(url: str) -> tuple[int, Message, bytes]:
    """Status, headers (case-insensitive) and body."""
    with urllib.request.urlopen(url) as response:
        return response.status, response.headers, response.read()


def test_files_come_with_isolation_headers_and_the_right_types(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>hi</p>", encoding="utf-8")
    (tmp_path / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0")
    (tmp_path / "pyodide.mjs").write_text("export {};", encoding="utf-8")
    server = make_server(tmp_path, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        for name, mime in [
            ("", "text/html"),
            ("pyodide.asm.wasm", "application/wasm"),
            ("pyodide.mjs", "text/javascript"),
        ]:
            status, headers, body = fetch(base + name)
            assert status == 200 and body
            assert headers["Content-Type"].split(";")[0] == mime
            assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
            assert headers["Cache-Control"] == "no-cache"
            assert "Last-Modified" in headers  # so a reload revalidates with a cheap 304
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_refuses_a_directory_without_a_site(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--port", "0"])
