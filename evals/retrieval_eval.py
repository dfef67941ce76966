"""Retrieval evaluation: index a BEIR corpus (cached by content hash), run each retriever, score the runs.

Each BEIR record becomes a `Document` (doc_id = the BEIR id) with one `abstract` block holding the title
and text; hits are chunks, and a document's rank is the rank of its best chunk (max over chunks).
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from heprag.app.settings import Settings, make_embedder
from heprag.evals.datasets import RetrievalDataset
from heprag.evals.metrics import mean_metrics, per_query
from heprag.index import keyword as keyword_module
from heprag.index.embedder import Embedder
from heprag.index.errors import ConfigError
from heprag.index.rerank import CrossEncoderReranker
from heprag.index.retrieval import HybridRetriever, Mode
from heprag.index.store import CorpusIndex
from heprag.index.types import Block, Document, Hit
from heprag.ingest.chunking import ChunkSettings
from heprag.ingest.pipeline import Ingestor
from heprag.ingest.report import IngestReport

log = logging.getLogger(__name__)

RetrieverName = Literal["bm25", "dense", "hybrid", "mmr", "rerank"]
RETRIEVERS: tuple[RetrieverName, ...] = ("bm25", "dense", "hybrid", "mmr", "rerank")


@dataclass(frozen=True)
class Baseline:
    """A published figure to print beside ours."""

    ndcg_at_10: float
    source: str


# SciFact nDCG@10 on the 300 test claims (ours run on the 809 training claims: same corpus, other claims).
PUBLISHED: dict[str, dict[str, Baseline]] = {
    "scifact": {
        "bm25": Baseline(0.665, "BEIR paper (Thakur et al. 2021), BM25, SciFact test"),
        "dense": Baseline(0.645, "all-MiniLM-L6-v2 (sentence-transformers/MTEB), SciFact test"),
    }
}


def published_baseline(dataset: str, retriever: str) -> Baseline | None:
    key = "scifact" if dataset.startswith("scifact") else dataset
    return PUBLISHED.get(key, {}).get(retriever)


@dataclass
class RetrieverResult:
    """Scores of one retriever on one dataset."""

    retriever: str
    metrics: dict[str, float]
    per_query: dict[str, dict[str, float]]
    latency_ms: list[float]
    baseline: Baseline | None = None


@dataclass
class RetrievalRun:
    dataset: str
    queries: int
    corpus_docs: int
    index_dir: str
    results: dict[str, RetrieverResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def beir_documents(dataset: RetrievalDataset) -> list[Document]:
    """One Document per corpus record: title and text in one abstract block."""
    docs = []
    for doc_id, (title, text) in dataset.corpus.items():
        body = f"{title.strip()}\n{text.strip()}".strip() if title.strip() else text.strip()
        if body:
            docs.append(
                Document(
                    doc_id=doc_id, title=title, source="beir", blocks=[Block(text=body, kind="abstract")]
                )
            )
    return docs


WHOLE_RECORD_TOKENS = 100_000  # one chunk per record; the embedder truncates it (MiniLM: 256 tokens)


def chunk_settings(settings: Settings, chunk_tokens: int | None = None) -> ChunkSettings:
    """Chunking for a BEIR corpus: whole records by default, as the published baselines embed them."""
    c = settings.chunking
    return ChunkSettings(chunk_tokens or WHOLE_RECORD_TOKENS, c.overlap_sentences, c.min_tokens)


def eval_index_dir(
    dataset: RetrievalDataset, embedder: Embedder, chunking: ChunkSettings, root: Path
) -> Path:
    """`<root>/eval-indexes/<name>-<hash>`: a re-run reuses it.

    The hash covers the corpus, the embedding model, the chunking and the BM25 tokenizer's source (BM25
    is built at publish time, so a tokenizer change must not meet an index built by the old one).
    """
    tokenizer = hashlib.sha256(inspect.getsource(keyword_module).encode()).hexdigest()
    parts = f"{dataset.fingerprint()}|{embedder.model_id}|{chunking.key()}|{tokenizer}"
    key = hashlib.sha256(parts.encode()).hexdigest()
    return root / "eval-indexes" / f"{dataset.name}-{key[:16]}"


def build_eval_index(
    dataset: RetrievalDataset,
    settings: Settings,
    embedder: Embedder,
    chunk_tokens: int | None = None,
    show_progress: bool = True,
) -> tuple[Path, IngestReport]:
    """Index the dataset's corpus (a no-op when the cached index already holds it); exact (flat) search."""
    if not dataset.corpus:
        raise ConfigError(f"dataset {dataset.name!r} has no corpus; evaluate it over an index with --index")
    chunking = chunk_settings(settings, chunk_tokens)
    index_dir = eval_index_dir(dataset, embedder, chunking, settings.embedding.cache_dir)
    ingestor = Ingestor(index_dir, embedder, chunking, faiss_kind="flat", show_progress=show_progress)
    report = ingestor.ingest_documents(beir_documents(dataset))
    return index_dir, report


def rank_documents(hits: Sequence[Hit], depth: int) -> list[str]:
    """Document ids in the order of their best chunk, at most `depth`."""
    return list(dict.fromkeys(h.chunk.doc_id for h in hits))[:depth]


def variant(retriever: HybridRetriever, name: str, reranker: CrossEncoderReranker | None) -> HybridRetriever:
    """The retriever an eval name stands for: `rerank` adds the cross-encoder, `mmr` diversifies by MMR."""
    out = copy.copy(retriever)
    out.reranker = reranker if name == "rerank" else None
    out.diversity = "mmr" if name == "mmr" else "cap"
    return out


def run_retrievers(
    dataset: RetrievalDataset,
    retriever: HybridRetriever,
    names: Sequence[str],
    depth: int = 100,
    reranker: CrossEncoderReranker | None = None,
    on_query: Callable[[str], None] | None = None,
) -> dict[str, RetrieverResult]:
    """Search every judged query with each retriever and score the document rankings."""
    queries = dataset.judged_queries()
    chunk_k = depth * 2  # abstracts may have several chunks: fetch enough for `depth` documents
    retriever.candidates = max(retriever.candidates, chunk_k)
    results: dict[str, RetrieverResult] = {}
    for name in names:
        searcher = variant(retriever, name, reranker)
        mode: Mode = "bm25" if name == "bm25" else "dense" if name == "dense" else "hybrid"
        run: dict[str, list[str]] = {}
        latency: list[float] = []
        for qid, text in queries.items():
            t0 = time.perf_counter()
            hits = searcher.search(text, k=chunk_k, mode=mode)
            run[qid] = rank_documents(hits, depth)
            latency.append((time.perf_counter() - t0) * 1000)
            if on_query:
                on_query(name)
        scores = per_query(run, {q: dataset.qrels[q] for q in queries})
        results[name] = RetrieverResult(
            name, mean_metrics(scores), scores, latency, published_baseline(dataset.name, name)
        )
    return results


def evaluate_retrieval(
    dataset: RetrievalDataset,
    settings: Settings,
    names: Sequence[str] = ("bm25", "dense", "hybrid"),
    index_dir: Path | None = None,
    depth: int = 100,
    show_progress: bool = True,
    chunk_tokens: int | None = None,
) -> RetrievalRun:
    """Build (or reuse) the dataset's index, or use `index_dir`, and score each named retriever.

    `chunk_tokens=None` indexes each record whole (as the published baselines do); a number chunks records.
    """
    unknown = [n for n in names if n not in RETRIEVERS]
    if unknown:
        raise ConfigError(f"unknown retrievers {unknown}; choose from {', '.join(RETRIEVERS)}")
    embedder = make_embedder(settings)
    notes = list(dataset.notes)
    if dataset.corpus:
        index_dir, report = build_eval_index(dataset, settings, embedder, chunk_tokens, show_progress)
        if report.chunks_embedded:
            notes.append(f"indexed {len(report.added)} documents ({report.chunks_embedded} chunks embedded)")
    elif index_dir is None:
        raise ConfigError(f"dataset {dataset.name!r} has no corpus; pass the index to search with --index")
    index = CorpusIndex.open(index_dir, embedder.model_id)
    names = list(names)
    r = settings.retrieval
    reranker = None
    if "rerank" in names:
        if not r.rerank_model:
            names.remove("rerank")
            notes.append(
                "rerank skipped: no cross-encoder is packaged and none is downloaded; "
                "set retrieval.rerank_model (HEPRAG_RETRIEVAL__RERANK_MODEL) to a local model path"
            )
        else:
            reranker = CrossEncoderReranker(r.rerank_model, r.rerank_candidates, settings.embedding.device)
            reranker.model  # noqa: B018  (load now: a bad path fails before any search)
    weights = {"dense": r.dense_weight, "bm25": r.bm25_weight}
    retriever = HybridRetriever(
        index, embedder, r.candidates, r.rrf_k, None, weights, mmr_lambda=r.mmr_lambda
    )
    try:
        results = _run_with_progress(dataset, retriever, names, depth, reranker, show_progress)
    finally:
        index.close()
    return RetrievalRun(
        dataset.name, len(dataset.judged_queries()), index.manifest.counts.get("documents", 0),
        str(index_dir), results, notes,
    )  # fmt: skip


def _run_with_progress(
    dataset: RetrievalDataset,
    retriever: HybridRetriever,
    names: list[str],
    depth: int,
    reranker: CrossEncoderReranker | None,
    show_progress: bool,
) -> dict[str, RetrieverResult]:
    if not show_progress:
        return run_retrievers(dataset, retriever, names, depth, reranker)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("Searching", total=len(dataset.judged_queries()) * len(names))
        return run_retrievers(dataset, retriever, names, depth, reranker, lambda _: bar.advance(task))
