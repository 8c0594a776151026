"""The book's MkDocs plugin and the page transforms it applies (see plugin.py for the order)."""
