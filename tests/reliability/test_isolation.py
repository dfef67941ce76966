"""A parser that hangs, crashes or eats memory costs one file; the run goes on and reports it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from heprag.index.types import Block, Document
from heprag.ingest.isolation import IsolatedParser
from heprag.ingest.sources.base import FileParser, ParseLimits, register, suffix_is


def _hostile(path: Path, limits: ParseLimits) -> Iterator[Document]:
    behaviour = path.read_text().strip()
    if behaviour == "hang":
        time.sleep(3600)
    if behaviour == "crash":
        os._exit(3)
    if behaviour == "hog":
        _ = bytearray(8 * 1024**3)
    yield Document(doc_id=f"test:{path.stem}", blocks=[Block(text="A perfectly fine logbook note.")])


register(FileParser("hostile-test", suffix_is(".hostile"), _hostile))


def test_hang_crash_and_memory_hog_are_reported_and_the_worker_recovers(tmp_path: Path) -> None:
    files = {name: tmp_path / f"{name}.hostile" for name in ("hang", "crash", "hog", "fine")}
    for name, path in files.items():
        path.write_text(name)
    with IsolatedParser(ParseLimits(), timeout_s=3, memory_mb=1024) as parser:
        outcomes = {}
        for name, path in files.items():
            try:
                outcomes[name] = parser.parse(path)[0].doc_id
            except Exception as exc:
                outcomes[name] = str(exc)
    assert "longer than 3 s" in outcomes["hang"] and "parse_timeout_s" in outcomes["hang"]
    assert "crashed" in outcomes["crash"]
    assert "memory" in outcomes["hog"]
    assert outcomes["fine"] == "test:fine"
