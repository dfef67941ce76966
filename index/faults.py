"""Fault injection for crash-safety tests: `HEPRAG_FAULT_INJECT=<point>` SIGKILLs the process there.

The points mark the moments where a crash could leave partial state behind; the reliability suite
kills ingestion at each of them and checks that the index still opens, verifies and completes.
"""

from __future__ import annotations

import os
import signal

ENV = "HEPRAG_FAULT_INJECT"
POINTS = (
    "after-parse",
    "mid-embedding",
    "after-metadata-write",
    "after-faiss-write",
    "before-current-swap",
    "after-current-swap",
)


def crash_point(name: str) -> None:
    """Die here, abruptly, if the environment asks for it (a no-op otherwise)."""
    assert name in POINTS, name
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
