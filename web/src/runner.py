"""Runs reader cells inside the Pyodide worker.

The worker imports this module once. The cells of a page execute in one shared namespace, like a
notebook; the cells of the next page (instant navigation keeps the worker) get a fresh one. A
failing cell prints a traceback that starts at the reader's code, not at Pyodide's plumbing.
"""

import linecache
import sys
import traceback

from pyodide.code import eval_code

NAMESPACE: dict = {"__name__": "__main__"}
_page = 0  # whose namespace NAMESPACE is (the kernel's page counter)

# Pyodide's stdout is not a tty, so Python would hold printed lines in an 8 kB buffer until the cell
# ends; line buffering hands every line to the worker at once, so progress shows while code runs.
for _stream in (sys.stdout, sys.stderr):
    if hasattr(_stream, "reconfigure"):
        _stream.reconfigure(line_buffering=True)


def _register_source(filename: str, source: str) -> None:
    """Let tracebacks quote the reader's lines, as they would for a file on disk."""
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)


def _print_traceback(exc: BaseException, filename: str) -> None:
    """Print exc without the frames above the cell (eval_code and friends)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    exc.__traceback__ = tb
    traceback.print_exception(exc, file=sys.stderr)


def _is_chart_spec(value: object) -> bool:
    """charts.line/bar return their spec; a cell ending in a chart call should show the chart only."""
    return isinstance(value, dict) and value.get("kind") in ("line", "bar") and "series" in value


def run_cell(source: str, filename: str, page: int = 0) -> str:
    """Execute one cell of page `page`; return "ok", "error" or "interrupted".

    The first cell of another page starts an empty namespace. The value of a trailing expression
    is printed, so `x` on the last line shows x (end the line with `;` to hide it).
    """
    global NAMESPACE, _page  # noqa: PLW0603 - one namespace per page, replaced whole
    if page != _page:
        NAMESPACE, _page = {"__name__": "__main__"}, page
    _register_source(filename, source)
    try:
        result = eval_code(source, NAMESPACE, filename=filename)
        if result is not None and not _is_chart_spec(result):
            print(repr(result))
    except KeyboardInterrupt:
        print("KeyboardInterrupt", file=sys.stderr)
        return "interrupted"
    except BaseException as exc:  # noqa: BLE001 - a cell may raise anything, SystemExit included
        _print_traceback(exc, filename)
        return "error"
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return "ok"
