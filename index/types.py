"""Core data types shared by every layer: Document, Block, Chunk, Hit."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

from pydantic import BaseModel, Field

BlockKind = Literal["text", "abstract", "caption", "equation", "table", "logbook"]
SourceType = Literal["paper", "logbook", "note"]
STRIPPED_PREFIXES = ("arXiv:", "inspire:", "report:", "doi:")
SourceRole = Literal["text", "pages", "metadata", "duplicate"]


def content_hash(text: str) -> str:
    """Stable SHA-256 hex digest of a text (used for incremental ingestion and caches)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Block(BaseModel):
    """A run of text from one place of a document: one page's paragraph, a caption, an entry body."""

    text: str
    page: int | None = Field(None, description="1-based page number, when the source has pages")
    section: list[str] = Field(default_factory=list, description="Section path, outermost first")
    kind: BlockKind = "text"


class Reference(BaseModel):
    """A bibliography entry of a document (kept as metadata, never chunked as prose)."""

    key: str | None = None
    text: str
    arxiv_id: str | None = None
    doi: str | None = None


class SourceFile(BaseModel):
    """One input a document was built from: a file, or one record of a multi-record file."""

    path: str = Field(description="Path relative to the ingest root (posix), e.g. 'HSF-TN/2016-01/x.tex'")
    abs_path: str = Field("", description="Absolute path of the file")
    record: str | None = Field(None, description="Id of the record within a JSONL/XML/ELOG file")
    parser: str = ""
    role: SourceRole = Field(
        "text", description="text (the chunked text), pages (page anchors), metadata, duplicate"
    )


class Document(BaseModel):
    """A parsed source: metadata plus ordered text blocks."""

    doc_id: str = Field(
        description="Stable id, e.g. 'arXiv:2007.07830v2', 'inspire:1234567', 'elog:ISOLDE/412'"
    )
    title: str = ""
    authors: list[str] = Field(default_factory=list)
    date: dt.date | None = None
    source: str = Field(
        "pdf", description="Ingestor that produced it: pdf, latex, arxiv, inspire, elog, text, ..."
    )
    source_type: SourceType = "paper"
    collaboration: str | None = None
    categories: list[str] = Field(default_factory=list)
    links: dict[str, str] = Field(default_factory=dict, description="abs, pdf, inspire, doi, ... URLs")
    path: str | None = Field(None, description="Local file the document was read from")
    blocks: list[Block] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    extra: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    sources: list[SourceFile] = Field(
        default_factory=list, description="Every input this document was built from (set at ingestion)"
    )
    content_hash: str = ""
    warnings: list[str] = Field(
        default_factory=list, exclude=True, description="Parse warnings for the ingest report (not stored)"
    )

    def model_post_init(self, __context: object) -> None:
        if not self.content_hash:
            self.content_hash = content_hash(self.fingerprint())

    def fingerprint(self) -> str:
        """The text that defines whether the document changed."""
        meta = f"{self.doc_id}\n{self.title}\n{self.date}\n"
        return meta + "\n\n".join(f"{b.page}|{'/'.join(b.section)}|{b.kind}|{b.text}" for b in self.blocks)

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None

    @property
    def short_name(self) -> str:
        """Human short name used in citation labels, e.g. 'ATLAS 2007.07830v2'."""
        ident = self.doc_id.split(":", 1)[-1] if self.doc_id.startswith(STRIPPED_PREFIXES) else self.doc_id
        ident = ident.split("@", 1)[0]  # a path id's content hash is not for humans
        return f"{self.collaboration} {ident}" if self.collaboration else ident


class Chunk(BaseModel):
    """A retrievable passage; `label` doubles as its human citation."""

    chunk_id: str
    doc_id: str
    ordinal: int = Field(description="Position of the chunk within its document, from 0")
    text: str
    section: list[str] = Field(default_factory=list)
    page_start: int | None = None
    page_end: int | None = None
    char_start: int = 0
    char_end: int = 0
    kind: BlockKind = "text"
    label: str = ""

    @property
    def page(self) -> int | None:
        return self.page_start


class Hit(BaseModel):
    """A chunk found by a retriever, with its score and rank (1-based)."""

    chunk: Chunk
    score: float
    rank: int
    retrievers: list[str] = Field(default_factory=list, description="Which retrievers found it: dense, bm25")
    dense_score: float | None = Field(None, description="Cosine similarity to the query, when known")
