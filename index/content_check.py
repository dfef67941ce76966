"""What SQLite's own check cannot see in a store: undecodable text, vectors that are not numbers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

# A vector's L2 norm above this is damage, not data (a flipped exponent bit gives ~1e36); normalised
# embeddings (all heprag backends) must also be within NORM_TOLERANCE of 1.
MAX_NORM = 1e3
NORM_TOLERANCE = 0.05
SHOWN = 5  # ids named per problem


def content_problems(store: Path, dim: int, normalized: bool = True) -> list[str]:
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
                if not isinstance(blob, bytes) or len(blob) != 4 * dim:
                    bad_vectors.append(name)
                else:
                    ids.append(name)
                    blobs.append(blob)
            if ids:
                vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), dim)
                with np.errstate(all="ignore"):
                    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
                bad = ~np.isfinite(vectors).all(axis=1) | ~np.isfinite(norms) | (norms > MAX_NORM)
                if normalized:
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
