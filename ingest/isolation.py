"""Parsing in a child process with a time and memory cap: a hostile file costs one file, never the run.

A PDF that makes the parser loop, a decompression bomb that slips past a check, or a crash in a C
extension only kills the worker; the parent reports the file as failed and starts a fresh worker.

A worker never outlives its parent (`kill -9` of `heprag ingest`, an OOM kill, a crashed service):
on Linux the kernel sends it SIGKILL when the parent dies (PR_SET_PDEATHSIG); elsewhere, and as a
second line, it notices its parent is gone (re-parented, or its end of the pipe at EOF) and exits.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import resource
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from heprag.index.errors import HepragError, ParseError
from heprag.index.types import Document
from heprag.ingest.sources.base import ParseLimits, parser_for

log = logging.getLogger(__name__)


PR_SET_PDEATHSIG = 1
PARENT_POLL_S = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Make this (child) process die when `parent_pid` does: the kernel's parent-death signal on Linux,
    plus a watcher thread that exits once the process has been re-parented (any platform)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watcher below still applies
            log.debug("prctl(PR_SET_PDEATHSIG) unavailable")

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker(
    conn: Connection, parent_end: Connection, parent_pid: int, limits: ParseLimits, memory_bytes: int
) -> None:
    parent_end.close()  # else this process holds the pipe open itself and never sees the parent's EOF
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it closes the pipe, we exit
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    while True:
        try:
            path = conn.recv()
        except EOFError:
            return
        try:
            parser = parser_for(Path(path))
            if parser is None:
                raise ParseError(path, "no parser for this file type")
            reply: tuple[str, Any] = ("ok", list(parser.parse(Path(path), limits)))
        except HepragError as exc:
            reply = ("error", exc)
        except MemoryError:
            reply = (
                "error",
                ParseError(path, "ran out of memory while parsing (raise ingest.parse_memory_mb)"),
            )
        except Exception as exc:
            reply = ("error", ParseError(path, f"unexpected {type(exc).__name__}: {exc}"))
        try:
            conn.send(reply)
        except OSError:  # the parent is gone (Ctrl-C, killed): nobody to answer
            os._exit(0)


class IsolatedParser:
    """Parses files one at a time in a reusable worker process, with a per-file timeout."""

    def __init__(self, limits: ParseLimits, timeout_s: float = 120.0, memory_mb: int = 4096) -> None:
        self.limits = limits
        self.timeout_s = timeout_s
        self.memory_bytes = memory_mb * 1024 * 1024
        self._ctx = mp.get_context("fork")  # the child inherits the parser registry as it is
        self._proc: Any = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        if self._proc is None or not self._proc.is_alive():
            parent, child = self._ctx.Pipe()
            self._proc = self._ctx.Process(
                target=_worker,
                args=(child, parent, os.getpid(), self.limits, self.memory_bytes),
                daemon=True,
            )
            self._proc.start()
            child.close()
            self._conn = parent
        assert self._conn is not None
        return self._conn

    def parse(self, path: Path) -> list[Document]:
        """The file's Documents; raises ParseError on a timeout, crash or parser error."""
        conn = self._start()
        conn.send(str(path))
        if not conn.poll(self.timeout_s):
            self._kill()
            raise ParseError(
                str(path), f"parsing took longer than {self.timeout_s:.0f} s (ingest.parse_timeout_s)"
            )
        try:
            status, payload = conn.recv()
        except (EOFError, ConnectionResetError):
            code = self._proc.exitcode if self._proc else None
            self._kill()
            raise ParseError(
                str(path), f"the parser crashed (exit code {code}; out of memory? see ingest.parse_memory_mb)"
            ) from None
        if status == "error":
            raise payload
        return payload

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(timeout=5)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.kill()
        self._proc, self._conn = None, None

    def __enter__(self) -> IsolatedParser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
