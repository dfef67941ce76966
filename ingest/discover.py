"""Finding the files to ingest: recursive walk with include/exclude globs and a parser per file."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from pathlib import Path

from heprag.ingest.sources.base import FileParser, parser_for


def _matches(path: Path, patterns: Iterable[str]) -> bool:
    text = path.as_posix()
    return any(fnmatch.fnmatch(text, p) or fnmatch.fnmatch(path.name, p) for p in patterns)


def discover(
    paths: Iterable[Path], include: Iterable[str] = (), exclude: Iterable[str] = ()
) -> Iterator[tuple[Path, FileParser | None]]:
    """Every file under `paths` (sorted, symlinks not followed) with its parser, or None if unsupported."""
    include, exclude = list(include), list(exclude)
    for root in paths:
        candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in candidates:
            if path.is_symlink() or (path != root and _matches(path.relative_to(root), exclude)):
                continue
            if include and not _matches(path, include):
                continue
            yield path, parser_for(path)
