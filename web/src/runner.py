"""Runs reader cells inside the Pyodide worker.

The worker imports this module once. The cells of a page execute in one shared namespace, like a
notebook; the cells of the next page (instant navigation keeps the worker) get a fresh one. A
failing cell prints a traceback that starts at the reader's code, not at Pyodide's plumbing.
"""

import json
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


def _use_page(page: int) -> None:
    """The first code of another page starts an empty namespace."""
    global NAMESPACE, _page  # noqa: PLW0603 - one namespace per page, replaced whole
    if page != _page:
        NAMESPACE, _page = {"__name__": "__main__"}, page


def run_check(source: str, filename: str, page: int, lang: str) -> str:
    """Run an exercise's check after the reader's code, in the page's namespace.

    Returns JSON: {"status": "passed"}, {"status": "failed", "message": ...} (check.Failed, in the
    page's language `lang`; a NameError becomes "your code does not define `w`"), or
    {"status": "error"} / {"status": "interrupted"} with the traceback on stderr, as for a cell.
    """
    from gradbook.lite import check  # imported at the first Check, not at boot

    _use_page(page)
    _register_source(filename, source)
    try:
        check.set_language(lang)
    except ValueError:
        check.set_language("en")
    try:
        check.run(source, NAMESPACE, filename)
    except check.Failed as err:
        return json.dumps({"status": "failed", "message": str(err)})
    except KeyboardInterrupt:
        print("KeyboardInterrupt", file=sys.stderr)
        return json.dumps({"status": "interrupted"})
    except BaseException as exc:  # noqa: BLE001 - the reader's values may make a check raise anything
        _print_traceback(exc, filename)
        return json.dumps({"status": "error"})
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return json.dumps({"status": "passed"})


def run_cell(source: str, filename: str, page: int = 0) -> str:
    """Execute one cell of page `page`; return "ok", "error" or "interrupted".

    The first cell of another page starts an empty namespace. The value of a trailing expression
    is printed, so `x` on the last line shows x (end the line with `;` to hide it).
    """
    _use_page(page)
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
