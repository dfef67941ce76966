"""Dense, BM25 and hybrid (reciprocal-rank fusion) retrieval over a CorpusIndex."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

import numpy as np

from heprag.index.embedder import Embedder
from heprag.index.filters import SearchFilters
from heprag.index.store import CorpusIndex
from heprag.index.types import Hit

Mode = Literal["hybrid", "dense", "bm25"]


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
    """Embeds the query, searches FAISS and BM25, fuses with RRF and caps hits per document."""

    def __init__(
        self,
        index: CorpusIndex,
        embedder: Embedder,
        candidates: int = 50,
        rrf_k: int = 60,
        per_doc_cap: int | None = 4,
        weights: dict[str, float] | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.per_doc_cap = per_doc_cap
        self.weights = weights
        self.best_cosine: float | None = None  # cosine of the closest passage found by the last search

    def search(
        self, query: str, k: int = 10, filters: SearchFilters | None = None, mode: Mode = "hybrid"
    ) -> list[Hit]:
        allowed = None if filters is None or filters.is_empty() else self.index.meta.allowed_ids(filters)
        pool = max(self.candidates, k)
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
        chunks = self.index.meta.chunks_by_ids(i for i, _, _ in fused[: pool * 2])
        hits: list[Hit] = []
        per_doc: dict[str, int] = defaultdict(int)
        for chunk_row, score, found_by in fused:
            chunk = chunks.get(chunk_row)
            if chunk is None:
                continue
            if self.per_doc_cap and per_doc[chunk.doc_id] >= self.per_doc_cap:
                continue
            per_doc[chunk.doc_id] += 1
            dense = cosine.get(chunk_row)
            hits.append(
                Hit(chunk=chunk, score=score, rank=len(hits) + 1, retrievers=found_by, dense_score=dense)
            )
            if len(hits) >= k:
                break
        self._fill_missing_cosines(hits, query_vec)
        return hits

    def _fill_missing_cosines(self, hits: list[Hit], query_vec: np.ndarray) -> None:
        """BM25-only hits get their cosine from the stored vectors (used by refusal decisions)."""
        missing = [h for h in hits if h.dense_score is None]
        if not missing:
            return
        vecs = self.index.meta.vectors_by_chunk_ids([h.chunk.chunk_id for h in missing])
        for hit in missing:
            vec = vecs.get(hit.chunk.chunk_id)
            if vec is not None:
                hit.dense_score = float(np.dot(vec, query_vec))
