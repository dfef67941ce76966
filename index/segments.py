"""Immutable index segments: one batch of documents with its own SQLite rows, FAISS index and BM25.

A segment is written once, under `segments/seg-000042/` of the index directory, and never changed:
`segment.json` (counts, FAISS kind, sha256 of every file), `metadata.sqlite`, `vectors.faiss`, `bm25/`.
Generations list the segments they share (see heprag.index.store); deleting or superseding a document
of an older segment is a tombstone in the generation, never a rewrite of the segment.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from heprag.index.faults import crash_point
from heprag.index.keyword import KeywordIndex
from heprag.index.metadata import MetadataStore
from heprag.index.vectors import IndexKind, VectorIndex

SEGMENTS = "segments"
SEGMENT_MANIFEST = "segment.json"
# Builds the FAISS index of a segment from its metadata store, writing any side files into the folder.
VectorBuilder = Callable[[MetadataStore, Path], VectorIndex]


class SegmentInfo(BaseModel):
    name: str
    documents: int
    chunks: int
    faiss_kind: str
    checksums: dict[str, str] = Field(default_factory=dict, description="sha256 of each data file")


def file_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` except its manifests, by relative path."""
    sums = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name not in {SEGMENT_MANIFEST, "manifest.json"}:
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            sums[path.relative_to(folder).as_posix()] = digest.hexdigest()
    return sums


def fsync_tree(folder: Path) -> None:
    for path in [*folder.rglob("*"), folder]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_segment(
    meta: MetadataStore,
    folder: Path,
    dim: int,
    faiss_kind: IndexKind = "auto",
    build_vectors: VectorBuilder | None = None,
    bm25: KeywordIndex | None = None,
) -> SegmentInfo:
    """Finish a segment whose rows are in `meta` (inside `folder`): FAISS, BM25, checksums, fsync.

    `build_vectors(meta, folder)` replaces the in-memory FAISS build; `bm25` a prebuilt keyword index.
    """
    meta.commit()
    if build_vectors is not None:
        vectors = build_vectors(meta, folder)
    else:
        ids, matrix = meta.all_vectors()
        vectors = VectorIndex.build(ids, matrix, dim, faiss_kind)
    vectors.save(folder / "vectors.faiss")
    crash_point("after-faiss-write")
    if bm25 is None:
        text_ids, texts = meta.all_texts()
        bm25 = KeywordIndex.build(texts, text_ids)
    bm25.save(folder / "bm25")
    counts = meta.counts()
    meta.db.execute("PRAGMA journal_mode=DELETE")
    meta.close()
    info = SegmentInfo(
        name=folder.name,
        documents=counts["documents"],
        chunks=counts["chunks"],
        faiss_kind=vectors.kind,
        checksums=file_checksums(folder),
    )
    (folder / SEGMENT_MANIFEST).write_text(info.model_dump_json(indent=2) + "\n")
    fsync_tree(folder)
    return info


class Segment:
    """A read-only open segment, with the tombstones (dead documents) of the generation reading it."""

    def __init__(self, folder: Path, dead_docs: Iterable[str] = ()) -> None:
        self.folder = folder
        self.name = folder.name
        self.info = SegmentInfo.model_validate_json((folder / SEGMENT_MANIFEST).read_text())
        self.meta = MetadataStore(folder / "metadata.sqlite", readonly=True)
        self.dead_docs = frozenset(dead_docs)
        self.dead_rows = np.sort(self.meta.row_ids_of(self.dead_docs)) if self.dead_docs else None
        self._vectors: VectorIndex | None = None
        self._keywords: KeywordIndex | None = None

    @property
    def vectors(self) -> VectorIndex:
        if self._vectors is None:
            self._vectors = VectorIndex.load(self.folder / "vectors.faiss", self.info.faiss_kind)
        return self._vectors

    @property
    def keywords(self) -> KeywordIndex:
        if self._keywords is None:
            self._keywords = KeywordIndex.load(self.folder / "bm25")
        return self._keywords

    def is_live(self, doc_id: str) -> bool:
        return doc_id not in self.dead_docs

    def live_rows(self, rows: np.ndarray) -> np.ndarray:
        """The chunk row ids of `rows` whose document is not a tombstone."""
        if self.dead_rows is None:
            return rows
        return rows[~np.isin(rows, self.dead_rows)]

    def close(self) -> None:
        self.meta.close()


def copy_live_rows(sources: list[Segment], target: MetadataStore) -> None:
    """Copy the live documents and chunks (ids kept) of several segments into one store."""
    for n, seg in enumerate(sources):
        alias = f"src{n}"
        target.db.execute(f"ATTACH DATABASE ? AS {alias}", (f"file:{seg.meta.path}?mode=ro",))
        dead = json.dumps(sorted(seg.dead_docs))
        for table in ("documents", "chunks"):
            target.db.execute(
                f"INSERT INTO main.{table} SELECT * FROM {alias}.{table} "
                "WHERE doc_id NOT IN (SELECT value FROM json_each(?))",
                (dead,),
            )
        target.db.commit()
        target.db.execute(f"DETACH DATABASE {alias}")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
