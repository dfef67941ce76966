"""The report's data model: what was selected and why, the cited text, the key numbers, the checks."""

from __future__ import annotations

from pydantic import BaseModel, Field

from heprag.app.answer import Citation, Sentence
from heprag.index.filters import SearchFilters
from heprag.index.types import Document, Hit


class TopicRequest(BaseModel):
    """One report to write: a topic plus the optional restrictions of the command line / batch file."""

    topic: str
    name: str = Field("", description="File stem for --batch output (default: a slug of the topic)")
    since: int | None = Field(None, description="Earliest publication year")
    filters: SearchFilters = Field(default_factory=SearchFilters)
    papers: list[str] = Field(default_factory=list, description="Restrict to these ids (arXiv id or doc id)")


class SelectedDocument(BaseModel):
    """A document chosen for the report, with the passages that got it chosen."""

    doc: Document
    relevance: float = Field(description="Aggregated fused score, 1.0 for the most relevant document")
    best_cosine: float = 0.0
    hits: list[Hit] = Field(default_factory=list, description="Its best passages for the topic, best first")
    reason: str = ""
    on_topic: bool = Field(
        True, description="Its title/abstract state the topic: it enters the synthesis and the key numbers"
    )


class DocumentSummary(BaseModel):
    """Map step output: a cited summary of one document; `sentences` cite report-wide numbers."""

    doc_id: str
    sentences: list[Sentence] = Field(default_factory=list)
    cached: bool = False


class ThemeGroup(BaseModel):
    """Reduce step output: the synthesis for one experiment/collaboration."""

    theme: str
    doc_ids: list[str] = Field(default_factory=list)
    sentences: list[Sentence] = Field(default_factory=list)


class Cell(BaseModel):
    """A key-numbers table cell: a value, the report citation backing it, and whether the check found it."""

    value: str
    citation: int | None = None
    found: bool = False


class KeyNumber(BaseModel):
    """One measured quantity of one document, each cell cited."""

    doc_id: str
    quantity: str = Field(description="What was measured, e.g. 'observed significance', 'signal strength μ'")
    value: Cell
    experiment: str = ""
    sqrt_s: Cell | None = None
    luminosity: Cell | None = None
    context: str = Field("", description="The passage text around the value")


class ReadingItem(BaseModel):
    doc_id: str
    why: str


class Tallies(BaseModel):
    """The automatic checks: every sentence cited and its numbers grounded; every key value found."""

    sentences: int = 0
    sentences_valid: int = 0
    key_values: int = 0
    key_values_found: int = 0
    flags: list[str] = Field(default_factory=list, description="What failed, e.g. 'uncited: <sentence>'")

    @property
    def ok(self) -> bool:
        return self.sentences_valid == self.sentences and self.key_values_found == self.key_values

    def line(self) -> str:
        return (
            f"sentences cited and grounded: {self.sentences_valid}/{self.sentences}; "
            f"key numbers found in their cited passages: {self.key_values_found}/{self.key_values}"
        )


class Report(BaseModel):
    """Everything the markdown and HTML renderers need."""

    topic: str
    backend: str
    created: str
    index_dir: str
    selection: list[SelectedDocument] = Field(default_factory=list)
    missing_papers: list[str] = Field(default_factory=list, description="--papers ids not in the index")
    synthesis: list[ThemeGroup] = Field(default_factory=list)
    summaries: list[DocumentSummary] = Field(default_factory=list)
    key_numbers: list[KeyNumber] = Field(default_factory=list)
    reading_list: list[ReadingItem] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    timeline_png: str | None = Field(None, description="Path of the timeline plot")
    tallies: Tallies = Field(default_factory=Tallies)
    timings: dict[str, float] = Field(default_factory=dict)
    cache_hits: int = 0

    def document(self, doc_id: str) -> Document:
        for selected in self.selection:
            if selected.doc.doc_id == doc_id:
                return selected.doc
        raise KeyError(doc_id)
