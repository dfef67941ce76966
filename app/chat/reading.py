""" "Start here": the most central indexed documents for a topic, each with one cited line on why.

Centrality combines (1) retrieval centrality — reciprocal ranks of a document's passages among the
topic's hits, (2) how many other indexed documents cite it (their reference lists carry arXiv ids) and
(3) the INSPIRE citation count when ingestion recorded one (`extra['citation_count']`).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from heprag.app.citations import best_quote
from heprag.index.types import Document, Hit

_BASE_ID = re.compile(r"^arXiv:(?P<id>.+?)(?:v\d+)?$")


@dataclass
class ReadingItem:
    doc_id: str
    title: str
    label: str  # citation label of the passage that says why it matters
    why: str  # that passage's most relevant sentence (a quote)
    page: int | None
    url: str | None
    score: float
    cited_in_corpus: int
    inspire_citations: int | None


def corpus_citation_counts(documents: Iterable[Document]) -> dict[str, int]:
    """doc_id -> number of *other* indexed documents whose references cite it (matched by arXiv id)."""
    docs = list(documents)
    by_base: dict[str, str] = {}
    for doc in docs:
        match = _BASE_ID.match(doc.doc_id)
        if match:
            by_base[match.group("id")] = doc.doc_id
    counts: dict[str, int] = defaultdict(int)
    for doc in docs:
        cited = {by_base[r.arxiv_id] for r in doc.references if r.arxiv_id and r.arxiv_id in by_base}
        for doc_id in cited - {doc.doc_id}:
            counts[doc_id] += 1
    return dict(counts)


def reading_list(
    topic: str,
    hits: list[Hit],
    document: Callable[[str], Document | None],
    cited_in_corpus: dict[str, int],
    n: int = 5,
) -> list[ReadingItem]:
    """Rank the documents behind `hits` (a search for `topic`) by centrality; best first."""
    retrieval: dict[str, float] = defaultdict(float)
    best_hit: dict[str, Hit] = {}
    for hit in hits:
        retrieval[hit.chunk.doc_id] += 1.0 / hit.rank
        best_hit.setdefault(hit.chunk.doc_id, hit)
    if not retrieval:
        return []
    top = max(retrieval.values())
    items: list[ReadingItem] = []
    for doc_id, centrality in retrieval.items():
        doc = document(doc_id)
        inspire = doc.extra.get("citation_count") if doc else None
        inspire_n = int(inspire) if isinstance(inspire, int | float) else None
        in_corpus = cited_in_corpus.get(doc_id, 0)
        score = centrality / top + 0.25 * math.log1p(in_corpus) + 0.05 * math.log1p(inspire_n or 0)
        hit = best_hit[doc_id]
        links = doc.links if doc else {}
        page = hit.chunk.page_start
        url = f"{links['pdf']}#page={page}" if "pdf" in links and page else links.get("abs")
        items.append(
            ReadingItem(
                doc_id=doc_id,
                title=(doc.title if doc else "") or doc_id,
                label=hit.chunk.label,
                why=best_quote(topic, hit.chunk.text),
                page=page,
                url=url,
                score=round(score, 4),
                cited_in_corpus=in_corpus,
                inspire_citations=inspire_n,
            )
        )
    items.sort(key=lambda item: -item.score)
    return items[:n]
