"""The speed and size targets of issues 6 and 15, in one place (each a ceiling on the median)."""

from bench.measure import Target

FIGURES_TOTAL_S = Target(300.0)  # clean `make figures`, all chapters
FIGURES_CHAPTER_S = Target(60.0)  # clean, one chapter
FIGURES_NOOP_S = Target(2.0)  # nothing changed
MKDOCS_BUILD_S = Target(20.0)  # both languages
SITE_MB = Target(25.0)  # the whole built site
PAGE_MB = Target(1.0)  # one chapter page without Pyodide (issue 15)
FIRST_OUTPUT_COLD_S = Target(2.0)  # Run -> first output, fresh browser context (issue 15)
FIRST_OUTPUT_WARM_S = Target(1.0)  # the same after a reload, warm HTTP cache (issue 15)
FIRST_OUTPUT_NEXT_PAGE_S = Target(0.5)  # first Run on a second page reached by the nav (issue 15)
STOP_TO_READY_S = Target(2.0)  # Stop on `while True: pass` -> a new Run prints
PYODIDE_OVER_CPYTHON = Target(2.5)  # the same cell's compute time
PAGE_CELLS_PYODIDE_S = Target(10.0)  # all of one page's cells, in order, in Pyodide
PROBES_OVERHEAD = Target(1.10)  # probed fit / plain torch training loop (issue 15)
TESTS_TOTAL_S = Target(600.0)  # `make test`, the whole suite, on 2 cores (issue 15)
THIRD_PARTY = Target(0.0)  # requests to any host but the site's own
