"""`make pdf`: the book as one PDF per language, printed by Chromium from the built site.

`assemble` gathers the built pages of one language (home, chapters in nav order, checklist,
glossary, references) into one print page: ids made unique per page, links between them made
internal, links to what only the web book has (the playground, source pages, downloads) pointed at
the web book, cells shown as code. `render` serves the site, lets the site's own KaTeX typeset the
math and its Chinese web font load, and prints with Chromium (Playwright's `page.pdf`, tagged, with
an outline of the headings). `python -m gradbook.pdf --site site` writes `site/pdf/gradbook-<lang>.pdf`.
"""
