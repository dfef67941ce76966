"""An index directory of immutable segments and generations, published atomically; one writer, many readers.

Layout: `segments/seg-000042/` hold the data (heprag.index.segments: SQLite rows, FAISS, BM25, each
written once); `gen-000007/manifest.json` lists the segments of one generation and its tombstones
(documents deleted or superseded in an older segment); `CURRENT` names the live generation. A writer puts
new documents into a new segment, renames it into place, then publishes a generation listing the old
segments plus the new one and atomically replaces `CURRENT`: adding N documents writes O(N) bytes, never
a copy of what is already indexed. A crash at any point leaves the previous generation intact (an
unreferenced segment is removed by the next writer), and readers keep the generation they opened until
they `refresh()`.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from heprag.index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from heprag.index.faults import crash_point
from heprag.index.keyword import KeywordIndex
from heprag.index.manifest import EmbeddingInfo, Manifest
from heprag.index.metadata import MetadataStore
from heprag.index.segmented import SegmentedKeywords, SegmentedStore, SegmentedVectors
from heprag.index.segments import (
    SEGMENT_MANIFEST,
    SEGMENTS,
    Segment,
    VectorBuilder,
    fsync_tree,
    remove_tree,
    write_segment,
)
from heprag.index.types import Chunk, Document
from heprag.index.vectors import IndexKind

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
KEEP_GENERATIONS = 2
__all__ = ["CURRENT", "CorpusIndex", "IndexWriter", "VectorBuilder", "current_generation", "point_current"]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def point_current(index_dir: Path, name: str) -> None:
    """Atomically make generation `name` the live one (write a temp pointer, fsync, rename)."""
    pointer_tmp = index_dir / f".{CURRENT}.tmp"
    pointer_tmp.write_text(name + "\n")
    with open(pointer_tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(pointer_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / CURRENT
    if not pointer.exists():
        return None
    gen = index_dir / pointer.read_text().strip()
    if not gen.is_dir():
        raise IndexCorruptError(f"{pointer} names {gen.name}, which is missing; run `heprag index repair`")
    return gen


def read_manifest(generation: Path) -> Manifest:
    manifest = Manifest.read(generation / "manifest.json")
    if manifest.format_version < 2:
        raise IndexMismatchError(
            f"{generation.parent} was written by an older heprag (format {manifest.format_version}); "
            "re-ingest into a new --index directory"
        )
    return manifest


def open_segments(index_dir: Path, manifest: Manifest) -> list[Segment]:
    return [Segment(index_dir / SEGMENTS / n, manifest.tombstones.get(n, ())) for n in manifest.segments]


def segment_digest(folder: Path) -> str:
    return hashlib.sha256((folder / SEGMENT_MANIFEST).read_bytes()).hexdigest()


class CorpusIndex:
    """A read-only view of one published generation: metadata, dense and BM25 search over its segments."""

    def __init__(self, index_dir: Path, generation: Path, nprobe: int = 64, ef_search: int = 128) -> None:
        self.index_dir = index_dir
        self.generation = generation
        self.manifest = read_manifest(generation)
        self.segments = open_segments(index_dir, self.manifest)
        for seg in self.segments:  # load now: a reader holds whole segments, never half of one
            seg.vectors, seg.keywords  # noqa: B018
        self.meta = SegmentedStore(self.segments)
        self.vectors = SegmentedVectors(self.segments, nprobe, ef_search)
        self.keywords = SegmentedKeywords(self.segments)

    @classmethod
    def open(
        cls, index_dir: Path, expected_model_id: str | None = None, nprobe: int = 64, ef_search: int = 128
    ) -> CorpusIndex:
        """Open the live generation; a different embedding model is an error, never silent garbage."""
        gen = current_generation(index_dir)
        if gen is None:
            raise IndexMissingError(
                f"no index at {index_dir}; build one with `heprag --index {index_dir} ingest PATH` "
                "(or point --index / HEPRAG_INDEX_DIR at an existing one)"
            )
        index = cls(index_dir, gen, nprobe, ef_search)
        built = index.manifest.embedding.model_id
        if expected_model_id is not None and built != expected_model_id:
            index.close()
            raise IndexMismatchError(
                f"the index at {index_dir} was built with embedding model {built!r} but the settings say "
                f"{expected_model_id!r}; set embedding.model to the index's model "
                "or rebuild into a new --index"
            )
        return index

    def is_stale(self) -> bool:
        """True when a newer generation has been published since this one was opened."""
        gen = current_generation(self.index_dir)
        return gen is not None and gen != self.generation

    def close(self) -> None:
        self.meta.close()


class WriterStore:
    """What a writer sees: the live documents of the previous generation plus the new segment's.

    Replacing or deleting a document of an older segment records a tombstone; one of the new segment is
    deleted from it. Every look-up is by document id, so a write costs what it touches.
    """

    def __init__(self, base: list[Segment], new: MetadataStore, tombstones: dict[str, set[str]]) -> None:
        self.base = SegmentedStore(base)
        self.new = new
        self.tombstones = tombstones

    def state_of(self, doc_id: str) -> tuple[str, str] | None:
        return self.new.state_of(doc_id) or self.base.state_of(doc_id)

    def ids_with_prefix(self, prefix: str) -> list[str]:
        return sorted(set(self.new.ids_with_prefix(prefix)) | set(self.base.ids_with_prefix(prefix)))

    def document_state(self) -> dict[str, tuple[str, str]]:
        return {**self.base.document_state(), **self.new.document_state()}

    def delete(self, doc_id: str) -> bool:
        if self.new.delete(doc_id):
            return True
        owner = self.base._owner(doc_id)
        if owner is None:
            return False
        self.tombstones.setdefault(owner.name, set()).add(doc_id)
        owner.dead_docs = owner.dead_docs | {doc_id}
        return True

    def upsert(self, doc: Document, chunks: list[Chunk], vectors: np.ndarray, chunk_settings: str) -> None:
        self.delete(doc.doc_id)
        self.new.upsert(doc, chunks, vectors, chunk_settings)

    def commit(self) -> None:
        self.new.commit()


def _number(path: Path) -> int:
    tail = path.name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class IndexWriter:
    """Writes new documents into a new segment and tombstones into the next generation; `publish()`."""

    def __init__(
        self, index_dir: Path, embedding: EmbeddingInfo, chunking: dict[str, int | str | float]
    ) -> None:
        self.index_dir = index_dir
        self.embedding = embedding
        self.chunking = chunking
        (index_dir / SEGMENTS).mkdir(parents=True, exist_ok=True)
        self._lock = open(index_dir / ".lock", "w")  # noqa: SIM115 - held for the writer's lifetime
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._remove_leftovers()
        self.previous = current_generation(index_dir)
        manifest = read_manifest(self.previous) if self.previous else None
        if manifest and manifest.embedding.model_id != embedding.model_id:
            self._release()
            raise IndexMismatchError(
                f"{index_dir} holds vectors of {manifest.embedding.model_id!r}, not {embedding.model_id!r}; "
                "ingest into a new --index directory or switch embedding.model back"
            )
        self.segment_names = list(manifest.segments) if manifest else []
        self.tombstones = {k: set(v) for k, v in manifest.tombstones.items()} if manifest else {}
        self.base = open_segments(index_dir, manifest) if manifest else []
        gens = [_number(p) for p in index_dir.glob("gen-*")]
        segs = [_number(p) for p in (index_dir / SEGMENTS).glob("seg-*")]
        self.name = f"gen-{max(gens, default=0) + 1:06d}"
        self.segment = f"seg-{max(segs, default=0) + 1:06d}"
        self.tmp_segment = index_dir / SEGMENTS / f".tmp-{self.segment}"
        self.tmp_segment.mkdir()
        first_row = manifest.next_row if manifest else 1
        self.store = MetadataStore(self.tmp_segment / "metadata.sqlite", first_row=first_row)
        self.meta = WriterStore(self.base, self.store, self.tombstones)

    def drop_segments(self, names: list[str]) -> None:
        """Leave segments out of the next generation (their live rows were copied: compaction)."""
        self.segment_names = [n for n in self.segment_names if n not in names]
        for name in names:
            self.tombstones.pop(name, None)

    def publish(
        self,
        faiss_kind: IndexKind = "auto",
        build_vectors: VectorBuilder | None = None,
        keywords: KeywordIndex | None = None,
    ) -> Path:
        """Finish the new segment (FAISS, BM25, checksums), write the generation and make it live.

        `build_vectors(meta, folder)` replaces the in-memory FAISS build (e.g. IVF-PQ streamed to disk);
        `keywords` a BM25 index built in bulk (benchmarks/index_scale.py).
        """
        self.store.commit()
        next_row = self.store.next_row
        crash_point("after-metadata-write")
        names = list(self.segment_names)
        if self.store.counts()["documents"]:
            write_segment(
                self.store, self.tmp_segment, self.embedding.dim, faiss_kind, build_vectors, keywords
            )
            os.replace(self.tmp_segment, self.index_dir / SEGMENTS / self.segment)
            _fsync_dir(self.index_dir / SEGMENTS)
            names.append(self.segment)
        else:
            self.store.close()
            remove_tree(self.tmp_segment)
        tombstones = {n: sorted(d) for n, d in sorted(self.tombstones.items()) if n in names and d}
        manifest = Manifest(
            generation=_number(Path(self.name)),
            embedding=self.embedding,
            chunking=self.chunking,
            faiss_kind="flat",
            counts={},
            checksums={n: segment_digest(self.index_dir / SEGMENTS / n) for n in names},
            segments=names,
            tombstones=tombstones,
            next_row=next_row,
        )
        live = open_segments(self.index_dir, manifest)
        view = SegmentedStore(live)
        manifest.counts = view.counts()
        manifest.faiss_kind = max(live, key=lambda s: s.info.chunks).info.faiss_kind if live else "flat"
        view.close()
        tmp = self.index_dir / f".tmp-{self.name}"
        tmp.mkdir()
        manifest.write(tmp / "manifest.json")
        fsync_tree(tmp)
        final = self.index_dir / self.name
        os.replace(tmp, final)
        crash_point("before-current-swap")
        point_current(self.index_dir, self.name)
        crash_point("after-current-swap")
        self._close_base()
        self._prune()
        self._release()
        return final

    def abort(self) -> None:
        """Drop the unpublished segment; the live generation is untouched."""
        self.store.close()
        self._close_base()
        remove_tree(self.tmp_segment)
        self._release()

    def _close_base(self) -> None:
        for seg in self.base:
            seg.close()

    def _referenced(self) -> set[str]:
        names: set[str] = set()
        for gen in self.index_dir.glob("gen-*"):
            try:
                names.update(Manifest.read(gen / "manifest.json").segments)
            except Exception:  # an unreadable generation references nothing we can trust
                continue
        return names

    def _remove_leftovers(self) -> None:
        """Temp folders and segments no generation lists: what a crashed writer left behind."""
        for stale in [*self.index_dir.glob(".tmp-gen-*"), *(self.index_dir / SEGMENTS).glob(".tmp-*")]:
            remove_tree(stale)
        referenced = self._referenced()
        for seg in (self.index_dir / SEGMENTS).glob("seg-*"):
            if seg.name not in referenced:
                remove_tree(seg)

    def _prune(self) -> None:
        generations = sorted(p for p in self.index_dir.glob("gen-*") if p.is_dir())
        for old in generations[:-KEEP_GENERATIONS]:
            shutil.rmtree(old, ignore_errors=True)
        referenced = self._referenced()
        for seg in (self.index_dir / SEGMENTS).glob("seg-*"):
            if seg.name not in referenced:
                remove_tree(seg)

    def _release(self) -> None:
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
