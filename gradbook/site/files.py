"""Static files that the hooks add to the site from outside docs/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files


class CopyOnceFile(File):
    """A file copied only when the site's copy is missing or older than the source.

    static-i18n runs one full build per language into the same site directory; without this every
    language build would copy the same figures and fonts again.
    """

    def copy_file(self, dirty: bool = False) -> None:
        super().copy_file(dirty=True)


def add_tree(files: Files, config: Any, src_dir: Path, pattern: str, dest_prefix: str) -> int:
    """Add every file of src_dir matching pattern at ``dest_prefix/<relative path>``; return count.

    The file's src_uri is its site path, so pages link to it as if it lived in docs/ there.
    """
    count = 0
    for path in sorted(src_dir.glob(pattern)):
        if not path.is_file():
            continue
        uri = f"{dest_prefix}/{path.relative_to(src_dir).as_posix()}"
        f = CopyOnceFile(
            uri,
            src_dir=None,
            dest_dir=config.site_dir,
            use_directory_urls=config.use_directory_urls,
        )
        f.abs_src_path = str(path)
        files.append(f)
        count += 1
    return count
