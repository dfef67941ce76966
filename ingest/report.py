"""The report every ingestion run ends with: added / updated / unchanged / failed, with reasons."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, Field


class FileFailure(BaseModel):
    path: str
    reason: str


class IngestReport(BaseModel):
    """What one run did to the index; saved as JSON under `<index>/reports/`."""

    started_at: str = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    files_seen: int = 0
    files_parsed: int = 0
    unsupported: list[str] = Field(default_factory=list)
    failed: list[FileFailure] = Field(default_factory=list)
    skipped: list[FileFailure] = Field(
        default_factory=list, description="Parsed, but nothing to index (e.g. no passages); not added"
    )
    warnings: list[FileFailure] = Field(
        default_factory=list, description="Indexed, but with parts left out (e.g. a refused \\input)"
    )
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list, description="Older versions superseded by newer ones")
    chunks_written: int = 0
    chunks_embedded: int = Field(0, description="Vectors computed (not served from the embedding cache)")
    seconds: dict[str, float] = Field(default_factory=dict)
    generation: str | None = None

    @property
    def documents_indexed(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged)

    def save(self, index_dir: Path) -> Path:
        folder = index_dir / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = self.started_at.replace(":", "").replace("+0000", "Z")
        path = folder / f"ingest-{stamp}.json"
        path.write_text(json.dumps(self.model_dump(), indent=2) + "\n")
        return path
