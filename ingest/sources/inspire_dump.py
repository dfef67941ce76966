"""INSPIRE's literature dump: JSON lines (optionally gzipped), streamed one record at a time.

A dump holds ~1.5 M records, far more than fits in memory as Documents; `read_dump` decompresses and
decodes line by line, so memory stays that of one record. Each line is an INSPIRE literature record
(`{"id", "metadata": {...}}` as the REST API returns it, or the bare metadata); one with
`"deleted": true` is a tombstone. Lines are mapped by the INSPIRE JSON mapping of
`heprag.ingest.sources.inspire`.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from heprag.index.errors import ParseError
from heprag.index.types import Document
from heprag.ingest.sources.inspire import json_document

MAX_LINE_CHARS = 64_000_000  # INSPIRE's largest records (thousands of authors) are a few MB


@dataclass
class DumpEntry:
    """One line of the dump: a Document, a deleted recid, or why the line was not usable."""

    line: int
    document: Document | None = None
    deleted: str | None = None  # doc id of a tombstone
    problem: str | None = None
    not_literature: bool = False


def _open(path: Path) -> IO[str]:
    with path.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    if gz:
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def read_dump(path: Path, skip_lines: int = 0) -> Iterator[DumpEntry]:
    """Stream the dump's records from line `skip_lines + 1` on (earlier lines are read but not decoded)."""
    try:
        handle = _open(path)
    except OSError as exc:
        raise ParseError(str(path), f"cannot open the dump ({exc})") from exc
    with handle:
        number = 0
        try:
            while line := handle.readline(MAX_LINE_CHARS + 1):
                number += 1
                if number <= skip_lines:
                    continue
                if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                    while (rest := handle.readline(1 << 20)) and not rest.endswith("\n"):
                        pass
                    yield DumpEntry(number, problem=f"longer than {MAX_LINE_CHARS:,} characters")
                elif line.strip():
                    yield _entry(number, line)
        except (OSError, EOFError) as exc:
            raise ParseError(str(path), f"truncated or corrupt after line {number} ({exc})") from exc


def _entry(number: int, line: str) -> DumpEntry:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return DumpEntry(number, problem=f"invalid JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(record, dict):
        return DumpEntry(number, problem="not a JSON object")
    meta = record.get("metadata", record)
    if not isinstance(meta, dict):
        return DumpEntry(number, problem="metadata is not an object")
    recid = str(meta.get("control_number") or record.get("id") or "")
    if meta.get("deleted") or record.get("deleted"):
        return DumpEntry(number, deleted=f"inspire:{recid}") if recid else DumpEntry(number, problem="no id")
    try:
        doc = json_document(record)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return DumpEntry(number, problem=f"malformed INSPIRE record ({type(exc).__name__}: {exc})"[:300])
    if doc is None:
        return DumpEntry(number, not_literature=True, problem=f"inspire:{recid or '?'} has no title")
    return DumpEntry(number, document=doc)
