"""Rerank and diversify: MMR and a real cross-encoder over the real three-paper index.

No trained cross-encoder can be had offline, so the reranker under test is a real `CrossEncoder` built from
the packaged MiniLM with a seeded, untrained head: it checks what the reranker does with the scores, not how
good they are (quality needs a trained model, e.g. ms-marco-MiniLM-L-6-v2, as `retrieval.rerank_model`).
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from heprag.app.library import Library
from heprag.app.settings import load_settings
from heprag.index.embedder import DEFAULT_MODEL, resolve_model_path
from heprag.index.errors import ConfigError
from heprag.index.filters import SearchFilters
from heprag.index.rerank import CrossEncoderReranker
from heprag.index.retrieval import HybridRetriever
from heprag.index.types import Hit

MUON = "Higgs boson decay to two muons"
TTH = "arXiv:1804.02610v2"

pytestmark = pytest.mark.corpus


def ids(hits: list[Hit]) -> list[str]:
    return [h.chunk.chunk_id for h in hits]


def seeded_cross_encoder(folder: Path) -> Path:
    """Save a real CrossEncoder to `folder`: the packaged MiniLM encoder with a seeded, untrained head."""
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(11)
    CrossEncoder(resolve_model_path(DEFAULT_MODEL), num_labels=1, device="cpu").save(str(folder))
    return folder


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_cross_encoder(tmp_path_factory.mktemp("cross-encoder"))


@pytest.mark.parametrize(
    "query", ["H to bb signal strength in VH production", "top quark pair production with a Higgs boson"]
)
def test_small_mmr_lambda_spans_more_papers_and_lambda_one_is_the_relevance_order(
    library: Library, query: str
) -> None:
    def search(**kw: Any) -> list[Hit]:
        return HybridRetriever(library.index, library.embedder, per_doc_cap=None, **kw).search(query, k=10)

    def papers(hits: list[Hit]) -> Counter[str]:
        return Counter(h.chunk.doc_id for h in hits)

    relevance = search()
    diverse = search(diversity="mmr", mmr_lambda=0.3)
    assert len(papers(diverse)) > len(papers(relevance))
    assert max(papers(diverse).values()) < max(papers(relevance).values())
    assert diverse[0].chunk.chunk_id == relevance[0].chunk.chunk_id
    assert [h.rank for h in diverse] == list(range(1, 11)) and all(h.dense_score is not None for h in diverse)
    assert ids(search(diversity="mmr", mmr_lambda=1.0)) == ids(relevance)


def test_mmr_from_settings_still_honours_the_per_document_cap(library: Library) -> None:
    library.settings.retrieval.diversity = "mmr"
    library.settings.retrieval.mmr_lambda = 0.9
    hits = library.search(MUON, k=8)
    per_doc = {d: sum(h.chunk.doc_id == d for h in hits) for d in {h.chunk.doc_id for h in hits}}
    assert len(hits) == 8 and max(per_doc.values()) <= library.settings.retrieval.per_doc_cap


def test_reranker_orders_the_top_candidates_by_cross_encoder_score_and_leaves_the_rest(
    library: Library, cross_encoder_dir: Path
) -> None:
    from sentence_transformers import CrossEncoder

    fused = HybridRetriever(library.index, library.embedder, per_doc_cap=None).search(MUON, k=30)
    reranker = CrossEncoderReranker(str(cross_encoder_dir), candidates=10, device="cpu")
    hits = HybridRetriever(library.index, library.embedder, per_doc_cap=None, reranker=reranker).search(
        MUON, k=30
    )
    head = fused[:10]
    scores = CrossEncoder(str(cross_encoder_dir), device="cpu").predict([(MUON, h.chunk.text) for h in head])
    expected = [head[i] for i in np.argsort(-scores, kind="stable")]
    assert ids(hits[:10]) == ids(expected)
    assert ids(hits[:10]) != ids(head)  # the untrained head does reorder them
    assert [h.score for h in hits[:10]] == pytest.approx(sorted(scores.tolist(), reverse=True), abs=1e-6)
    assert all(h.retrievers[-1] == "rerank" for h in hits[:10])
    assert {h.chunk.chunk_id: h.dense_score for h in hits[:10]} == {
        h.chunk.chunk_id: h.dense_score for h in head
    }
    assert ids(hits[10:]) == ids(fused[10:]) and not any("rerank" in h.retrievers for h in hits[10:])
    assert [h.rank for h in hits] == list(range(1, 31))


def test_reranked_search_still_applies_filters_and_the_cap(library: Library, cross_encoder_dir: Path) -> None:
    reranker = CrossEncoderReranker(str(cross_encoder_dir), candidates=12, device="cpu")
    retriever = HybridRetriever(library.index, library.embedder, per_doc_cap=2, reranker=reranker)
    hits = retriever.search(MUON, k=6, filters=SearchFilters(doc_ids=[TTH]))
    assert hits and {h.chunk.doc_id for h in hits} == {TTH} and len(hits) == 2
    assert all("rerank" in h.retrievers for h in hits)


def test_library_loads_the_configured_cross_encoder_once_across_threads(
    small_index: Path, cross_encoder_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sentence_transformers

    loads: list[str] = []

    class CountingCrossEncoder(sentence_transformers.CrossEncoder):
        def __init__(self, *args: object, **kwargs: object) -> None:
            loads.append(str(args[0]))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(sentence_transformers, "CrossEncoder", CountingCrossEncoder)
    settings = load_settings(index_dir=small_index)
    settings.retrieval.rerank_model = str(cross_encoder_dir)
    settings.retrieval.rerank_candidates = 5
    library = Library(settings)
    results: list[list[Hit]] = []
    threads = [threading.Thread(target=lambda: results.append(library.search(MUON, k=5))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == [str(cross_encoder_dir)]
    assert len(results) == 4 and all(ids(r) == ids(results[0]) for r in results)
    assert library.retriever().reranker is library.retriever().reranker


def test_an_unloadable_cross_encoder_names_the_setting(library: Library, tmp_path: Path) -> None:
    reranker = CrossEncoderReranker(str(tmp_path / "no-such-model"), device="cpu")
    with pytest.raises(ConfigError, match=r"retrieval\.rerank_model"):
        HybridRetriever(library.index, library.embedder, reranker=reranker).search(MUON)
