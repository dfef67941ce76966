"""References: arXiv/INSPIRE links and a reading order for newcomers (BibTeX: `heprag.app.bibtex`)."""

from __future__ import annotations

import re

from heprag.app.summaries.model import ReadingItem, SelectedDocument
from heprag.index.types import Document

_ARXIV = re.compile(r"^arxiv:(?P<id>\d{4}\.\d{4,5}|[a-z-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?$", re.IGNORECASE)
# Newcomer order: broad material first, then the discovery, then combinations, then specific analyses.
_KINDS = [
    (re.compile(r"\b(review|overview|introduction|primer|roadmap|white paper)\b", re.I), 0, "an overview"),
    (re.compile(r"\b(observation of a new|discovery)\b", re.I), 1, "the discovery paper"),
    (re.compile(r"\b(combin\w*|global fit)\b", re.I), 2, "a combination of many analyses"),
    (re.compile(r"\b(observation|evidence)\b", re.I), 3, "an observation of the process itself"),
]


def arxiv_id(doc: Document) -> str | None:
    """'arXiv:2007.07830v2' → '2007.07830'; None for non-arXiv documents."""
    m = _ARXIV.match(doc.doc_id)
    return m.group("id") if m else None


def links(doc: Document) -> dict[str, str]:
    """arXiv and INSPIRE links of a document: stored ones first, derived from the arXiv id otherwise."""
    out = {k: v for k, v in doc.links.items() if k in {"abs", "pdf", "inspire", "doi", "url"}}
    ident = arxiv_id(doc)
    if ident:
        out.setdefault("abs", f"https://arxiv.org/abs/{ident}")
        out.setdefault("inspire", f"https://inspirehep.net/arxiv/{ident}")
    return out


def reading_order(selection: list[SelectedDocument]) -> list[ReadingItem]:
    """Documents ordered for a newcomer, each with one line saying why it comes there."""

    def kind(doc: Document) -> tuple[int, str]:
        for pattern, rank, why in _KINDS:
            if pattern.search(doc.title):
                return rank, why
        return 4, "a specific analysis"

    ranked = sorted(selection, key=lambda s: (kind(s.doc)[0], s.doc.year or 9999, -s.relevance))
    items: list[ReadingItem] = []
    for position, selected in enumerate(ranked, start=1):
        rank, why = kind(selected.doc)
        lead = "Start here: " if position == 1 else ""
        when = f" ({selected.doc.year})" if selected.doc.year else ""
        detail = (
            "read after the broader papers above; its details build on them"
            if rank == 4 and position > 1
            else "gives the context the later papers assume"
        )
        items.append(ReadingItem(doc_id=selected.doc.doc_id, why=f"{lead}{why}{when}; {detail}."))
    return items
