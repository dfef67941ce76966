"""The Answer contract shared by the CLI (--json), chat, MCP server and evals."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from heprag.index.types import Chunk, Hit

REFUSAL_PHRASE = "not found in the indexed literature"


class Citation(BaseModel):
    """One numbered source of an answer; `quote` is the supporting text inside the chunk."""

    n: int
    chunk_id: str
    doc_id: str
    label: str
    page: int | None = None
    section: str = ""
    quote: str = ""
    quote_start: int | None = Field(None, description="Offset of the quote within the chunk text")
    quote_end: int | None = None
    url: str | None = None


class Sentence(BaseModel):
    text: str
    citations: list[int] = Field(default_factory=list, description="Citation numbers [n] of this sentence")
    flags: list[str] = Field(
        default_factory=list, description="Validator findings, e.g. 'uncited', 'ungrounded:3.0σ'"
    )


class Answer(BaseModel):
    question: str
    answer: str = Field(description="Text with [n] markers")
    sentences: list[Sentence] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list, description="Passages retrieved for the question")
    refused: bool = False
    backend: str = "extractive"
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage")


def chunk_url(chunk: Chunk, links: dict[str, str]) -> str | None:
    """Link to the passage: the PDF at its page when known, else the abstract/record page."""
    if "pdf" in links and chunk.page_start:
        return f"{links['pdf']}#page={chunk.page_start}"
    return links.get("abs") or links.get("inspire") or links.get("url")


def passage_fields(chunk: Chunk, links: dict[str, str]) -> dict[str, Any]:
    """Where a passage sits and how to open it: the fields every surface (MCP, llama-index) shows."""
    return {
        "chunk_id": chunk.chunk_id,
        "doc_id": chunk.doc_id,
        "label": chunk.label,
        "ordinal": chunk.ordinal,
        "page": chunk.page_start,
        "page_end": chunk.page_end,
        "section": " / ".join(chunk.section),
        "url": chunk_url(chunk, links),
        "links": links,
    }


def make_citation(n: int, hit: Hit, links: dict[str, str], quote: str = "") -> Citation:
    chunk = hit.chunk
    start = chunk.text.find(quote) if quote else -1
    return Citation(
        n=n,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        label=chunk.label,
        page=chunk.page_start,
        section=" / ".join(chunk.section),
        quote=quote or chunk.text[:300],
        quote_start=start if start >= 0 else None,
        quote_end=start + len(quote) if start >= 0 else None,
        url=chunk_url(chunk, links),
    )
