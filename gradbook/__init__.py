"""gradbook: shared code for the chapters of the book.

Kept import-free on purpose: `gradbook.lite` ships to the browser in a wheel together with this file,
and `make figures` must be able to look at the package without importing torch.
"""
