"""An index directory of immutable generations, published atomically; one writer, many readers.

Layout: `CURRENT` names the live generation directory (`gen-000007/`), which holds `manifest.json`,
`metadata.sqlite` (documents, chunks, vectors: the source of truth), `vectors.faiss` and `bm25/`.
A writer builds the next generation in a temp directory and publishes it by renaming it into place
and then atomically replacing `CURRENT`; a crash at any point leaves the previous generation intact,
and readers keep the generation they opened until they `refresh()`.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from heprag.index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from heprag.index.faults import crash_point
from heprag.index.keyword import KeywordIndex
from heprag.index.manifest import EmbeddingInfo, Manifest
from heprag.index.metadata import MetadataStore
from heprag.index.vectors import IndexKind, VectorIndex

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
# Builds the FAISS index of a generation from its metadata store, writing any side files into the folder.
VectorBuilder = Callable[[MetadataStore, Path], VectorIndex]
KEEP_GENERATIONS = 2


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


class CorpusIndex:
    """A read-only view of one published generation: metadata, FAISS and BM25."""

    def __init__(self, index_dir: Path, generation: Path) -> None:
        self.index_dir = index_dir
        self.generation = generation
        self.manifest = Manifest.read(generation / "manifest.json")
        self.meta = MetadataStore(generation / "metadata.sqlite", readonly=True)
        self.vectors = VectorIndex.load(generation / "vectors.faiss", self.manifest.faiss_kind)
        self.keywords = KeywordIndex.load(generation / "bm25")

    @classmethod
    def open(cls, index_dir: Path, expected_model_id: str | None = None) -> CorpusIndex:
        """Open the live generation; a different embedding model is an error, never silent garbage."""
        gen = current_generation(index_dir)
        if gen is None:
            raise IndexMissingError(
                f"no index at {index_dir}; build one with `heprag --index {index_dir} ingest PATH` "
                "(or point --index / HEPRAG_INDEX_DIR at an existing one)"
            )
        index = cls(index_dir, gen)
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


class IndexWriter:
    """Builds the next generation from the current one; `publish()` makes it live atomically."""

    def __init__(
        self, index_dir: Path, embedding: EmbeddingInfo, chunking: dict[str, int | str | float]
    ) -> None:
        self.index_dir = index_dir
        self.embedding = embedding
        self.chunking = chunking
        index_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(index_dir / ".lock", "w")  # noqa: SIM115 - held for the writer's lifetime
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        for stale in index_dir.glob(".tmp-gen-*"):
            shutil.rmtree(stale, ignore_errors=True)
        self.previous = current_generation(index_dir)
        taken = [int(p.name.split("-")[1]) for p in index_dir.glob("gen-*") if p.name.split("-")[1].isdigit()]
        number = max(taken, default=0) + 1
        self.name = f"gen-{number:06d}"
        self.tmp = index_dir / f".tmp-{self.name}"
        self.tmp.mkdir()
        if self.previous:
            previous_manifest = Manifest.read(self.previous / "manifest.json")
            previous_model = previous_manifest.embedding.model_id
            if previous_model != embedding.model_id:
                self.abort()
                raise IndexMismatchError(
                    f"{index_dir} holds vectors of {previous_model!r}, not {embedding.model_id!r}; "
                    "ingest into a new --index directory or switch embedding.model back"
                )
            recorded = previous_manifest.checksums.get("metadata.sqlite")
            if recorded and file_sha256(self.previous / "metadata.sqlite") != recorded:
                self.abort()  # building on it would launder the damage into a generation that verifies
                raise IndexCorruptError(
                    f"the live generation {self.previous.name} of {index_dir} is damaged: its "
                    "metadata.sqlite no longer matches the checksum in its manifest; run "
                    "`heprag index repair`, which restores from an intact generation"
                )
            _copy_sqlite(self.previous / "metadata.sqlite", self.tmp / "metadata.sqlite")
        self.meta = MetadataStore(self.tmp / "metadata.sqlite")

    def publish(self, faiss_kind: IndexKind = "auto", build_vectors: VectorBuilder | None = None) -> Path:
        """Build FAISS and BM25 from the metadata, write the manifest and make the generation live.

        `build_vectors(meta, folder)` replaces the in-memory FAISS build (e.g. IVF-PQ streamed to disk).
        """
        self.meta.commit()
        crash_point("after-metadata-write")
        if build_vectors is not None:
            vector_index = build_vectors(self.meta, self.tmp)
        else:
            ids, vectors = self.meta.all_vectors()
            vector_index = VectorIndex.build(ids, vectors, self.embedding.dim, faiss_kind)
        vector_index.save(self.tmp / "vectors.faiss")
        crash_point("after-faiss-write")
        text_ids, texts = self.meta.all_texts()
        KeywordIndex.build(texts, text_ids).save(self.tmp / "bm25")
        counts = self.meta.counts()
        self.meta.db.execute("PRAGMA journal_mode=DELETE")
        self.meta.close()
        Manifest(
            generation=int(self.name.split("-")[1]),
            embedding=self.embedding,
            chunking=self.chunking,
            faiss_kind=vector_index.kind,
            counts=counts,
            checksums=data_checksums(self.tmp),
        ).write(self.tmp / "manifest.json")
        for path in self.tmp.rglob("*"):
            if path.is_file():
                with open(path, "rb") as fh:
                    os.fsync(fh.fileno())
        final = self.index_dir / self.name
        os.replace(self.tmp, final)
        crash_point("before-current-swap")
        point_current(self.index_dir, self.name)
        crash_point("after-current-swap")
        self._prune()
        self._release()
        return final

    def abort(self) -> None:
        """Drop the unpublished generation; the live one is untouched."""
        if hasattr(self, "meta"):
            self.meta.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._release()

    def _prune(self) -> None:
        generations = sorted(p for p in self.index_dir.glob("gen-*") if p.is_dir())
        for old in generations[:-KEEP_GENERATIONS]:
            shutil.rmtree(old, ignore_errors=True)

    def _release(self) -> None:
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()


def data_checksums(generation: Path) -> dict[str, str]:
    """sha256 of every data file of a generation (all but the manifest), by relative path."""
    sums = {}
    for path in sorted(generation.rglob("*")):
        if path.is_file() and path.name != "manifest.json":
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            sums[path.relative_to(generation).as_posix()] = digest.hexdigest()
    return sums


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
