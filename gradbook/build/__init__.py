"""`make figures`: find chapters, hash their inputs, rerun the stale ones, record a manifest."""
