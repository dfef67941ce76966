"""The manifest written with every index generation: what built it and what it holds."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
from pathlib import Path

from pydantic import BaseModel, Field

FORMAT_VERSION = 2  # 2: a generation lists segments (heprag.index.segments) and tombstones


def package_versions() -> dict[str, str]:
    out = {}
    for name in ("heprag", "faiss-cpu", "bm25s", "sentence-transformers", "torch", "pymupdf"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


class EmbeddingInfo(BaseModel):
    model: str = Field(description="Model name or path as configured")
    model_id: str = Field(description="Identity of the vector space (model + document prompt)")
    dim: int
    normalized: bool = True
    max_tokens: int


class Manifest(BaseModel):
    format_version: int = FORMAT_VERSION
    generation: int
    embedding: EmbeddingInfo
    chunking: dict[str, int | str | float]
    faiss_kind: str
    counts: dict[str, int]
    checksums: dict[str, str] = Field(
        default_factory=dict, description="sha256 of each segment's segment.json, by segment name"
    )
    segments: list[str] = Field(default_factory=list, description="Segment folders, oldest first")
    tombstones: dict[str, list[str]] = Field(
        default_factory=dict, description="Deleted or superseded documents, by the segment holding them"
    )
    next_row: int = Field(1, description="The chunk row id the next segment starts from")
    versions: dict[str, str] = Field(default_factory=package_versions)
    built_at: str = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.model_dump(), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls.model_validate_json(path.read_text())
