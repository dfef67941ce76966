"""FAISS IVF / IVF-PQ too large for one in-memory build: train once, fill block by block, merge on disk.

The metadata store of the new generation is the source of truth (it holds the previous generation's
vectors too, so incremental runs stay exact). Training reads an evenly spaced sample; the vectors are
then streamed in blocks of `block_rows`, each block added to a copy of the trained empty index and
written out, and the blocks are merged into one `OnDiskInvertedLists` file (`vectors.ivfdata`) beside
`vectors.faiss` — memory stays bounded by one block, not by the corpus.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from heprag.index.metadata import MetadataStore
from heprag.index.vectors import IndexKind, VectorIndex

log = logging.getLogger(__name__)

IVF_DATA = "vectors.ivfdata"


@dataclass(frozen=True)
class StreamedIVF:
    """A `VectorBuilder` (see heprag.index.store) for IVF-Flat or IVF-PQ built block by block."""

    kind: Literal["ivf", "ivfpq"] = "ivfpq"
    nlist: int = 0  # 0 = 4·sqrt(n), as the in-memory build
    pq_bytes: int = 48  # IVF-PQ code size per vector (384-d MiniLM -> 48 sub-quantisers of 8 bits)
    train_rows: int = 0  # 0 = 64 per list, at least 10,000
    block_rows: int = 200_000

    def __call__(self, meta: MetadataStore, folder: Path) -> VectorIndex:
        import faiss
        from faiss.contrib.ondisk import merge_ondisk

        n = meta.counts()["chunks"]
        nlist = self.nlist or max(16, int(4 * np.sqrt(max(n, 1))))
        sample = training_sample(meta, self.train_rows or max(10_000, 64 * nlist))
        dim = sample.shape[1]
        quantizer = faiss.IndexFlatIP(dim)
        index: Any
        if self.kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        else:
            m = max(b for b in range(1, min(self.pq_bytes, dim) + 1) if dim % b == 0)  # sub-quantisers | dim
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        index.train(sample)
        trained = folder / "trained.faiss"
        faiss.write_index(index, str(trained))
        blocks = []
        for i, (ids, vectors) in enumerate(iter_vector_blocks(meta, self.block_rows)):
            block = faiss.read_index(str(trained))
            block.add_with_ids(vectors, ids)
            blocks.append(folder / f"block-{i:05d}.faiss")
            faiss.write_index(block, str(blocks[-1]))
        merged = faiss.read_index(str(trained))
        if blocks:
            merge_ondisk(merged, [str(b) for b in blocks], str(folder / IVF_DATA))
        for path in [trained, *blocks]:
            path.unlink()
        log.info("streamed %s: %d vectors in %d blocks, nlist %d", self.kind, n, len(blocks), nlist)
        return VectorIndex(merged, self.kind)


def training_sample(meta: MetadataStore, rows: int) -> np.ndarray:
    """About `rows` vectors spread evenly over the store (every k-th row), float32."""
    total = meta.counts()["chunks"]
    step = max(1, total // max(rows, 1))
    found = meta.db.execute("SELECT vector FROM chunks WHERE id % ? = 0 ORDER BY id", (step,))
    vectors = [np.frombuffer(blob, dtype=np.float32) for (blob,) in found]
    if len(vectors) < rows:  # ids are not dense after deletions: fall back to the first rows
        found = meta.db.execute("SELECT vector FROM chunks ORDER BY id LIMIT ?", (rows,))
        vectors = [np.frombuffer(blob, dtype=np.float32) for (blob,) in found]
    return np.ascontiguousarray(np.stack(vectors))


def iter_vector_blocks(meta: MetadataStore, block_rows: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) blocks of at most `block_rows`, in id order, read with a keyset cursor."""
    last = -1
    while True:
        rows = meta.db.execute(
            "SELECT id, vector FROM chunks WHERE id > ? ORDER BY id LIMIT ?", (last, block_rows)
        ).fetchall()
        if not rows:
            return
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        yield ids, np.ascontiguousarray(np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows]))
        last = int(ids[-1])


@dataclass(frozen=True)
class SizedVectors:
    """A `VectorBuilder` choosing by size: in-memory build below `stream_above` vectors, streamed above.

    `requested` is the index.faiss_kind setting: flat/hnsw are always built in memory (HNSW has no on-disk
    merge); auto/ivf/ivfpq stream from `stream_above` vectors on (auto -> IVF-PQ).
    """

    dim: int
    stream_above: int = 2_000_000
    requested: IndexKind = "auto"

    def __call__(self, meta: MetadataStore, folder: Path) -> VectorIndex:
        n = meta.counts()["chunks"]
        if n < self.stream_above or self.requested in {"flat", "hnsw"}:
            ids, vectors = meta.all_vectors()
            return VectorIndex.build(ids, vectors, self.dim, self.requested)
        return StreamedIVF(kind="ivf" if self.requested == "ivf" else "ivfpq")(meta, folder)
