"""Index upkeep: verify consistency, repair from what is intact, delete documents, compact."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from heprag.index.errors import IndexMissingError
from heprag.index.keyword import KeywordIndex
from heprag.index.manifest import Manifest
from heprag.index.metadata import MetadataStore
from heprag.index.store import IndexWriter, current_generation, data_checksums, point_current
from heprag.index.vectors import VectorIndex


def verify_generation(generation: Path) -> list[str]:
    """Problems found in one generation (empty when manifest, SQLite, FAISS and BM25 agree)."""
    try:
        manifest = Manifest.read(generation / "manifest.json")
    except Exception as exc:
        return [f"manifest.json unreadable: {exc}"]
    problems = [
        f"{name}: checksum mismatch (file changed or truncated)"
        for name, digest in data_checksums(generation).items()
        if manifest.checksums and manifest.checksums.get(name) != digest
    ]
    problems += [f"{name}: listed in the manifest but missing" for name in manifest.checksums
                 if not (generation / name).exists()]  # fmt: skip
    try:
        meta = MetadataStore(generation / "metadata.sqlite", readonly=True)
        ok = meta.db.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            problems.append(f"metadata.sqlite integrity: {ok}")
        ids = {i for (i,) in meta.db.execute("SELECT id FROM chunks")}
        counts = meta.counts()
        orphans = meta.db.execute(
            "SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM documents)"
        ).fetchone()[0]
        meta.close()
    except sqlite3.DatabaseError as exc:
        return [*problems, f"metadata.sqlite unreadable: {exc}"]
    if orphans:
        problems.append(f"{orphans} chunks belong to no document")
    if counts != manifest.counts:
        problems.append(f"manifest counts {manifest.counts} != SQLite counts {counts}")
    try:
        vectors = VectorIndex.load(generation / "vectors.faiss", manifest.faiss_kind, mmap=False)
        import faiss

        faiss_ids = set(faiss.vector_to_array(vectors.index.id_map).tolist())
        if faiss_ids != ids:
            problems.append(
                f"FAISS holds {len(faiss_ids)} ids, SQLite {len(ids)} chunks ({len(faiss_ids ^ ids)} differ)"
            )
        if vectors.index.d != manifest.embedding.dim:
            problems.append(f"FAISS dimension {vectors.index.d} != manifest {manifest.embedding.dim}")
    except Exception as exc:
        problems.append(f"vectors.faiss unreadable: {exc}")
    try:
        bm25_ids = set(np.asarray(KeywordIndex.load(generation / "bm25", mmap=False).ids).tolist())
        if bm25_ids != ids:
            problems.append(f"BM25 holds {len(bm25_ids)} ids, SQLite {len(ids)} chunks")
    except Exception as exc:
        problems.append(f"bm25 unreadable: {exc}")
    return problems


def verify_index(index_dir: Path) -> list[str]:
    """Problems of the live generation; also flags a CURRENT pointer to a missing generation."""
    try:
        gen = current_generation(index_dir)
    except Exception as exc:
        return [str(exc)]
    if gen is None:
        raise IndexMissingError(f"no index at {index_dir}; build one with `heprag ingest PATH`")
    return verify_generation(gen)


def _sqlite_ok(generation: Path) -> bool:
    try:
        db = sqlite3.connect(f"file:{generation / 'metadata.sqlite'}?mode=ro", uri=True)
        ok = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        return ok and (generation / "manifest.json").exists()
    except sqlite3.DatabaseError:
        return False


def repair_index(index_dir: Path) -> str:
    """Rebuild FAISS, BM25 and the manifest from the newest intact SQLite store; returns what was done."""
    candidates = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), reverse=True)
    source = next((g for g in candidates if _sqlite_ok(g)), None)
    if source is None:
        raise IndexMissingError(f"no intact generation under {index_dir}; rebuild with `heprag ingest`")
    point_current(index_dir, source.name)  # point at what is intact, then rebuild from it
    manifest = Manifest.read(source / "manifest.json")
    writer = IndexWriter(index_dir, manifest.embedding, manifest.chunking)
    try:
        published = writer.publish()
    except BaseException:
        writer.abort()
        raise
    return f"rebuilt {published.name} from the SQLite store of {source.name}"


def delete_documents(index_dir: Path, doc_ids: Iterable[str]) -> tuple[list[str], list[str]]:
    """Remove documents (chunks, vectors, BM25 entries) in a new generation: (deleted, not found)."""
    gen = current_generation(index_dir)
    if gen is None:
        raise IndexMissingError(f"no index at {index_dir}")
    manifest = Manifest.read(gen / "manifest.json")
    writer = IndexWriter(index_dir, manifest.embedding, manifest.chunking)
    deleted: list[str] = []
    missing: list[str] = []
    try:
        for doc_id in doc_ids:
            (deleted if writer.meta.delete(doc_id) else missing).append(doc_id)
        writer.publish()
    except BaseException:
        writer.abort()
        raise
    return deleted, missing


def compact_index(index_dir: Path) -> tuple[int, int]:
    """VACUUM the store and rebuild derived parts; drops old generations. Returns (bytes before, after)."""
    gen = current_generation(index_dir)
    if gen is None:
        raise IndexMissingError(f"no index at {index_dir}")
    before = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    manifest = Manifest.read(gen / "manifest.json")
    writer = IndexWriter(index_dir, manifest.embedding, manifest.chunking)
    try:
        writer.meta.commit()
        writer.meta.db.execute("VACUUM")
        writer.publish()
    except BaseException:
        writer.abort()
        raise
    for old in sorted(p for p in index_dir.glob("gen-*") if p.is_dir())[:-1]:
        shutil.rmtree(old, ignore_errors=True)
    after = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    return before, after
