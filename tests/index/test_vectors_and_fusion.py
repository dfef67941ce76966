from __future__ import annotations

import numpy as np

from heprag.index.mmr import mmr
from heprag.index.retrieval import reciprocal_rank_fusion
from heprag.index.vectors import VectorIndex, choose_kind


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_flat_index_finds_exact_neighbour_and_honours_allowed_ids(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    vectors = _unit(rng.normal(size=(200, 32)))
    ids = np.arange(1000, 1200, dtype=np.int64)
    index = VectorIndex.build(ids, vectors, 32)
    assert index.kind == "flat"
    found, scores = index.search(vectors[17], 5)
    assert found[0] == 1017 and abs(scores[0] - 1.0) < 1e-5
    found, _ = index.search(vectors[17], 5, allowed={1003, 1004})
    assert set(found) <= {1003, 1004}
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", "flat")
    assert loaded.search(vectors[17], 1)[0][0] == 1017


def test_index_kind_grows_with_corpus_size() -> None:
    assert choose_kind(5_000) == "flat"
    assert choose_kind(500_000) == "ivf"
    assert choose_kind(5_000_000) == "ivfpq"


def test_rrf_rewards_agreement_between_retrievers() -> None:
    fused = reciprocal_rank_fusion({"dense": [1, 2, 3], "bm25": [3, 4, 1]})
    order = [i for i, _, _ in fused]
    assert order[:2] == [1, 3]
    assert dict((i, by) for i, _, by in fused)[3] == ["dense", "bm25"]


def test_weighted_rrf_lets_one_retriever_outvote_the_other() -> None:
    rankings = {"dense": [1, 2, 3], "bm25": [3, 2, 1]}

    def order(**weights: float) -> list[int]:
        return [i for i, _, _ in reciprocal_rank_fusion(rankings, weights=weights)]

    assert order(dense=2.0) == [1, 2, 3] and order(bm25=2.0) == [3, 2, 1]
    assert order(bm25=0.0) == [1, 2, 3] and order() == [1, 3, 2]  # equal weights: a tie, broken by id


def test_mmr_keeps_the_relevance_order_at_lambda_one_and_skips_near_duplicates_below() -> None:
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    vectors = np.stack([a, a, b, (a + b) / np.sqrt(2)])  # items 0 and 1 say the same thing
    relevance = np.array([0.9, 0.85, 0.5, 0.4])
    assert mmr(relevance, vectors, 4, lam=1.0) == [0, 1, 2, 3]
    assert mmr(relevance, vectors, 2, lam=0.5) == [0, 2]
    assert mmr(relevance, vectors, 4, 1.0, groups=["x", "x", "x", "y"], per_group_cap=2) == [0, 1, 3]
