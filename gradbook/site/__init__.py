"""MkDocs hooks for the book, one job per module (figures, numbers, source pages, cells, web assets)."""
