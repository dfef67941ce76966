"""The parser interface every source implements, and the registry that picks one per file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from heprag.index.errors import LimitExceededError
from heprag.index.types import Document


@dataclass(frozen=True)
class ParseLimits:
    """Safety limits for untrusted input; exceeding one raises LimitExceededError naming the setting."""

    max_file_bytes: int = 200_000_000
    max_pages: int = 3_000
    max_archive_members: int = 5_000
    max_decompressed_bytes: int = 500_000_000
    max_line_chars: int = 4_000_000
    max_records_per_file: int = 1_000_000


ParseFn = Callable[[Path, ParseLimits], Iterator[Document]]


@dataclass(frozen=True)
class FileParser:
    """A parser for one kind of local file.

    `parse` yields one or more Documents per file (a JSONL export or an ELOG `.log` file holds many)
    and raises `ParseError` (with path and reason) when the file is unusable, `LimitExceededError`
    when it breaks one of the `ParseLimits`.
    """

    name: str
    matches: Callable[[Path], bool]
    parse: ParseFn


_REGISTRY: list[FileParser] = []


def register(parser: FileParser) -> FileParser:
    """Add a parser; later registrations win over earlier ones for the same file."""
    _REGISTRY.insert(0, parser)
    return parser


def parser_for(path: Path) -> FileParser | None:
    """The parser that handles `path`, or None when heprag does not read such files."""
    from heprag.ingest.sources import load_builtin_parsers

    load_builtin_parsers()
    return next((p for p in _REGISTRY if p.matches(path)), None)


def suffix_is(*suffixes: str) -> Callable[[Path], bool]:
    """A `matches` predicate on (case-insensitive) file name endings."""
    lowered = tuple(s.lower() for s in suffixes)
    return lambda path: path.name.lower().endswith(lowered)


def check_file_size(path: Path, limits: ParseLimits) -> None:
    """Raise LimitExceededError when `path` is larger than `limits.max_file_bytes`."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise LimitExceededError(
            f"{path}: {size:,} bytes exceeds the limit of {limits.max_file_bytes:,} "
            "(raise ingest.max_file_bytes to accept it)"
        )
