"""IVF / IVF-PQ trained once, filled block by block and merged on disk (the large-corpus FAISS build)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from heprag.index.metadata import MetadataStore
from heprag.index.types import Chunk, Document
from heprag.index.vectors import VectorIndex
from heprag.ingest.distributed.ivf_build import IVF_DATA, SizedVectors, StreamedIVF

DIM = 32


def _store(path: Path, n: int) -> tuple[MetadataStore, np.ndarray]:
    """A metadata store of `n` clustered unit vectors over 10 documents."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(20, DIM))
    vectors = centres[rng.integers(0, 20, n)] + 0.3 * rng.normal(size=(n, DIM))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    store = MetadataStore(path)
    per_doc = n // 10
    for d in range(10):
        doc = Document(doc_id=f"doc{d}")
        ids = [f"doc{d}#{i}" for i in range(per_doc)]
        chunks = [Chunk(chunk_id=c, doc_id=doc.doc_id, ordinal=i, text="x") for i, c in enumerate(ids)]
        store.upsert(doc, chunks, vectors[d * per_doc : (d + 1) * per_doc], "k")
    store.commit()
    return store, vectors


def _exact_top(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [int(i) + 1 for i in np.argsort(-(vectors @ query), kind="stable")[:k]]  # SQLite ids start at 1


def test_streamed_ivf_equals_exact_search_and_survives_a_move(tmp_path: Path) -> None:
    store, vectors = _store(tmp_path / "meta.sqlite", 3000)
    folder = tmp_path / "tmp-gen"
    folder.mkdir()
    index = StreamedIVF(kind="ivf", nlist=8, block_rows=700)(store, folder)
    index.save(folder / "vectors.faiss")
    assert index.ntotal == 3000
    assert (folder / IVF_DATA).exists() and not list(folder.glob("block-*"))
    moved = tmp_path / "gen-000001"  # publishing renames the generation folder
    shutil.move(folder, moved)
    loaded = VectorIndex.load(moved / "vectors.faiss", "ivf")
    for q in vectors[[5, 1234, 2999]]:
        ids, _ = loaded.search(q, 10, nprobe=8)  # every list probed: exact
        assert [int(i) for i in ids] == _exact_top(vectors, q, 10)


def test_streamed_ivfpq_finds_the_true_neighbours(tmp_path: Path) -> None:
    store, vectors = _store(tmp_path / "meta.sqlite", 3000)
    index = StreamedIVF(kind="ivfpq", nlist=8, pq_bytes=16, block_rows=1000)(store, tmp_path)
    assert index.kind == "ivfpq" and index.ntotal == 3000
    recall = []
    for q in vectors[::300]:
        ids, _ = index.search(q, 10, nprobe=8)
        recall.append(len(set(map(int, ids)) & set(_exact_top(vectors, q, 10))) / 10)
    assert np.mean(recall) >= 0.6  # 16-byte codes of 32-d vectors: approximate, far above chance (0.003)


@pytest.mark.parametrize(("stream_above", "kind"), [(10_000, "flat"), (100, "ivfpq")])
def test_sized_vectors_chooses_by_size(tmp_path: Path, stream_above: int, kind: str) -> None:
    store, _ = _store(tmp_path / "meta.sqlite", 3000)
    index = SizedVectors(DIM, stream_above=stream_above)(store, tmp_path)
    assert index.kind == kind and index.ntotal == 3000
    assert (tmp_path / IVF_DATA).exists() == (kind == "ivfpq")
