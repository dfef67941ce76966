"""Structured outputs of the MCP tools: pydantic models with described fields, built from index types."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from pydantic import BaseModel, Field

from heprag.app.answer import Answer, Citation, Sentence, passage_fields
from heprag.app.bibtex import bibtex
from heprag.index.types import Chunk, Document, Hit

SNIPPET_CHARS = 500
QUOTE_CHARS = 300
MAX_AUTHORS = 50


class Passage(BaseModel):
    """One indexed passage (chunk); `label` is its human citation."""

    chunk_id: str = Field(description="Stable id; pass it to get_passage for the full text and its context")
    doc_id: str = Field(description="Document id, e.g. 'arXiv:2007.07830v2'; pass it to get_document")
    label: str = Field(description="Human citation, e.g. 'ATLAS 2007.07830v2 §5, p. 12'")
    ordinal: int = Field(description="Position of the passage within its document, from 0")
    page: int | None = Field(None, description="First page of the passage (1-based), when known")
    page_end: int | None = Field(None, description="Last page of the passage, when known")
    section: str = Field("", description="Section path, outermost first, joined by ' / '")
    url: str | None = Field(None, description="Link to the passage: PDF at its page, else the record page")
    links: dict[str, str] = Field(default_factory=dict, description="Document links: abs, pdf, inspire, doi")


class SearchPassage(Passage):
    rank: int = Field(description="1-based rank in the result list")
    score: float = Field(description="Fused retrieval score (reciprocal-rank fusion in hybrid mode)")
    similarity: float | None = Field(None, description="Cosine similarity of passage and query")
    snippet: str = Field(description=f"The passage text, cut at {SNIPPET_CHARS} characters")


class SearchResult(BaseModel):
    query: str
    mode: str = Field(description="hybrid, dense or bm25")
    passages: list[SearchPassage] = Field(description="Best passages first")


class PassageText(Passage):
    text: str = Field(description="Full text of the passage")


class PassageWithContext(BaseModel):
    passage: PassageText = Field(description="The requested passage")
    before: list[PassageText] = Field(default_factory=list, description="Preceding passages, in order")
    after: list[PassageText] = Field(default_factory=list, description="Following passages, in order")


class Section(BaseModel):
    path: str = Field(description="Section path joined by ' / '")
    first_page: int | None = None
    last_page: int | None = None
    passages: int = Field(description="Number of indexed passages in the section")
    first_chunk_id: str = Field(description="Chunk id where the section starts (for get_passage)")


class DocumentInfo(BaseModel):
    doc_id: str
    title: str
    authors: list[str] = Field(description=f"Up to {MAX_AUTHORS} authors")
    authors_total: int
    collaboration: str | None = None
    date: str | None = Field(None, description="Publication date, ISO format")
    year: int | None = None
    source: str = Field(description="Ingestor: pdf, latex, arxiv, inspire, elog, ...")
    source_type: str = Field(description="paper, logbook or note")
    categories: list[str] = Field(default_factory=list, description="arXiv categories")
    links: dict[str, str] = Field(default_factory=dict)
    sections: list[Section] = Field(default_factory=list, description="Sections in reading order")
    passages: int = Field(description="Number of indexed passages")
    references: int = Field(description="Number of bibliography entries")
    bibtex: str = Field(description="BibTeX entry (INSPIRE texkey when known)")


class CitedAnswer(BaseModel):
    """An answer with its citations and short quotes; the passages' full text only on request."""

    question: str
    answer: str = Field(description="Text with [n] markers pointing at `citations`")
    refused: bool = Field(description="True when the literature does not support an answer")
    sentences: list[Sentence] = Field(description="The answer's sentences, each with its [n] and flags")
    citations: list[Citation] = Field(description=f"Sources, quotes cut at {QUOTE_CHARS} characters")
    backend: str = Field(description="Generator that wrote the answer: extractive, openai or llamacpp")
    note: str = Field("", description="Why another backend than the one asked for answered, if it did")
    passages: list[PassageText] | None = Field(
        None, description="Full text of the retrieved passages (include_passages=true only)"
    )


class IndexInfo(BaseModel):
    documents: int
    passages: int
    by_source_type: dict[str, int] = Field(description="Documents per source type (paper, logbook, note)")
    by_source: dict[str, int] = Field(description="Documents per ingestor (pdf, latex, arxiv, ...)")
    by_collaboration: dict[str, int] = Field(description="Documents per known collaboration")
    year_min: int | None = None
    year_max: int | None = None
    embedding_model: str
    embedding_dim: int
    built_at: str = Field(description="When the live index generation was published (UTC)")
    generation: str


def search_passage(hit: Hit, links: dict[str, str]) -> SearchPassage:
    text = hit.chunk.text
    snippet = text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"
    return SearchPassage(
        **passage_fields(hit.chunk, links),
        rank=hit.rank,
        score=round(hit.score, 6),
        similarity=None if hit.dense_score is None else round(hit.dense_score, 6),
        snippet=snippet,
    )


def cited_answer(
    answer: Answer, note: str, links: dict[str, dict[str, str]], include_passages: bool
) -> CitedAnswer:
    """The MCP shape of an `Answer`: short quotes, and the passages only when asked for."""
    citations = [
        c if len(c.quote) <= QUOTE_CHARS else c.model_copy(update={"quote": c.quote[: QUOTE_CHARS - 1] + "…"})
        for c in answer.citations
    ]
    passages = [passage_text(h.chunk, links.get(h.chunk.doc_id, {})) for h in answer.hits]
    return CitedAnswer(
        question=answer.question,
        answer=answer.answer,
        refused=answer.refused,
        sentences=answer.sentences,
        citations=citations,
        backend=answer.backend,
        note=note,
        passages=passages if include_passages else None,
    )


def passage_text(chunk: Chunk, links: dict[str, str]) -> PassageText:
    return PassageText(**passage_fields(chunk, links), text=chunk.text)


def document_info(doc: Document, chunks: list[Chunk]) -> DocumentInfo:
    sections: OrderedDict[str, Section] = OrderedDict()
    for chunk in chunks:
        path = " / ".join(chunk.section)
        sec = sections.get(path)
        if sec is None:
            sections[path] = Section(
                path=path,
                first_page=chunk.page_start,
                last_page=chunk.page_end,
                passages=1,
                first_chunk_id=chunk.chunk_id,
            )
            continue
        sec.passages += 1
        if chunk.page_end is not None:
            sec.last_page = max(sec.last_page or 0, chunk.page_end)
    return DocumentInfo(
        doc_id=doc.doc_id,
        title=doc.title,
        authors=doc.authors[:MAX_AUTHORS],
        authors_total=len(doc.authors),
        collaboration=doc.collaboration,
        date=doc.date.isoformat() if doc.date else None,
        year=doc.year,
        source=doc.source,
        source_type=doc.source_type,
        categories=doc.categories,
        links=doc.links,
        sections=list(sections.values()),
        passages=len(chunks),
        references=len(doc.references),
        bibtex=bibtex(doc),
    )


def make_index_info(info: dict[str, Any], by_source: dict[str, int]) -> IndexInfo:
    """From `Library.info()` plus the per-ingestor counts."""
    manifest = info["manifest"]
    years = [int(y) for y in info["by_year"] if str(y).isdigit()]
    return IndexInfo(
        documents=info["counts"]["documents"],
        passages=info["counts"]["chunks"],
        by_source_type=_known(info["by_source_type"]),
        by_source=_known(by_source),
        by_collaboration=_known(info["by_collaboration"]),
        year_min=min(years, default=None),
        year_max=max(years, default=None),
        embedding_model=manifest["embedding"]["model"],
        embedding_dim=manifest["embedding"]["dim"],
        built_at=manifest["built_at"],
        generation=info["generation"],
    )


def _known(counts: dict[Any, int]) -> dict[str, int]:
    """Facet counts without the bucket of documents that lack the value."""
    return {str(k): v for k, v in counts.items() if k not in (None, "", "None")}
