"""What `heprag sync` remembers between runs, and the report each run ends with.

One small JSON file per harvest target (endpoint + metadata format + set, or a dump file) lives in
`<index>/sync/`. It holds the date the next incremental harvest starts from and, while a harvest is
under way, the resumption token of the next page not yet in the index; it is rewritten atomically
(temp file, fsync, rename) after every commit, so a killed harvest resumes where the index stopped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from pydantic import BaseModel, Field

from heprag.index.errors import HepragError
from heprag.ingest.report import FileFailure

SYNC_DIR = "sync"


class HarvestState(BaseModel):
    """The resumable state of one harvest target."""

    target: str = Field(description="endpoint|format|set, or dump:<path>")
    last_harvest: str | None = Field(
        default=None,
        description="responseDate of the first request of the last complete harvest: the next `from`",
    )
    granularity: str | None = None
    # A harvest under way (all None when the last one completed):
    from_: str | None = Field(default=None, description="The `from` of the harvest under way")
    until: str | None = None
    started: str | None = Field(default=None, description="responseDate of its first request")
    token: str | None = Field(
        default=None, description="resumptionToken of the next page not yet in the index"
    )
    position: int = Field(default=0, description="Records (OAI) or lines (dump) already in the index")
    dump_signature: str | None = Field(default=None, description="size:mtime of the dump file being read")

    @property
    def in_progress(self) -> bool:
        return self.token is not None or self.position > 0

    @staticmethod
    def path(index_dir: Path, target: str) -> Path:
        digest = hashlib.sha256(target.encode()).hexdigest()[:16]
        return index_dir / SYNC_DIR / f"harvest-{digest}.json"

    @classmethod
    def load(cls, index_dir: Path, target: str) -> HarvestState:
        path = cls.path(index_dir, target)
        if not path.exists():
            return cls(target=target)
        try:
            state = cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise HepragError(f"{path}: unreadable harvest state ({exc}); delete it to start over") from exc
        return state if state.target == target else cls(target=target)

    def save(self, index_dir: Path) -> Path:
        """Write atomically: a crash leaves the old state or the new one, never half of one."""
        path = self.path(index_dir, self.target)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(self.model_dump_json(indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return path

    def finish(self, next_from: str | None) -> None:
        """Mark the harvest complete: the next one starts at `next_from`."""
        self.last_harvest = next_from or self.last_harvest
        self.from_ = self.until = self.started = self.token = self.dump_signature = None
        self.position = 0


class SyncReport(BaseModel):
    """What one `heprag sync` run did; saved as JSON under `<index>/reports/`."""

    started_at: str = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    target: str = ""
    from_: str | None = None
    until: str | None = None
    resumed: bool = False
    requests: int = 0
    records: int = 0
    new: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    superseded: list[str] = Field(default_factory=list, description="Older arXiv versions replaced")
    skipped: list[str] = Field(
        default_factory=list, description="Records not indexed: not literature, or no text to search"
    )
    failed: list[FileFailure] = Field(default_factory=list)
    chunks_written: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        return (
            f"{len(self.new)} new, {len(self.updated)} updated, {len(self.deleted)} deleted, "
            f"{len(self.unchanged)} unchanged, {len(self.failed)} failed"
            + (f", {len(self.skipped)} not literature" if self.skipped else "")
            + (f", {len(self.superseded)} superseded" if self.superseded else "")
            + f" ({self.records} records"
            + ("" if self.target.startswith("dump:") else f", {self.requests} requests")
            + (", resumed" if self.resumed else "")
            + f") in {self.seconds:.1f} s"
        )

    def save(self, index_dir: Path) -> Path:
        folder = index_dir / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = self.started_at.replace(":", "").replace("+0000", "Z")
        path = folder / f"sync-{stamp}.json"
        path.write_text(json.dumps(self.model_dump(), indent=2) + "\n", encoding="utf-8")
        return path
