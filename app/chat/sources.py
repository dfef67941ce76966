"""What the sources panel shows for one citation: paper or logbook fields and links, from the index."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from heprag.app.answer import Citation
from heprag.index.types import Document

_VERSION = re.compile(r"v(\d+)$")


@dataclass
class SourceView:
    """Display fields of one citation; `links` maps a caption to a URL (abstract, PDF page, INSPIRE)."""

    n: int
    label: str
    kind: str  # "paper" or "logbook" (or another source type)
    title: str = ""
    collaboration: str = ""
    version: str = ""
    page: int | None = None
    section: str = ""
    logbook: str = ""
    entry_id: str = ""
    time: str = ""
    author: str = ""
    links: dict[str, str] = field(default_factory=dict)

    def heading(self) -> str:
        """One line naming the source, e.g. '[1] ATLAS 2007.07830v2 §5, p. 12'."""
        return f"[{self.n}] {self.label}"


def _str(value: object) -> str:
    return "" if value is None else str(value)


def source_view(citation: Citation, doc: Document | None) -> SourceView:
    """Fields for the sources panel; works without the Document (deleted since) from the citation alone."""
    view = SourceView(
        n=citation.n, label=citation.label, kind="paper", page=citation.page, section=citation.section
    )
    if doc is None:
        if citation.url:
            view.links["source"] = citation.url
        return view
    view.kind = doc.source_type
    view.title = doc.title
    view.collaboration = doc.collaboration or ""
    if doc.source_type == "logbook":
        view.logbook = _str(doc.extra.get("logbook"))
        view.entry_id = _str(doc.extra.get("entry_id"))
        view.time = _str(doc.extra.get("time")) or (doc.date.isoformat() if doc.date else "")
        view.author = ", ".join(doc.authors)
        if citation.url:
            view.links["entry"] = citation.url
        return view
    match = _VERSION.search(doc.doc_id)
    view.version = f"v{match.group(1)}" if match else ""
    if "abs" in doc.links:
        view.links["arXiv abstract"] = doc.links["abs"]
    if "pdf" in doc.links:
        page = f"#page={citation.page}" if citation.page else ""
        view.links[f"PDF p. {citation.page}" if citation.page else "PDF"] = doc.links["pdf"] + page
    if "inspire" in doc.links:
        view.links["INSPIRE"] = doc.links["inspire"]
    if not view.links and citation.url:
        view.links["source"] = citation.url
    return view
