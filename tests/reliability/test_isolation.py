"""A parser that hangs, crashes or eats memory costs one file; the run goes on and reports it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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


PARENT = """
import os, sys, time
from pathlib import Path
from tests.reliability.test_isolation import *  # registers the .hostile parser
from heprag.ingest.isolation import IsolatedParser

parser = IsolatedParser(ParseLimits(), timeout_s=3600)
parser.parse(Path(sys.argv[1]))  # starts the worker; it then waits for the next file
if sys.argv[2] == "busy":
    parser._conn.send(sys.argv[3])  # the worker is now inside a parse that never ends
print(parser._proc.pid, flush=True)
time.sleep(3600)
"""


def _alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a dead child nobody has reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to see the worker")
@pytest.mark.parametrize("worker_state", ["idle", "busy"])
def test_a_worker_dies_with_its_parent_when_the_parent_is_killed(tmp_path: Path, worker_state: str) -> None:
    fine, hang = tmp_path / "fine.hostile", tmp_path / "hang.hostile"
    fine.write_text("fine")
    hang.write_text("hang")
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(fine), worker_state, str(hang)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    worker = 0
    try:
        worker = int(parent.stdout.readline())  # type: ignore[union-attr]
        time.sleep(0.5)
        assert _alive(worker)
        parent.send_signal(signal.SIGKILL)  # like `kill -9 heprag ingest`
        parent.wait(timeout=30)
        deadline = time.monotonic() + 5
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), f"the {worker_state} parse worker {worker} outlived its killed parent"
    finally:
        parent.kill()
        parent.wait(timeout=30)
        if worker and _alive(worker):  # a failed run leaves no orphan behind
            os.kill(worker, signal.SIGKILL)
