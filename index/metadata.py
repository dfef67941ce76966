"""SQLite store of documents, chunks and their vectors: the source of truth of an index generation."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from heprag.index.filters import SearchFilters
from heprag.index.types import Chunk, Document

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, chunk_settings TEXT NOT NULL,
    source TEXT, source_type TEXT, year INTEGER, collaboration TEXT, categories TEXT, title TEXT,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    text TEXT NOT NULL, body TEXT NOT NULL, vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id, ordinal);
"""


class MetadataStore:
    """Documents (without their block text) and chunks (with text and vector) in one SQLite file."""

    def __init__(self, path: Path, readonly: bool = False, first_row: int = 1) -> None:
        """`first_row`: the id the first chunk gets in a new store (segments share one id space)."""
        self.path = path
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        self.db = sqlite3.connect(uri, uri=True, timeout=60, check_same_thread=False)
        if not readonly:
            self.db.executescript(SCHEMA)
            last = self.db.execute("SELECT MAX(id) FROM chunks").fetchone()[0]
            self.next_row = max(first_row, (last or 0) + 1)

    def close(self) -> None:
        self.db.close()

    # -- writing -------------------------------------------------------------------------------
    def upsert(self, doc: Document, chunks: list[Chunk], vectors: np.ndarray, chunk_settings: str) -> None:
        """Replace a document and all its chunks (no stale chunk survives)."""
        self.delete(doc.doc_id)
        meta = doc.model_copy(update={"blocks": []})
        self.db.execute(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                doc.doc_id, doc.content_hash, chunk_settings, doc.source, doc.source_type, doc.year,
                doc.collaboration, json.dumps(doc.categories), doc.title, meta.model_dump_json(),
            ),
        )  # fmt: skip
        self.db.executemany(
            "INSERT INTO chunks (id, chunk_id, doc_id, ordinal, text, body, vector) VALUES (?,?,?,?,?,?,?)",
            [
                (self.next_row + n, c.chunk_id, c.doc_id, c.ordinal, c.text,
                 c.model_dump_json(exclude={"text"}), v.tobytes())
                for n, (c, v) in enumerate(zip(chunks, vectors.astype(np.float32), strict=True))
            ],
        )  # fmt: skip
        self.next_row += len(chunks)

    def delete(self, doc_id: str) -> bool:
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        return self.db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,)).rowcount > 0

    def commit(self) -> None:
        self.db.commit()

    # -- reading -------------------------------------------------------------------------------
    def document_state(self) -> dict[str, tuple[str, str]]:
        """doc_id -> (content hash, chunk settings) for incremental ingestion."""
        return {
            d: (h, s)
            for d, h, s in self.db.execute("SELECT doc_id, content_hash, chunk_settings FROM documents")
        }

    def state_of(self, doc_id: str) -> tuple[str, str] | None:
        """(content hash, chunk settings) of one document, or None."""
        row = self.db.execute(
            "SELECT content_hash, chunk_settings FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def ids_with_prefix(self, prefix: str) -> list[str]:
        """Document ids starting with `prefix` (a range scan of the primary key)."""
        rows = self.db.execute(
            "SELECT doc_id FROM documents WHERE doc_id >= ? AND doc_id < ?", (prefix, prefix + "\U0010ffff")
        )
        return [r[0] for r in rows]

    def row_ids_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        """Chunk row ids of the given documents."""
        rows = self.db.execute(
            "SELECT id FROM chunks WHERE doc_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(doc_ids)),),
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def get_document(self, doc_id: str) -> Document | None:
        row = self.db.execute("SELECT body FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document.model_validate_json(row[0]) if row else None

    def documents(self) -> Iterator[Document]:
        for (body,) in self.db.execute("SELECT body FROM documents ORDER BY doc_id"):
            yield Document.model_validate_json(body)

    def chunks_by_ids(self, ids: Iterable[int]) -> dict[int, Chunk]:
        wanted = [int(i) for i in ids]
        found: dict[int, Chunk] = {}
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            rows = self.db.execute(
                f"SELECT id, text, body FROM chunks WHERE id IN ({','.join('?' * len(batch))})", batch
            )
            found.update((i, _chunk(text, body)) for i, text, body in rows)
        return found

    def vectors_by_chunk_ids(self, chunk_ids: list[str], dead: Iterable[str] = ()) -> dict[str, np.ndarray]:
        rows = self.db.execute(
            f"SELECT chunk_id, vector FROM chunks WHERE chunk_id IN ({','.join('?' * len(chunk_ids))})"
            f" AND {LIVE}",
            [*chunk_ids, _json(dead)],
        )
        return {c: np.frombuffer(v, dtype=np.float32) for c, v in rows}

    def vectors_by_rows(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Stored float32 vectors by chunk row id."""
        rows = self.db.execute(
            "SELECT id, vector FROM chunks WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps([int(i) for i in ids]),),
        )
        return {i: np.frombuffer(v, dtype=np.float32) for i, v in rows}

    def chunk_by_chunk_id(self, chunk_id: str) -> tuple[int, Chunk] | None:
        row = self.db.execute("SELECT id, text, body FROM chunks WHERE chunk_id = ?", (chunk_id,)).fetchone()
        return (row[0], _chunk(row[1], row[2])) if row else None

    def chunks_of(self, doc_id: str, first: int = 0, last: int = 1 << 30) -> list[Chunk]:
        rows = self.db.execute(
            "SELECT text, body FROM chunks WHERE doc_id = ? AND ordinal BETWEEN ? AND ? ORDER BY ordinal",
            (doc_id, first, last),
        )
        return [_chunk(text, body) for text, body in rows]

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every chunk, ordered by id."""
        ids, vecs = [], []
        for i, blob in self.db.execute("SELECT id, vector FROM chunks ORDER BY id"):
            ids.append(i)
            vecs.append(np.frombuffer(blob, dtype=np.float32))
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return np.asarray(ids, dtype=np.int64), np.stack(vecs)

    def all_texts(self, dead: Iterable[str] = ()) -> tuple[list[int], list[str]]:
        rows = self.db.execute(
            f"SELECT id, text FROM chunks WHERE {LIVE} ORDER BY id", (_json(dead),)
        ).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def allowed_ids(self, filters: SearchFilters, dead: Iterable[str] = ()) -> set[int]:
        where, params = filters.sql()
        rows = self.db.execute(
            f"SELECT c.id FROM chunks c JOIN documents d USING (doc_id) WHERE ({where}) AND {LIVE}",
            [*params, _json(dead)],
        )
        return {r[0] for r in rows}

    def counts(self, dead: Iterable[str] = ()) -> dict[str, int]:
        """Documents and chunks, not counting the `dead` (tombstoned) documents."""
        dead = _json(dead)
        docs = self.db.execute(f"SELECT COUNT(*) FROM documents WHERE {LIVE}", (dead,)).fetchone()[0]
        chunks = self.db.execute(f"SELECT COUNT(*) FROM chunks WHERE {LIVE}", (dead,)).fetchone()[0]
        return {"documents": docs, "chunks": chunks}

    def facet_counts(self, column: str, dead: Iterable[str] = ()) -> dict[str, int]:
        assert column in {"source", "source_type", "collaboration", "year"}
        rows = self.db.execute(
            f"SELECT {column}, COUNT(*) FROM documents WHERE {LIVE} GROUP BY {column}", (_json(dead),)
        )
        return {str(k): n for k, n in rows}


LIVE = "doc_id NOT IN (SELECT value FROM json_each(?))"  # with _json(dead documents) as parameter


def _json(doc_ids: Iterable[str]) -> str:
    return json.dumps(sorted(doc_ids))


def _chunk(text: str, body: str) -> Chunk:
    data = json.loads(body)
    data["text"] = text
    return Chunk.model_validate(data)
