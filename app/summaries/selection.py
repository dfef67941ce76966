"""Topic → documents: a generous hybrid search, scores aggregated per document, diversified by MMR."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from heprag.app.summaries.model import SelectedDocument, TopicRequest
from heprag.index.embedder import Embedder
from heprag.index.errors import ConfigError
from heprag.index.retrieval import HybridRetriever
from heprag.index.segmented import SegmentedStore
from heprag.index.store import CorpusIndex
from heprag.index.types import Chunk, Document, Hit

log = logging.getLogger(__name__)
_VERSION = re.compile(r"v\d+$")


class SelectionError(ConfigError):
    """The topic's restrictions leave no document to report on."""


def read_paper_ids(path: Path) -> list[str]:
    """Ids from a file, one per line; blank lines and `#` comments are skipped."""
    if not path.exists():
        raise ConfigError(f"--papers file {path} does not exist; write one arXiv or doc id per line")
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _bare(doc_id: str) -> str:
    """'arXiv:2007.07830v2' → '2007.07830'; comparison key for user-given ids."""
    ident = doc_id.split(":", 1)[1] if doc_id.lower().startswith(("arxiv:", "inspire:")) else doc_id
    return _VERSION.sub("", ident.strip()).lower()


def resolve_papers(index: CorpusIndex, ids: list[str]) -> tuple[list[str], list[str]]:
    """(doc ids in the index, ids not found) for user ids like '2007.07830', 'arXiv:2007.07830v2'."""
    known: dict[str, list[str]] = defaultdict(list)
    for doc in index.meta.documents():
        known[doc.doc_id.lower()].append(doc.doc_id)
        known[_bare(doc.doc_id)].append(doc.doc_id)
    found: list[str] = []
    missing: list[str] = []
    for ident in ids:
        matches = known.get(ident.lower()) or known.get(_bare(ident))
        if matches:
            found.extend(m for m in matches if m not in found)
        else:
            missing.append(ident)
    return found, missing


def abstract_chunks(meta: SegmentedStore, doc_id: str) -> list[Chunk]:
    """The document's abstract chunks (where its headline results are stated), if it has any."""
    head = meta.chunks_of(doc_id, 0, 3)
    return [c for c in head if c.section and c.section[0].lower().startswith("abstract")]


def _mmr(relevance: np.ndarray, vectors: np.ndarray, count: int, lam: float) -> list[int]:
    """Maximal marginal relevance: indices balancing relevance against similarity to those chosen."""
    chosen: list[int] = []
    left = list(range(len(relevance)))
    sims = vectors @ vectors.T
    while left and len(chosen) < count:

        def gain(i: int) -> float:
            redundancy = max((float(sims[i, j]) for j in chosen), default=0.0)
            return lam * float(relevance[i]) - (1 - lam) * redundancy

        best = max(left, key=gain)
        chosen.append(best)
        left.remove(best)
    return chosen


def _reason(hits: list[Hit], topic: str, pool: int, listed: bool) -> str:
    text = " ".join(h.chunk.text.lower() for h in hits)
    matched = [w for w in dict.fromkeys(re.findall(r"[\w→-]{3,}", topic.lower())) if w in text]
    parts = ["listed in --papers"] if listed else []
    if hits:
        best = min(h.rank for h in hits)
        cos = max((h.dense_score or 0.0) for h in hits)
        parts.append(f"{len(hits)} of the top {pool} passages (best rank {best}, cosine {cos:.2f})")
    if matched:
        parts.append("mentions " + ", ".join(matched))
    return "; ".join(parts) or "no passage matched the topic"


def select_documents(
    index: CorpusIndex,
    embedder: Embedder,
    request: TopicRequest,
    *,
    max_documents: int = 8,
    search_k: int = 80,
    passages_per_document: int = 4,
    mmr_lambda: float = 0.7,
    min_cosine: float = 0.3,
    min_relevance: float = 0.3,
    rrf_k: int = 60,
) -> tuple[list[SelectedDocument], list[str]]:
    """The documents most relevant to the topic, diversified, each with why; plus unknown --papers ids."""
    filters = request.filters.model_copy(deep=True)
    if request.since is not None:
        filters.year_min = max(filters.year_min or request.since, request.since)
    missing: list[str] = []
    listed: list[str] = []
    if request.papers:
        listed, missing = resolve_papers(index, request.papers)
        if not listed:
            raise SelectionError(
                f"none of the --papers ids {request.papers[:5]} is in the index {index.index_dir}; "
                "ingest them first (`heprag ingest ...`) or fix the ids"
            )
        filters.doc_ids = (
            sorted(set(filters.doc_ids) | set(listed))
            if not filters.doc_ids
            else [d for d in filters.doc_ids if d in listed]
        )
    retriever = HybridRetriever(index, embedder, max(search_k, 50), rrf_k, per_doc_cap=None)
    hits = retriever.search(request.topic, k=search_k, filters=filters, mode="hybrid")
    per_doc: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        per_doc[hit.chunk.doc_id].append(hit)
    for doc_id in listed:
        per_doc.setdefault(doc_id, [])
    candidates = [
        d for d, h in per_doc.items()
        if d in listed or max((x.dense_score or 0.0) for x in h) >= min_cosine
    ]  # fmt: skip
    if not candidates:
        raise SelectionError(
            f"no document in {index.index_dir} matches the topic {request.topic!r} with the given filters "
            f"(best passage cosine below {min_cosine}); widen --filter/--since or ingest more papers"
        )
    # a document's relevance: its best three fused scores (a paper about the topic has several hits)
    raw = np.array([sum(h.score for h in per_doc[d][:3]) for d in candidates])
    relevance = raw / raw.max() if raw.max() > 0 else np.ones(len(candidates))
    vectors = _doc_vectors(index, candidates, per_doc)
    order = _mmr(relevance, vectors, max_documents, mmr_lambda) if len(candidates) > 1 else [0]
    # a document far below the best one is about something else (it only shares the vocabulary)
    order = [i for i in order if relevance[i] >= min_relevance or candidates[i] in listed]
    if listed:  # every listed paper is reported on, even one the topic search ranks low
        order = sorted(range(len(candidates)), key=lambda i: -relevance[i])
    selected: list[SelectedDocument] = []
    for i in order:
        doc_id = candidates[i]
        doc = index.meta.get_document(doc_id)
        if doc is None:
            log.warning("document %s vanished from the index; skipped", doc_id)
            continue
        doc_hits = per_doc[doc_id][:passages_per_document]
        selected.append(
            SelectedDocument(
                doc=_light(doc),
                relevance=round(float(relevance[i]), 4),
                best_cosine=round(max((h.dense_score or 0.0) for h in doc_hits), 4) if doc_hits else 0.0,
                hits=doc_hits,
                reason=_reason(per_doc[doc_id], request.topic, search_k, doc_id in listed),
            )
        )
    return selected, missing


def _light(doc: Document) -> Document:
    """The document's metadata without its text blocks (the report never needs them)."""
    return doc.model_copy(update={"blocks": [], "references": []})


def _doc_vectors(index: CorpusIndex, doc_ids: list[str], per_doc: dict[str, list[Hit]]) -> np.ndarray:
    """One unit vector per document: the mean of its retrieved passages' vectors (or its abstract's)."""
    rows: list[np.ndarray] = []
    for doc_id in doc_ids:
        ids = [h.chunk.chunk_id for h in per_doc[doc_id][:5]] or [
            c.chunk_id for c in index.meta.chunks_of(doc_id, 0, 1)
        ]
        found = index.meta.vectors_by_chunk_ids(ids) if ids else {}
        rows.append(np.mean(list(found.values()), axis=0) if found else np.zeros(0, dtype=np.float32))
    dim = max((len(r) for r in rows), default=1)
    mat = np.stack([r if len(r) == dim else np.zeros(dim, dtype=np.float32) for r in rows])
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    return mat / np.where(norms > 0, norms, 1.0)
