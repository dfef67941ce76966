"""Index upkeep: verify consistency, repair from what is intact, delete documents, compact segments."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from heprag.index.content_check import content_problems
from heprag.index.errors import IndexCorruptError, IndexMissingError
from heprag.index.keyword import KeywordIndex
from heprag.index.metadata import MetadataStore
from heprag.index.segmented import SegmentedStore
from heprag.index.segments import (
    SEGMENT_MANIFEST,
    SEGMENTS,
    SegmentInfo,
    copy_live_rows,
    file_checksums,
)
from heprag.index.store import (
    CURRENT,
    IndexWriter,
    current_generation,
    open_segments,
    point_current,
    read_manifest,
    segment_digest,
)
from heprag.index.vectors import VectorIndex


def verify_segment(folder: Path, dim: int, normalized: bool = True) -> list[str]:
    """Problems of one segment (empty when checksums, SQLite, FAISS and BM25 agree and every stored vector
    and text is sound: finite, unit-norm vectors of the right length, valid UTF-8)."""
    name = folder.name
    try:
        info = SegmentInfo.model_validate_json((folder / SEGMENT_MANIFEST).read_text())
    except Exception as exc:
        return [f"{name}/{SEGMENT_MANIFEST} unreadable: {exc}"]
    problems = [
        f"{name}/{file}: checksum mismatch (file changed or truncated)"
        for file, digest in file_checksums(folder).items()
        if info.checksums.get(file) != digest
    ]
    problems += [f"{name}/{file}: listed in the segment manifest but missing" for file in info.checksums
                 if not (folder / file).exists()]  # fmt: skip
    try:
        meta = MetadataStore(folder / "metadata.sqlite", readonly=True)
        ok = meta.db.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            problems.append(f"{name}/metadata.sqlite integrity: {ok}")
        ids = {i for (i,) in meta.db.execute("SELECT id FROM chunks")}
        counts = meta.counts()
        orphans = meta.db.execute(
            "SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM documents)"
        ).fetchone()[0]
        meta.close()
    except sqlite3.DatabaseError as exc:
        return [*problems, f"{name}/metadata.sqlite unreadable: {exc}"]
    if orphans:
        problems.append(f"{name}: {orphans} chunks belong to no document")
    problems += [f"{name}: {p}" for p in content_problems(folder / "metadata.sqlite", dim, normalized)]
    if counts != {"documents": info.documents, "chunks": info.chunks}:
        problems.append(f"{name}: manifest counts {info.documents}/{info.chunks} != SQLite counts {counts}")
    try:
        vectors = VectorIndex.load(folder / "vectors.faiss", info.faiss_kind, mmap=False)
        import faiss

        faiss_ids = set(faiss.vector_to_array(vectors.index.id_map).tolist())
        if faiss_ids != ids:
            problems.append(
                f"{name}/vectors.faiss holds {len(faiss_ids)} ids, SQLite {len(ids)} chunks "
                f"({len(faiss_ids ^ ids)} differ)"
            )
        if vectors.index.d != dim:
            problems.append(f"{name}/vectors.faiss dimension {vectors.index.d} != manifest {dim}")
    except Exception as exc:
        problems.append(f"{name}/vectors.faiss unreadable: {exc}")
    try:
        bm25_ids = set(np.asarray(KeywordIndex.load(folder / "bm25", mmap=False).ids).tolist())
        if bm25_ids != ids:
            problems.append(f"{name}/bm25 holds {len(bm25_ids)} ids, SQLite {len(ids)} chunks")
    except Exception as exc:
        problems.append(f"{name}/bm25 unreadable: {exc}")
    return problems


def verify_generation(generation: Path) -> list[str]:
    """Problems found in one generation and the segments it lists (empty when all agree)."""
    try:
        manifest = read_manifest(generation)
    except Exception as exc:
        return [f"{generation.name}/manifest.json unreadable: {exc}"]
    segments = generation.parent / SEGMENTS
    problems = []
    for name in manifest.segments:
        if not (segments / name / SEGMENT_MANIFEST).exists():
            problems.append(f"{name}: listed by {generation.name} but missing")
            continue
        if manifest.checksums.get(name) != segment_digest(segments / name):
            problems.append(f"{name}/{SEGMENT_MANIFEST}: checksum mismatch (file changed or truncated)")
        problems += verify_segment(segments / name, manifest.embedding.dim, manifest.embedding.normalized)
    if problems:
        return problems
    try:
        store = SegmentedStore(open_segments(generation.parent, manifest))
        for seg in store.segments:
            alive = seg.meta.counts(seg.dead_docs)
            if alive["documents"] != seg.info.documents - len(seg.dead_docs):
                problems.append(f"{seg.name}: a tombstone names a document it does not hold")
        counts = store.counts()
        store.close()
    except Exception as exc:
        return [f"{generation.name}: segments unreadable: {exc}"]
    if counts != manifest.counts:
        problems.append(f"manifest counts {manifest.counts} != segment counts {counts}")
    return problems


def verify_index(index_dir: Path) -> list[str]:
    """Problems of the live generation; also flags a CURRENT pointer to a missing generation."""
    try:
        gen = current_generation(index_dir)
    except Exception as exc:
        return [str(exc)]
    if gen is None:
        raise IndexMissingError(
            f"no index at {index_dir}; build one with `heprag --index {index_dir} ingest PATH`"
        )
    return verify_generation(gen)


def repair_index(index_dir: Path) -> str:
    """Make a verified generation live: the live one with broken segments rebuilt from their SQLite
    stores where those are intact, else the newest generation that verifies. Returns what was done."""
    live = current_generation(index_dir) if (index_dir / CURRENT).exists() and _points(index_dir) else None
    if live is not None and not verify_generation(live):
        return f"{live.name} verifies; nothing to repair"
    if live is not None and (rebuilt := _rebuild_segments(index_dir, live)) is not None:
        return rebuilt
    candidates = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), reverse=True)
    source = next((g for g in candidates if not verify_generation(g)), None)
    if source is None:
        problems = verify_generation(live) if live is not None else []
        raise IndexCorruptError(
            f"nothing trustworthy to restore under {index_dir}: no generation is intact "
            f"({'; '.join(problems[:2]) or 'no generation verifies'}); the index is left as it was. "
            "Re-ingest its sources into a fresh --index (the embedding cache makes that cheap)"
        )
    point_current(index_dir, source.name)
    lost = f"; {live.name} is damaged and kept" if live is not None else ""
    return f"restored {source.name}, the newest generation that verifies (rebuilt nothing){lost}"


def _points(index_dir: Path) -> bool:
    return (index_dir / (index_dir / CURRENT).read_text().strip()).is_dir()


def _rebuild_segments(index_dir: Path, generation: Path) -> str | None:
    """Rebuild FAISS and BM25 of the broken segments whose SQLite store passes its checksum."""
    try:
        manifest = read_manifest(generation)
    except Exception:
        return None
    broken = [
        n for n in manifest.segments if verify_segment(index_dir / SEGMENTS / n, manifest.embedding.dim)
    ]
    for name in broken:
        folder = index_dir / SEGMENTS / name
        try:
            info = SegmentInfo.model_validate_json((folder / SEGMENT_MANIFEST).read_text())
        except Exception:
            return None
        if file_checksums(folder).get("metadata.sqlite") != info.checksums.get("metadata.sqlite"):
            return None
    writer = IndexWriter(index_dir, manifest.embedding, manifest.chunking)
    try:
        copy_live_rows([s for s in writer.base if s.name in broken], writer.store)
        writer.drop_segments(broken)
        published = writer.publish()
    except BaseException:
        writer.abort()
        raise
    return f"rebuilt {', '.join(broken)} as {published.name} from the SQLite store of {generation.name}"


def delete_documents(index_dir: Path, doc_ids: Iterable[str]) -> tuple[list[str], list[str]]:
    """Tombstone documents (chunks, vectors, BM25 entries) in a new generation: (deleted, not found)."""
    gen = current_generation(index_dir)
    if gen is None:
        raise IndexMissingError(f"no index at {index_dir}")
    manifest = read_manifest(gen)
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


def compact_index(index_dir: Path, full: bool = True) -> tuple[int, int]:
    """Merge segments into one, dropping tombstoned rows; then drop old generations.

    `full=False` merges only the small segments (each under an eighth of the largest), leaving the big
    ones as they are. Returns (bytes on disk before, after).
    """
    gen = current_generation(index_dir)
    if gen is None:
        raise IndexMissingError(f"no index at {index_dir}")
    before = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    manifest = read_manifest(gen)
    writer = IndexWriter(index_dir, manifest.embedding, manifest.chunking)
    try:
        largest = max((s.info.chunks for s in writer.base), default=0)
        merge = [s for s in writer.base if full or s.info.chunks * 8 < largest]
        if len(merge) > 1 or any(s.dead_docs for s in merge):
            copy_live_rows(merge, writer.store)
            writer.drop_segments([s.name for s in merge])
        writer.publish()
    except BaseException:
        writer.abort()
        raise
    for old in sorted(p for p in index_dir.glob("gen-*") if p.is_dir())[:-1]:
        shutil.rmtree(old, ignore_errors=True)
    writer._prune()
    after = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    return before, after
