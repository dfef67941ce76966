"""Index upkeep: verify consistency, repair from what is intact, delete documents, compact."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from heprag.index.errors import IndexCorruptError, IndexMissingError
from heprag.index.keyword import KeywordIndex
from heprag.index.manifest import EmbeddingInfo, Manifest
from heprag.index.metadata import MetadataStore
from heprag.index.store import IndexWriter, current_generation, data_checksums, file_sha256, point_current
from heprag.index.vectors import VectorIndex

# A vector's L2 norm above this is damage, not data (a flipped exponent bit gives ~1e36); normalised
# embeddings (all heprag backends) must also be within NORM_TOLERANCE of 1.
MAX_NORM = 1e3
NORM_TOLERANCE = 0.05
SHOWN = 5  # ids named per problem


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
    return problems + content_problems(generation / "metadata.sqlite", manifest.embedding)


def content_problems(store: Path, embedding: EmbeddingInfo) -> list[str]:
    """What SQLite's own check cannot see: text that no longer decodes, vectors that are not numbers.

    Reads raw bytes (never lets sqlite3 decode), so a flipped byte is reported, not raised.
    """
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    except sqlite3.DatabaseError as exc:
        return [f"metadata.sqlite unreadable: {exc}"]
    db.text_factory = bytes
    undecodable: list[str] = []
    bad_vectors: list[str] = []
    docs_undecodable = 0
    try:
        rows = db.execute("SELECT id, chunk_id, text, body, vector FROM chunks ORDER BY id")
        while batch := rows.fetchmany(4096):
            ids, blobs = [], []
            for rowid, chunk_id, text, body, blob in batch:
                name = _name(chunk_id, rowid)
                if not all(_decodes(t) for t in (chunk_id, text, body)):
                    undecodable.append(name)
                if not isinstance(blob, bytes) or len(blob) != 4 * embedding.dim:
                    bad_vectors.append(name)
                else:
                    ids.append(name)
                    blobs.append(blob)
            if ids:
                vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), embedding.dim)
                with np.errstate(all="ignore"):
                    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
                bad = ~np.isfinite(vectors).all(axis=1) | ~np.isfinite(norms) | (norms > MAX_NORM)
                if embedding.normalized:
                    bad |= np.abs(norms - 1.0) > NORM_TOLERANCE
                bad_vectors += [i for i, b in zip(ids, bad, strict=True) if b]
        for row in db.execute("SELECT doc_id, body FROM documents"):
            docs_undecodable += not all(_decodes(t) for t in row)
    except sqlite3.DatabaseError as exc:
        return [f"metadata.sqlite unreadable: {exc}"]
    finally:
        db.close()
    problems = []
    if undecodable:
        problems.append(f"{len(undecodable)} chunk(s) whose text is not valid UTF-8: {_few(undecodable)}")
    if bad_vectors:
        problems.append(
            f"{len(bad_vectors)} chunk vector(s) NaN/inf, of the wrong length or with an absurd norm: "
            f"{_few(bad_vectors)}"
        )
    if docs_undecodable:
        problems.append(f"{docs_undecodable} document record(s) that are not valid UTF-8")
    return problems


def _decodes(value: object) -> bool:
    if not isinstance(value, bytes):
        return True
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _name(chunk_id: object, rowid: int) -> str:
    if isinstance(chunk_id, bytes):
        return chunk_id.decode("utf-8", "replace")
    return f"row {rowid}"


def _few(ids: list[str]) -> str:
    return ", ".join(map(str, ids[:SHOWN])) + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def verify_index(index_dir: Path) -> list[str]:
    """Problems of the live generation; also flags a CURRENT pointer to a missing generation."""
    try:
        gen = current_generation(index_dir)
    except Exception as exc:
        return [str(exc)]
    if gen is None:
        raise IndexMissingError(f"no index at {index_dir}; build one with `heprag ingest PATH`")
    return verify_generation(gen)


def restorable_problems(generation: Path) -> list[str]:
    """Why this generation's SQLite store cannot be the source of a repair (empty: it can).

    The store must still have the sha256 its manifest recorded (SQLite's integrity_check alone passes
    a flipped byte in a vector or a text), pass integrity_check, match the manifest counts, and hold
    only decodable text and sane vectors.
    """
    try:
        manifest = Manifest.read(generation / "manifest.json")
    except Exception as exc:
        return [f"manifest.json unreadable: {exc}"]
    store = generation / "metadata.sqlite"
    recorded = manifest.checksums.get("metadata.sqlite")
    if not store.is_file():
        return ["metadata.sqlite missing"]
    if not recorded:
        return ["its manifest records no checksum of metadata.sqlite, so it cannot be trusted"]
    if file_sha256(store) != recorded:
        return ["metadata.sqlite: checksum mismatch (file changed or truncated)"]
    try:
        meta = MetadataStore(store, readonly=True)
        try:
            ok = meta.db.execute("PRAGMA integrity_check").fetchone()[0]
            counts = meta.counts()
        finally:
            meta.close()
    except sqlite3.DatabaseError as exc:
        return [f"metadata.sqlite unreadable: {exc}"]
    if ok != "ok":
        return [f"metadata.sqlite integrity: {ok}"]
    if counts != manifest.counts:
        return [f"manifest counts {manifest.counts} != SQLite counts {counts}"]
    return content_problems(store, manifest.embedding)


class _RepairWriter(IndexWriter):
    """An IndexWriter that prunes nothing: a repair keeps every generation (damaged ones for inspection,
    older intact ones as further fallbacks); the next ordinary ingest prunes as usual."""

    def _prune(self) -> None:
        return


def repair_index(index_dir: Path) -> str:
    """Rebuild FAISS, BM25 and the manifest from the newest generation whose store verifies.

    A damaged store is never the source (its checksum, integrity, text and vectors are checked first),
    nothing is pruned, and when no intact store is left this raises IndexCorruptError naming what can
    still be recovered. Returns what was done.
    """
    generations = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), reverse=True)
    if not generations:
        raise IndexMissingError(f"no index at {index_dir}; build one with `heprag ingest PATH`")
    try:
        live = current_generation(index_dir)
    except IndexCorruptError:
        live = None  # CURRENT names a missing generation
    live_problems = verify_generation(live) if live is not None else ["no live generation (CURRENT)"]
    if live is not None and not live_problems:
        return f"{live.name} verifies clean; nothing to repair"
    rejected: dict[str, list[str]] = {}
    source = None
    for generation in generations:
        why = restorable_problems(generation)
        if not why:
            source = generation
            break
        rejected[generation.name] = why
    if source is None:
        raise IndexCorruptError(_nothing_intact(index_dir, live, rejected))
    point_current(index_dir, source.name)  # point at what is intact, then rebuild from it
    manifest = Manifest.read(source / "manifest.json")
    writer = _RepairWriter(index_dir, manifest.embedding, manifest.chunking)
    try:
        published = writer.publish()
    except BaseException:
        writer.abort()
        raise
    done = f"rebuilt {published.name} from the SQLite store of {source.name}"
    if live is None or live == source:
        return f"{done} ({'; '.join(live_problems)})"
    lost = _lost_documents(live, source)
    note = (
        f"{done}, the newest generation whose store verifies; the live {live.name} is damaged "
        f"({'; '.join(live_problems)}) and was not used (kept for inspection; later ingests prune it)"
    )
    if lost:
        note += (
            f". {len(lost)} document(s) of {live.name} are not in {source.name} as they were: "
            f"{_listing(lost)}; ingest their sources again (unchanged text comes from the embedding cache)"
        )
    return note


def _documents(generation: Path) -> dict[str, tuple[str, str]] | None:
    """doc_id -> (content hash, source path or doc_id); read as bytes, so damage cannot raise.

    None when the store cannot be read at all.
    """
    try:
        db = sqlite3.connect(f"file:{generation / 'metadata.sqlite'}?mode=ro", uri=True)
        db.text_factory = bytes
        try:
            rows = db.execute("SELECT doc_id, content_hash, body FROM documents").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return None
    found = {}
    for doc_id, digest, body in rows:
        name = doc_id.decode("utf-8", "replace")
        try:
            path = json.loads(body.decode("utf-8")).get("path")
        except (UnicodeDecodeError, ValueError, AttributeError):
            path = None
        found[name] = (digest.decode("utf-8", "replace"), path or name)
    return found


def _lost_documents(damaged: Path, source: Path) -> list[str]:
    """Sources (paths, else doc ids) of the damaged generation's documents that the source lacks or holds
    in another version."""
    theirs, ours = _documents(damaged), _documents(source) or {}
    if theirs is None:
        return []
    return sorted({where for d, (digest, where) in theirs.items() if ours.get(d, ("",))[0] != digest})


def _listing(items: list[str], most: int = 10) -> str:
    return ", ".join(items[:most]) + (f" and {len(items) - most} more" if len(items) > most else "")


def _nothing_intact(index_dir: Path, live: Path | None, rejected: dict[str, list[str]]) -> str:
    why = "; ".join(f"{name}: {', '.join(problems)}" for name, problems in rejected.items())
    candidates = [live, *map(index_dir.joinpath, rejected)]
    readable = next((docs for g in candidates if g and (docs := _documents(g))), None)
    sources = sorted({where for _, where in readable.values()}) if readable else []
    what = (
        f"the damaged store still names {len(sources)} source(s): {_listing(sources)}"
        if sources
        else "the damaged stores do not even list their documents any more"
    )
    return (
        f"no generation under {index_dir} has an intact SQLite store, so there is nothing trustworthy to "
        f"rebuild from ({why}); the index was left as it is. What can be recovered: {what}. Ingest them "
        "into a fresh index (`heprag --index NEW_DIR ingest PATH...`, or move this one aside first): "
        "the embedding cache still holds the vectors of unchanged text, so nothing is embedded twice"
    )


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
