"""Search and look-ups fanned out over the segments of a generation, with its tombstones applied.

Dense: every segment returns its top k (IVF-PQ candidates re-ranked by exact cosine from the stored
vectors), merged by cosine, which is comparable across segments. BM25: each token's bm25s scores in a
segment are rescaled from the segment's IDF to the IDF over all segments (the summed document
frequencies, tombstoned documents included until a compaction drops them — as Lucene counts them), so
scores compare as if one index held every segment; only the length normalisation stays per segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from heprag.index.filters import SearchFilters
from heprag.index.keyword import lucene_idf, tokenize
from heprag.index.segments import Segment
from heprag.index.types import Chunk, Document

RERANK_FACTOR = 10  # IVF-PQ: re-rank k * 10 PQ candidates (at least 100) with the exact vectors


def _top(parts: list[tuple[np.ndarray, np.ndarray]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Global top `k` of per-segment (ids, scores), best first, ties by id."""
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    ids = np.concatenate([p[0] for p in parts]).astype(np.int64)
    scores = np.concatenate([p[1] for p in parts]).astype(np.float32)
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order]


class SegmentedVectors:
    """Dense search over all segments; `nprobe` / `ef_search` reach every IVF / HNSW segment."""

    def __init__(self, segments: list[Segment], nprobe: int = 64, ef_search: int = 128) -> None:
        self.segments = segments
        self.nprobe = nprobe
        self.ef_search = ef_search

    @property
    def ntotal(self) -> int:
        return sum(s.vectors.ntotal for s in self.segments)

    @property
    def kind(self) -> str:
        """The FAISS kind of the largest segment."""
        return max(self.segments, key=lambda s: s.info.chunks).info.faiss_kind if self.segments else "flat"

    def search(
        self, query: np.ndarray, k: int, allowed: set[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk row ids, cosines) of the `k` nearest live chunks, optionally within `allowed`."""
        parts = []
        query = np.asarray(query, dtype=np.float32)
        for seg in self.segments:
            pool = max(k * RERANK_FACTOR, 100) if seg.info.faiss_kind == "ivfpq" else k
            ids, scores = seg.vectors.search(
                query, pool, allowed, self.nprobe, self.ef_search, excluded=seg.dead_rows
            )
            if seg.info.faiss_kind == "ivfpq" and len(ids):
                ids, scores = _exact(seg, ids, query, k)
            parts.append((ids, scores))
        return _top(parts, k)


def _exact(seg: Segment, ids: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-rank candidates by the exact cosine of their stored float32 vectors."""
    vectors = seg.meta.vectors_by_rows(ids)
    found = np.asarray([i for i in ids if int(i) in vectors], dtype=np.int64)
    exact = np.stack([vectors[int(i)] for i in found]) @ query
    order = np.lexsort((found, -exact))[:k]
    return found[order], exact[order].astype(np.float32)


class SegmentedKeywords:
    """BM25 over all segments with IDF computed over all of them (see the module docstring)."""

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments

    def document_frequency(self, token: str) -> int:
        return sum(s.keywords.document_frequency(token) for s in self.segments)

    def search(self, query: str, k: int, allowed: set[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        tokens = tokenize(query)
        total = sum(s.keywords.size for s in self.segments)
        global_df = {t: self.document_frequency(t) for t in set(tokens)}
        parts = []
        for seg in self.segments:
            weighted = []
            for token in tokens:
                df = seg.keywords.document_frequency(token)
                if df:
                    scale = lucene_idf(global_df[token], total) / lucene_idf(df, seg.keywords.size)
                    weighted.append((token, scale))
            if weighted:
                parts.append(seg.keywords.top(weighted, k, allowed, seg.dead_rows))
        return _top(parts, k)


class SegmentedStore:
    """The metadata look-ups of `MetadataStore`, over the live documents of every segment (newest first)."""

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments
        self._newest_first = list(reversed(segments))

    def close(self) -> None:
        for seg in self.segments:
            seg.close()

    def _owner(self, doc_id: str) -> Segment | None:
        for seg in self._newest_first:
            if seg.is_live(doc_id) and seg.meta.state_of(doc_id) is not None:
                return seg
        return None

    def state_of(self, doc_id: str) -> tuple[str, str] | None:
        seg = self._owner(doc_id)
        return seg.meta.state_of(doc_id) if seg else None

    def ids_with_prefix(self, prefix: str) -> list[str]:
        return sorted({d for s in self.segments for d in s.meta.ids_with_prefix(prefix) if s.is_live(d)})

    def document_state(self) -> dict[str, tuple[str, str]]:
        return {d: v for s in self.segments for d, v in s.meta.document_state().items() if s.is_live(d)}

    def get_document(self, doc_id: str) -> Document | None:
        seg = self._owner(doc_id)
        return seg.meta.get_document(doc_id) if seg else None

    def documents(self) -> Iterator[Document]:
        live = [(d, s) for s in self.segments for d in s.meta.document_state() if s.is_live(d)]
        for doc_id, seg in sorted(live, key=lambda x: x[0]):
            doc = seg.meta.get_document(doc_id)
            if doc is not None:
                yield doc

    def chunks_by_ids(self, ids: Iterable[int]) -> dict[int, Chunk]:
        wanted = np.fromiter((int(i) for i in ids), dtype=np.int64)
        found: dict[int, Chunk] = {}
        for seg in self.segments:
            if len(found) == len(wanted):
                break
            rows = seg.live_rows(wanted)
            found.update(seg.meta.chunks_by_ids(rows.tolist()) if len(rows) else {})
        return found

    def chunk_by_chunk_id(self, chunk_id: str) -> tuple[int, Chunk] | None:
        for seg in self._newest_first:
            hit = seg.meta.chunk_by_chunk_id(chunk_id)
            if hit is not None and seg.is_live(hit[1].doc_id):
                return hit
        return None

    def chunks_of(self, doc_id: str, first: int = 0, last: int = 1 << 30) -> list[Chunk]:
        seg = self._owner(doc_id)
        return seg.meta.chunks_of(doc_id, first, last) if seg else []

    def vectors_by_chunk_ids(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for seg in self.segments:
            out.update(seg.meta.vectors_by_chunk_ids(chunk_ids, seg.dead_docs))
        return out

    def all_texts(self) -> tuple[list[int], list[str]]:
        ids: list[int] = []
        texts: list[str] = []
        for seg in self.segments:
            seg_ids, seg_texts = seg.meta.all_texts(seg.dead_docs)
            ids += seg_ids
            texts += seg_texts
        return ids, texts

    def allowed_ids(self, filters: SearchFilters) -> set[int]:
        return {i for s in self.segments for i in s.meta.allowed_ids(filters, s.dead_docs)}

    def counts(self) -> dict[str, int]:
        """From the segment manifests less the tombstones (`heprag index verify` checks them)."""
        docs = sum(s.info.documents - len(s.dead_docs) for s in self.segments)
        chunks = sum(s.info.chunks - (0 if s.dead_rows is None else len(s.dead_rows)) for s in self.segments)
        return {"documents": docs, "chunks": chunks}

    def facet_counts(self, column: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for seg in self.segments:
            for key, n in seg.meta.facet_counts(column, seg.dead_docs).items():
                out[key] = out.get(key, 0) + n
        return out
