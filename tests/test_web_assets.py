"""The web-assets hook: refuses to build without `make web`, and copies only what changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from gradbook.site.web_assets import REQUIRED, check_web_build, sync_tree


def make_web_build(root: Path) -> Path:
    for name in REQUIRED:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"// {name}\n")
    return root


def test_missing_bundle_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match=r"run `make web`") as err:
        check_web_build(tmp_path / "build" / "web")
    assert "cells/cells.js" in str(err.value)


def test_complete_bundle_passes(tmp_path: Path) -> None:
    check_web_build(make_web_build(tmp_path / "web"))


def test_sync_copies_new_and_changed_files_only(tmp_path: Path) -> None:
    source = make_web_build(tmp_path / "web")
    target = tmp_path / "site" / "assets" / "web"
    assert sync_tree(source, target) == len(REQUIRED)
    assert (target / "cells" / "cells.js").read_text() == "// cells/cells.js\n"
    assert sync_tree(source, target) == 0  # the second language build copies nothing

    changed = source / "cells" / "cells.js"
    changed.write_text("// rebuilt, longer than before\n")
    os.utime(changed, (1_000_000_000, 1_000_000_000))
    assert sync_tree(source, target) == 1
    assert (target / "cells" / "cells.js").read_text() == "// rebuilt, longer than before\n"
