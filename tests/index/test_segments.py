"""The segmented index: new documents go into a new segment, old segments are shared, never rewritten."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from heprag.index.keyword import KeywordIndex, tokenize
from heprag.index.maintenance import compact_index, delete_documents, verify_index
from heprag.index.manifest import EmbeddingInfo
from heprag.index.segments import SEGMENTS
from heprag.index.store import CorpusIndex, IndexWriter
from heprag.index.types import Chunk, Document
from heprag.index.vectors import VectorIndex

DIM = 16
INFO = EmbeddingInfo(model="hash", model_id="hash-16", dim=DIM, max_tokens=256)
WORDS = "muon electron photon jet tau bottom top higgs boson trigger calorimeter tracker".split()  # noqa: SIM905


def _vector(text: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    v = rng.normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def _doc(n: int, version: int = 1) -> tuple[Document, list[Chunk], np.ndarray]:
    doc = Document(doc_id=f"doc:{n}", title=f"paper {n}", content_hash=f"h{n}.{version}")
    texts = [
        f"{WORDS[(n + i) % 12]} {WORDS[(n * 7 + i) % 12]} {WORDS[(n * 3) % 12]} v{version} d{n}x{i}"
        for i in range(3)
    ]
    chunks = [
        Chunk(chunk_id=f"doc:{n}#{i}", doc_id=doc.doc_id, ordinal=i, text=t) for i, t in enumerate(texts)
    ]
    return doc, chunks, np.stack([_vector(t) for t in texts])


def _add(index: Path, numbers: range, version: int = 1) -> Path:
    writer = IndexWriter(index, INFO, {"max_tokens": 256})
    for n in numbers:
        writer.meta.upsert(*_doc(n, version), "s")
    return writer.publish()


def _segments(index: Path) -> list[str]:
    return sorted(p.name for p in (index / SEGMENTS).glob("seg-*"))


def test_adding_documents_writes_one_new_segment_and_leaves_the_old_ones_untouched(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    _add(index, range(0, 40))
    first = {p: p.stat().st_mtime_ns for p in (index / SEGMENTS / "seg-000001").rglob("*")}
    _add(index, range(40, 45))
    assert _segments(index) == ["seg-000001", "seg-000002"]
    assert {p: p.stat().st_mtime_ns for p in first} == first  # not rewritten, not copied
    opened = CorpusIndex.open(index)
    assert opened.manifest.segments == ["seg-000001", "seg-000002"]
    assert opened.meta.counts() == {"documents": 45, "chunks": 135} == opened.manifest.counts
    assert verify_index(index) == []


def test_search_over_segments_equals_search_over_one_index(tmp_path: Path) -> None:
    split, whole = tmp_path / "split", tmp_path / "whole"
    for start in range(0, 60, 20):
        _add(split, range(start, start + 20))
    _add(whole, range(0, 60))
    a, b = CorpusIndex.open(split), CorpusIndex.open(whole)
    query = _vector("a query")
    assert [list(x) for x in a.vectors.search(query, 10)] == [list(x) for x in b.vectors.search(query, 10)]
    # every chunk has 5 tokens, so lengths agree and the global IDF makes BM25 scores equal one index's
    ids_a, scores_a = a.keywords.search("higgs trigger muon", 15)
    ids_b, scores_b = b.keywords.search("higgs trigger muon", 15)
    np.testing.assert_allclose(scores_a, scores_b, rtol=1e-5)
    assert set(ids_a[:5]) == set(ids_b[:5])
    higgs = tokenize("higgs")[0]
    assert a.keywords.document_frequency(higgs) == b.keywords.document_frequency(higgs) > 0


def test_a_changed_document_replaces_its_old_chunks_by_a_tombstone(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    _add(index, range(0, 10))
    _add(index, range(3, 4), version=2)  # doc:3 changed
    opened = CorpusIndex.open(index)
    assert opened.manifest.tombstones == {"seg-000001": ["doc:3"]}
    texts = [c.text for c in opened.meta.chunks_of("doc:3")]
    assert texts and all(" v2 " in t for t in texts)
    for mode_ids in (opened.vectors.search(_vector(texts[0]), 30)[0], opened.keywords.search("v1 v2", 30)[0]):
        found = opened.meta.chunks_by_ids(mode_ids)
        assert not [c for c in found.values() if c.doc_id == "doc:3" and " v1 " in c.text]
    assert opened.meta.counts() == {"documents": 10, "chunks": 30}
    assert verify_index(index) == []


def test_delete_is_a_tombstone_and_compaction_merges_segments_without_it(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    for start in range(0, 30, 10):
        _add(index, range(start, start + 10))
    deleted, missing = delete_documents(index, ["doc:4", "doc:99"])
    assert (deleted, missing) == (["doc:4"], ["doc:99"])
    assert _segments(index) == ["seg-000001", "seg-000002", "seg-000003"]  # a delete writes no segment
    query = _vector("x")
    before = CorpusIndex.open(index).vectors.search(query, 10)
    compact_index(index)
    opened = CorpusIndex.open(index)
    assert len(opened.manifest.segments) == 1 and not opened.manifest.tombstones
    assert opened.meta.get_document("doc:4") is None and opened.meta.counts()["documents"] == 29
    assert [list(x) for x in opened.vectors.search(query, 10)] == [list(x) for x in before]  # ids kept
    assert verify_index(index) == [] and len(list(index.glob("gen-*"))) == 1


def test_small_compaction_keeps_the_big_segment(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    _add(index, range(0, 100))
    for start in range(100, 106, 2):
        _add(index, range(start, start + 2))
    compact_index(index, full=False)
    opened = CorpusIndex.open(index)
    assert opened.manifest.segments[0] == "seg-000001" and len(opened.manifest.segments) == 2
    assert opened.meta.counts()["documents"] == 106


def test_a_segment_left_by_a_crashed_writer_is_removed_by_the_next_one(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    _add(index, range(0, 5))
    (index / SEGMENTS / "seg-000009").mkdir()  # renamed into place, but no generation lists it
    (index / SEGMENTS / ".tmp-seg-000010").mkdir()
    _add(index, range(5, 6))
    assert _segments(index) == ["seg-000001", "seg-000002"]
    assert verify_index(index) == []


def test_nprobe_reaches_the_ivf_index_and_buys_recall() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(4000, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(4000, dtype=np.int64)
    ivf, exact = VectorIndex.build(ids, vectors, DIM, "ivf"), VectorIndex.build(ids, vectors, DIM, "flat")

    def recall(nprobe: int) -> float:
        hits = [
            len(set(ivf.search(q, 10, nprobe=nprobe)[0]) & set(exact.search(q, 10)[0])) for q in vectors[:100]
        ]
        return sum(hits) / 1000

    assert recall(1) < 0.6 < 0.99 <= recall(256)


def test_ivfpq_candidates_are_reranked_to_exact_cosines(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    writer = IndexWriter(index, INFO, {"max_tokens": 256})
    for n in range(0, 400):
        writer.meta.upsert(*_doc(n), "s")
    writer.publish(faiss_kind="ivfpq")
    opened = CorpusIndex.open(index, nprobe=256)
    assert opened.vectors.kind == "ivfpq"
    query = _vector("doc:7 text")
    ids, scores = opened.vectors.search(query, 5)
    stored = opened.meta.segments[0].meta.vectors_by_rows(ids)
    np.testing.assert_allclose(scores, [float(stored[int(i)] @ query) for i in ids], rtol=1e-5)


@pytest.mark.parametrize("k", [1, 3])
def test_bm25_top_k_scores_equal_bm25s_own_scores(k: int) -> None:
    texts = ["muon trigger", "muon muon calorimeter", "electron photon", "higgs to two muon"]
    index = KeywordIndex.build(texts, [5, 6, 7, 8])
    ids, scores = index.search("muon calorimeter", k)
    reference = index._retriever.get_scores(["muon", "calorimet"])  # type: ignore[attr-defined]
    order = np.argsort(-reference, kind="stable")[:k]
    assert list(ids) == [[5, 6, 7, 8][i] for i in order]
    np.testing.assert_allclose(scores, reference[order], rtol=1e-6)


def test_index_settings_reach_every_segment_search(small_index: Path) -> None:
    from heprag.app.library import Library
    from heprag.app.settings import load_settings

    settings = load_settings(index_dir=small_index)
    settings.index.nprobe, settings.index.ef_search = 3, 40
    vectors = Library(settings).index.vectors
    assert (vectors.nprobe, vectors.ef_search) == (3, 40)


def test_a_newer_arxiv_version_supersedes_the_older_one_across_segments(tmp_path: Path) -> None:
    from heprag.ingest.chunking import ChunkSettings
    from heprag.ingest.pipeline import current_state, publish
    from heprag.ingest.report import IngestReport

    index = tmp_path / "idx"

    def ingest(doc_id: str) -> IngestReport:
        doc, chunks, vectors = _doc(1)
        doc = doc.model_copy(update={"doc_id": doc_id})
        chunks = [
            c.model_copy(update={"doc_id": doc_id, "chunk_id": f"{doc_id}#{c.ordinal}"}) for c in chunks
        ]
        report = IngestReport()
        publish(index, INFO, ChunkSettings(), [(doc, chunks, vectors)], current_state(index), report)
        return report

    ingest("arXiv:2101.00001v1")
    assert ingest("arXiv:2101.00001v2").removed == ["arXiv:2101.00001v1"]
    assert ingest("arXiv:2101.00001v1").unchanged == ["arXiv:2101.00001v1"]  # an older one comes too late
    opened = CorpusIndex.open(index)
    assert [d.doc_id for d in opened.meta.documents()] == ["arXiv:2101.00001v2"]
    assert opened.manifest.tombstones == {"seg-000001": ["arXiv:2101.00001v1"]}
