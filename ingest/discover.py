"""Finding the files to ingest: a sorted walk with include/exclude globs, a parser per file, and a reason
for every file that is not read (so the report can account for each one)."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from heprag.ingest.sources.base import FileParser, parser_for

# What is not literature: dot-files and VCS folders (.git/, .commits), READMEs, licences, templates.
DEFAULT_EXCLUDE = (".*", "README*", "LICEN[CS]E*", "COPYING*", "*template*.tex", "templates")


@dataclass(frozen=True)
class Found:
    """One file (or a skipped folder) under an ingest root; `skipped` says why it is not read."""

    path: Path
    root: Path
    parser: FileParser | None = None
    skipped: str | None = None

    @property
    def unsupported(self) -> bool:
        return self.parser is None and (self.skipped or "").startswith("unsupported")

    @property
    def relpath(self) -> str:
        """The path relative to the ingest root (posix), the file name for a file given directly."""
        return self.path.relative_to(self.root).as_posix() if self.path != self.root else self.path.name


def matching(rel: str, patterns: Iterable[str]) -> str | None:
    """The first pattern `rel` matches, case-insensitively: a pattern with a '/' against the whole
    relative path, one without against each of its components (so '.*' covers files in '.git/')."""
    lowered = rel.lower()
    parts = lowered.split("/")
    for pattern in patterns:
        p = pattern.lower()
        if fnmatch.fnmatch(lowered, p) or ("/" not in p and any(fnmatch.fnmatch(x, p) for x in parts)):
            return pattern
    return None


def discover(
    paths: Iterable[Path], include: Iterable[str] = (), exclude: Iterable[str] = DEFAULT_EXCLUDE
) -> Iterator[Found]:
    """Every file under `paths` (sorted, symlinks not followed); a file given by name is never excluded."""
    include, exclude = list(include), list(exclude)
    for root in paths:
        if root.is_file():
            yield _with_parser(root, root.parent)
            continue
        for folder, dirs, files in os.walk(root):
            base = Path(folder)
            for name in sorted(dirs):
                rel = (base / name).relative_to(root).as_posix()
                if (base / name).is_symlink() or (pattern := matching(rel, exclude)):
                    dirs.remove(name)
                    why = "a symbolic link (not followed)" if (base / name).is_symlink() else None
                    yield Found(base / name, root, skipped=why or f"folder excluded by '{pattern}'")
            dirs.sort()
            for name in sorted(files):
                path = base / name
                yield _found(path, root, include, exclude)


def _found(path: Path, root: Path, include: list[str], exclude: list[str]) -> Found:
    rel = path.relative_to(root).as_posix()
    if path.is_symlink():
        return Found(path, root, skipped="a symbolic link (not followed)")
    if pattern := matching(rel, exclude):
        return Found(path, root, skipped=f"excluded by '{pattern}'")
    if include and not matching(rel, include):
        return Found(path, root, skipped="not matched by ingest.include")
    return _with_parser(path, root)


def _with_parser(path: Path, root: Path) -> Found:
    parser = parser_for(path)
    return Found(
        path, root, parser, None if parser else f"unsupported file type '{path.suffix or path.name}'"
    )
