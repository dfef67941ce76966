"""Dense, BM25 and hybrid (reciprocal-rank fusion) retrieval over a CorpusIndex, then rerank and diversify."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np

from heprag.index.embedder import Embedder
from heprag.index.filters import SearchFilters
from heprag.index.mmr import mmr
from heprag.index.rerank import CrossEncoderReranker
from heprag.index.store import CorpusIndex
from heprag.index.types import Hit

Mode = Literal["hybrid", "dense", "bm25"]
Diversity = Literal["cap", "mmr"]


def reciprocal_rank_fusion(
    rankings: dict[str, list[int]], rrf_k: int = 60, weights: dict[str, float] | None = None
) -> list[tuple[int, float, list[str]]]:
    """Fuse ranked id lists: score(id) = sum_r w_r / (rrf_k + rank_r(id)); best first."""
    scores: dict[int, float] = defaultdict(float)
    found_by: dict[int, list[str]] = defaultdict(list)
    for name, ids in rankings.items():
        weight = (weights or {}).get(name, 1.0)
        for rank, chunk_id in enumerate(ids, start=1):
            scores[chunk_id] += weight / (rrf_k + rank)
            found_by[chunk_id].append(name)
    ordered = sorted(scores, key=lambda i: (-scores[i], i))
    return [(i, scores[i], found_by[i]) for i in ordered]


class HybridRetriever:
    """Embeds the query, searches FAISS and BM25, fuses with (weighted) RRF, optionally reranks with a
    cross-encoder, then diversifies: a per-document cap, or MMR over the chunk vectors (plus the cap)."""

    def __init__(
        self,
        index: CorpusIndex,
        embedder: Embedder,
        candidates: int = 50,
        rrf_k: int = 60,
        per_doc_cap: int | None = 4,
        weights: dict[str, float] | None = None,
        diversity: Diversity = "cap",
        mmr_lambda: float = 0.7,
        reranker: CrossEncoderReranker | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.per_doc_cap = per_doc_cap
        self.weights = weights
        self.diversity = diversity
        self.mmr_lambda = mmr_lambda
        self.reranker = reranker
        self.best_cosine: float | None = None  # cosine of the closest passage found by the last search

    def search(
        self, query: str, k: int = 10, filters: SearchFilters | None = None, mode: Mode = "hybrid"
    ) -> list[Hit]:
        allowed = None if filters is None or filters.is_empty() else self.index.meta.allowed_ids(filters)
        pool = max(self.candidates, k, self.reranker.candidates if self.reranker else 0)
        rankings: dict[str, list[int]] = {}
        query_vec = self.embedder.embed_query(query)
        dense_ids, dense_scores = self.index.vectors.search(query_vec, pool, allowed)
        cosine = {int(i): float(s) for i, s in zip(dense_ids, dense_scores, strict=True)}
        self.best_cosine = float(dense_scores[0]) if len(dense_scores) else None
        if mode in {"hybrid", "dense"}:
            rankings["dense"] = [int(i) for i in dense_ids]
        if mode in {"hybrid", "bm25"}:
            bm_ids, _ = self.index.keywords.search(query, pool, allowed)
            rankings["bm25"] = [int(i) for i in bm_ids]
        fused = reciprocal_rank_fusion(rankings, self.rrf_k, self.weights)
        if mode != "hybrid":  # keep the retriever's own scores
            own = cosine if mode == "dense" else None
            fused = [(i, own[i] if own else s, by) for i, s, by in fused]
        chunks = self.index.meta.chunks_by_ids(i for i, _, _ in fused)
        candidates = (
            Hit(chunk=chunks[row], score=score, rank=0, retrievers=by, dense_score=cosine.get(row))
            for row, score, by in fused
            if row in chunks
        )  # built lazily: the plain cap stops at k
        vectors: dict[str, np.ndarray] = {}
        if self.diversity == "cap" and not self.reranker:
            hits = _capped(candidates, k, self.per_doc_cap)
        else:
            hits = list(candidates)
            scored = len(hits)  # hits whose scores compare with each other (MMR's relevance)
            if self.reranker:
                hits = self.reranker.rerank(query, hits)
                scored = min(scored, self.reranker.candidates)
            if self.diversity == "mmr":
                vectors = self.index.meta.vectors_by_chunk_ids([h.chunk.chunk_id for h in hits[:scored]])
                picked = self._mmr(hits[:scored], vectors, k, len(query_vec))
                hits = picked + _capped(hits[scored:], k - len(picked), self.per_doc_cap, picked)
            else:
                hits = _capped(hits, k, self.per_doc_cap)
        for rank, hit in enumerate(hits, start=1):
            hit.rank = rank
        self._fill_missing_cosines(hits, query_vec, vectors)
        return hits

    def _mmr(self, hits: list[Hit], vectors: dict[str, np.ndarray], k: int, dim: int) -> list[Hit]:
        zero = np.zeros(dim, dtype=np.float32)
        unit = np.array([vectors.get(h.chunk.chunk_id, zero) for h in hits]).reshape(len(hits), dim)
        scores = np.array([h.score for h in hits])
        docs = [h.chunk.doc_id for h in hits]
        return [hits[i] for i in mmr(scores, unit, k, self.mmr_lambda, docs, self.per_doc_cap)]

    def _fill_missing_cosines(
        self, hits: list[Hit], query_vec: np.ndarray, vectors: dict[str, np.ndarray]
    ) -> None:
        """BM25-only hits get their cosine from the stored vectors (used by refusal decisions)."""
        missing = [h for h in hits if h.dense_score is None]
        if not missing:
            return
        todo = [h.chunk.chunk_id for h in missing if h.chunk.chunk_id not in vectors]
        vecs = {**vectors, **(self.index.meta.vectors_by_chunk_ids(todo) if todo else {})}
        for hit in missing:
            vec = vecs.get(hit.chunk.chunk_id)
            if vec is not None:
                hit.dense_score = float(np.dot(vec, query_vec))


def _capped(hits: Iterable[Hit], k: int, cap: int | None, taken: Sequence[Hit] = ()) -> list[Hit]:
    """The first `k` hits in order, at most `cap` per document (counting those already `taken`)."""
    per_doc: dict[str, int] = defaultdict(int)
    for hit in taken:
        per_doc[hit.chunk.doc_id] += 1
    out: list[Hit] = []
    for hit in hits:
        if len(out) >= k:
            break
        if cap and per_doc[hit.chunk.doc_id] >= cap:
            continue
        per_doc[hit.chunk.doc_id] += 1
        out.append(hit)
    return out
