"""The report every ingestion run ends with: what happened to each document and to each input file."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

FileStatus = Literal["added", "updated", "unchanged", "merged", "superseded", "conflict", "skipped", "failed"]


class FileFailure(BaseModel):
    path: str
    reason: str


class FileOutcome(BaseModel):
    """What became of one input file (or skipped folder)."""

    path: str
    status: FileStatus
    doc_ids: list[str] = Field(default_factory=list, description="The documents its content went into")
    reason: str | None = Field(None, description="Why skipped or failed; what it merged into or clashes with")
    counts: dict[str, int] = Field(
        default_factory=dict, description="Documents per status, for files holding several records"
    )


class Conflict(BaseModel):
    """Two different inputs claiming one identity: both are kept, the later one under `kept_as`."""

    doc_id: str
    path: str
    kept_as: str
    other_path: str


class IngestReport(BaseModel):
    """What one run did to the index; saved as JSON under `<index>/reports/`."""

    started_at: str = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    files_seen: int = 0
    files_parsed: int = 0
    unsupported: list[str] = Field(default_factory=list)
    failed: list[FileFailure] = Field(default_factory=list)
    skipped: list[FileFailure] = Field(
        default_factory=list, description="Files not indexed, with the reason (excluded, no passages, …)"
    )
    warnings: list[FileFailure] = Field(
        default_factory=list, description="Indexed, but with parts left out (e.g. a refused \\input)"
    )
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list, description="Older versions superseded by newer ones")
    conflicts: list[Conflict] = Field(default_factory=list)
    files: list[FileOutcome] = Field(default_factory=list, description="One entry per input file")
    chunks_written: int = 0
    chunks_embedded: int = Field(0, description="Vectors computed (not served from the embedding cache)")
    seconds: dict[str, float] = Field(default_factory=dict)
    generation: str | None = None

    @property
    def documents_indexed(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged)

    def file_counts(self) -> dict[str, int]:
        """Input files per status, e.g. {'added': 3, 'merged': 2, 'skipped': 4}."""
        return dict(Counter(f.status for f in self.files))

    def files_summary(self) -> str:
        """'9 files: 3 added, 2 merged, 4 skipped' (every input file is in one of the counts)."""
        counts = self.file_counts()
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        return f"{len(self.files)} files: {parts or 'none'}"

    def save(self, index_dir: Path) -> Path:
        folder = index_dir / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = self.started_at.replace(":", "").replace("+0000", "Z")
        path = folder / f"ingest-{stamp}.json"
        path.write_text(json.dumps(self.model_dump(), indent=2) + "\n")
        return path
