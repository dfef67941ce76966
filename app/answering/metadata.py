"""Metadata questions (journal, authors, year, arXiv id, report number, DOI) answered from the record."""

from __future__ import annotations

from heprag.app.answering.question import Question
from heprag.index.types import Document

MAX_AUTHORS = 5


def _title(doc: Document) -> str:
    return f"“{doc.title.strip()}”" if doc.title.strip() else doc.short_name


def _authors(doc: Document) -> str | None:
    if doc.collaboration and (not doc.authors or len(doc.authors) > MAX_AUTHORS):
        return f"the {doc.collaboration} Collaboration"
    if not doc.authors:
        return None
    names = doc.authors[:MAX_AUTHORS]
    more = " et al." if len(doc.authors) > MAX_AUTHORS else ""
    return (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]) + more


def metadata_sentence(q: Question, doc: Document) -> str | None:
    """One sentence stating the asked field of `doc`'s record, or None when the record lacks it."""
    extra = doc.extra
    title = _title(doc)
    if q.meta == "journal":
        ref = str(extra.get("journal_ref") or "")
        return f"{title} was published in {ref}." if ref else None
    if q.meta == "authors":
        who = _authors(doc)
        return f"{title} is by {who}." if who else None
    if q.meta == "year":
        return f"{title} dates from {doc.date.year}." if doc.date else None
    if q.meta == "arxiv":
        arxiv = str(
            extra.get("arxiv_id")
            or (doc.doc_id.removeprefix("arXiv:") if doc.doc_id.startswith("arXiv:") else "")
        )
        return f"{title} is arXiv:{arxiv}." if arxiv else None
    if q.meta == "report":
        numbers = str(extra.get("report_numbers") or "")
        return f"{title} has the report number {numbers}." if numbers else None
    if q.meta == "doi":
        doi = str(extra.get("doi") or "")
        return f"The DOI of {title} is {doi}." if doi else None
    return None
