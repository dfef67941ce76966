"""One paper, several representations, one document.

Representations that share an identity key (arXiv id, INSPIRE recid, DOI, report number, a long
title, or an `x.pdf` beside its `x.tex`) are one paper. The document takes its text from the best
full text (LaTeX, so the equations stay intact, before unarXive/Nougat, before PDF), its page anchors
from the PDF, and its authors, collaboration, journal and texkey from INSPIRE. Nothing is dropped
silently: an older arXiv version is *superseded*, an identical copy is a *duplicate*, and a second,
different full text claiming the same identity (or a PDF matching under half of the text) is a
*conflict*: kept as its own document and reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from heprag.index.types import Block, Document, SourceRole, content_hash
from heprag.ingest.identity import Representation, arxiv_of, doi_of, recid_of, report_numbers, strong_id
from heprag.ingest.page_align import align_pages
from heprag.ingest.report import Conflict
from heprag.ingest.sources.inspire import ENRICHED_KEYS

Placement = Literal["text", "merged", "superseded", "conflict"]
MIN_ALIGNED = 0.5  # share of the text's blocks found in a PDF for the PDF to give it pages
TEXT_RANK = {"latex": 0, "latex-archive": 0, "jsonl-records": 1, "nougat": 1, "pdf": 2}


@dataclass
class Placed:
    """Where one representation went: the document id, and whether it is that document's text."""

    rep: Representation
    doc_id: str
    placement: Placement
    reason: str | None = None


@dataclass
class MergeResult:
    documents: list[Document] = field(default_factory=list)
    placed: list[Placed] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def merge(reps: list[Representation]) -> MergeResult:
    """Group the representations by shared identity and build one document per group."""
    result = MergeResult()
    for group in _groups(reps):
        for part in _split_by_arxiv(group):
            _merge_group(part, result)
    return result


def _groups(reps: list[Representation]) -> list[list[Representation]]:
    """Connected components of 'shares a key' (union-find), each in input order."""
    parent = list(range(len(reps)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, rep in enumerate(reps):
        for key in rep.keys:
            if key in owner:
                parent[find(i)] = find(owner[key])
            else:
                owner[key] = i
    groups: dict[int, list[Representation]] = defaultdict(list)
    for i, rep in enumerate(reps):
        groups[find(i)].append(rep)
    return sorted(groups.values(), key=lambda g: g[0].order)


def _split_by_arxiv(group: list[Representation]) -> list[list[Representation]]:
    """Two different arXiv papers are never one document, whatever else they share."""
    bases = list(dict.fromkeys(a[0] for r in group if (a := r.arxiv)))
    if len(bases) < 2:
        return [group]
    parts: dict[str, list[Representation]] = {b: [] for b in bases}
    for rep in group:
        parts[a[0] if (a := rep.arxiv) else bases[0]].append(rep)
    return list(parts.values())


def _rank(rep: Representation) -> tuple[int, bool, int]:
    named = bool(report_numbers(Path(rep.source.path).stem)) or not rep.weak
    return TEXT_RANK.get(rep.source.parser, 3), not named, rep.order


def _body_hash(doc: Document) -> str:
    return content_hash("\n".join(b.text for b in doc.blocks))


def _merge_group(group: list[Representation], result: MergeResult) -> None:
    texts = sorted((r for r in group if not r.is_metadata), key=_rank)
    metas = sorted((r for r in group if r.is_metadata), key=lambda r: (r.doc.source != "inspire", r.order))
    top = max((a[1] or 0 for r in texts if (a := r.arxiv)), default=0)
    current = [r for r in texts if not ((a := r.arxiv) and a[1] and a[1] < top)]
    older = [r for r in texts if r not in current]
    primary = (current or metas)[0]
    roles: list[tuple[Representation, SourceRole]] = [(primary, "text")]
    conflicts: list[Representation] = []
    pages: tuple[Representation, list[Block], float] | None = None
    for rep in current[1:]:
        same_format = [r for r, _ in roles if r.source.parser == rep.source.parser]
        if any(_body_hash(r.doc) == _body_hash(rep.doc) for r in same_format):
            roles.append((rep, "duplicate"))
        elif same_format:
            conflicts.append(rep)
        elif rep.source.parser == "pdf" and pages is None:
            aligned = align_pages(primary.doc.blocks, rep.doc)
            if aligned[1] < MIN_ALIGNED:  # another version of the paper: its pages are not these
                conflicts.append(rep)
                continue
            pages = (rep, *aligned)
            roles.append((rep, "pages"))
        else:  # a second full text in another format: kept, never silently folded away
            conflicts.append(rep)
    roles += [(r, "metadata") for r in metas if r is not primary]
    members = [r for r, _ in roles]
    doc_id = strong_id(members) or primary.path_id()
    result.documents.append(_compose(doc_id, roles, pages))
    for rep, role in roles:
        how: Placement = "text" if role == "text" else "merged"
        result.placed.append(Placed(rep, doc_id, how, None if how == "text" else f"{role} of {doc_id}"))
    for rep in older:
        result.placed.append(
            Placed(rep, doc_id, "superseded", f"older arXiv version, superseded by {doc_id}")
        )
    for rep in conflicts:
        kept_as = rep.path_id() if rep.weak else rep.doc.doc_id
        if kept_as == doc_id:  # one file's records share its hash: the record's order tells them apart
            kept_as = f"{doc_id}~{rep.file_hash}" + (f"-{rep.order}" if rep.source.record else "")
        result.documents.append(_compose(kept_as, [(rep, "text")], None))
        why = "another version" if rep.source.parser == "pdf" else "a different text"
        result.placed.append(Placed(rep, kept_as, "conflict", f"claims {doc_id} with {why}"))
        result.conflicts.append(
            Conflict(doc_id=doc_id, path=rep.source.path, kept_as=kept_as, other_path=primary.source.path)
        )


def _compose(
    doc_id: str,
    roles: list[tuple[Representation, SourceRole]],
    pages: tuple[Representation, list[Block], float] | None,
) -> Document:
    """The document of one paper: the primary's text, the PDF's pages, the records' metadata."""
    doc = roles[0][0].doc.model_copy(deep=True)
    if pages is not None:
        pdf, doc.blocks, share = pages
        doc.extra |= {"pages": pdf.doc.extra.get("pages"), "pages_aligned": round(share, 3)}
    for rep, role in roles[1:]:
        _fill(doc, rep.doc, authoritative=role == "metadata" and rep.doc.source == "inspire")
    docs = [r.doc for r, _ in roles]
    if doc_id.startswith("arXiv:"):
        doc.extra["arxiv_id"] = doc_id.removeprefix("arXiv:")
    elif arxiv := next((a for d in docs if (a := arxiv_of(d))), None):
        doc.extra["arxiv_id"] = f"{arxiv[0]}v{arxiv[1]}" if arxiv[1] else arxiv[0]
    if recid := next((r for d in docs if (r := recid_of(d))), None):
        doc.extra["inspire_recid"] = int(recid) if recid.isdigit() else recid
    if doi := next((d for other in docs if (d := doi_of(other))), None):
        doc.extra.setdefault("doi", doi)
    if numbers := list(dict.fromkeys(n for r, _ in roles for n in r.report_numbers)):
        doc.extra["report_numbers"] = "; ".join(numbers)
    doc.doc_id = doc_id
    doc.sources = [r.source.model_copy(update={"role": role}) for r, role in roles]
    doc.content_hash = content_hash(doc.fingerprint())
    return doc


def _fill(doc: Document, other: Document, authoritative: bool) -> None:
    """Take what `other` knows and `doc` lacks; INSPIRE's authors, collaboration and identifiers win."""
    doc.title = doc.title or other.title
    doc.date = doc.date or other.date
    if other.authors and (authoritative or not doc.authors):
        doc.authors = list(other.authors)
    if other.collaboration and (authoritative or not doc.collaboration):
        doc.collaboration = other.collaboration
    doc.categories = list(dict.fromkeys([*doc.categories, *other.categories]))
    doc.links = {**other.links, **doc.links}
    if authoritative:
        doc.links |= {k: v for k, v in other.links.items() if k in ("inspire", "doi")}
    doc.references = doc.references or list(other.references)
    for key, value in other.extra.items():
        if key not in doc.extra or (authoritative and key in ENRICHED_KEYS):
            doc.extra[key] = value
