"""`make bench`: how fast gradbook builds and runs, and how much a reader downloads.

Each module measures one part (figures, site, browser, probes) and returns `Measure`s;
`bench.report` prints them as a table against the targets and writes them as JSON.
"""
