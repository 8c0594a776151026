"""The loop that runs a page's cells: in order, in one fresh namespace, timed, charts caught.

This file is standalone on purpose (standard library and gradbook.lite only): `bench.cells` imports
it on CPython and sends its text to Pyodide, so both interpreters run the very same loop.
"""

import json
import linecache
import time

from gradbook.lite import charts


def run(sources: list[str], name: str = "cell", keep_going: bool = False) -> dict:
    """Run `sources` like a page does: one shared namespace, earlier cells first.

    Returns {"seconds": compute time of the loop, "charts": the specs drawn, "errors": ["Type:
    message (cell i)", ...]}. Without `keep_going` the first failing cell's exception propagates;
    with it, a failing cell (some fail on purpose) is recorded and the next one runs.
    """
    drawn: list[str] = []
    errors: list[str] = []
    namespace: dict = {"__name__": "__main__"}
    charts.set_sink(drawn.append)
    start = time.perf_counter()
    try:
        for i, source in enumerate(sources):
            filename = f"{name}:cell{i}"
            # tracebacks quote the cell's lines, as the page's runner does
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            try:
                exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the book's cells
            except Exception as err:
                if not keep_going:
                    raise
                errors.append(f"{type(err).__name__}: {err} (cell {i})")
    finally:
        seconds = time.perf_counter() - start
        charts.reset_sink()
    return {"seconds": seconds, "charts": [json.loads(s) for s in drawn], "errors": errors}
