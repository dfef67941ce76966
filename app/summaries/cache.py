"""Per-document summaries cached by content hash + topic + generator settings, under the index dir.

A key changes whenever anything that shapes the summary changes (the document's content hash, the
topic, the passages it was given, the backend and its settings), so a stale summary is never served.
Entries are written atomically (temp file + rename): an interrupted `--batch` resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_key(*parts: object) -> str:
    """SHA-256 of the JSON of the parts (order matters)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class SummaryCache:
    """JSON entries in `<index dir>/summaries/<kind>/<key[:2]>/<key>.json`."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_index(cls, index_dir: Path, enabled: bool = True) -> SummaryCache:
        return cls(index_dir / "summaries", enabled)

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str) -> Any | None:
        if not self.enabled:
            return None
        path = self._path(kind, key)
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # missing or torn entry: recompute it
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        if not self.enabled:
            return
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(value, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
