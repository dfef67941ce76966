"""OAI-PMH metadata formats -> Documents: INSPIRE `marcxml`, arXiv's `arXiv`, `arXivRaw` and `oai_dc`.

MARCXML goes through the INSPIRE MARC mapping (`inspire:<recid>`); the arXiv formats become the same
abstract Document the arXiv API client makes. `arXivRaw` lists the versions, so its ids are
version-aware (`arXiv:2607.20603v2`, superseding v1 in the index); `arXiv` and `oai_dc` name no version
and give `arXiv:2607.20603`. A deleted record (OAI header `status="deleted"`) carries no metadata: its
document id comes from the OAI identifier (`oai:inspirehep.net:1234` -> `inspire:1234`,
`oai:arXiv.org:2607.20603` -> `arXiv:2607.20603` and any version of it).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from heprag.index.types import Block, Document
from heprag.ingest.sources.ids import arxiv_links, find_collaboration, split_arxiv_id
from heprag.ingest.sources.inspire import _marc_of, marc_record, record_document
from heprag.ingest.sources.oaipmh import OaiRecord
from heprag.ingest.sources.records import clean_latex

ARXIV_ABS = re.compile(r"arxiv\.org/abs/(?P<id>[^\s?#]+)", re.IGNORECASE)
DC = "{http://purl.org/dc/elements/1.1/}"
Convert = Callable[[OaiRecord], Document | None]


class NotLiterature(ValueError):
    """The record is valid but not a paper (an author, institution, job... record): skipped."""


class DeletedInMetadata(ValueError):
    """The metadata itself marks the record deleted (INSPIRE MARC 980__c DELETED)."""


@dataclass(frozen=True)
class OaiFormat:
    """A metadata format heprag harvests: its `metadataPrefix`, converter and id family."""

    name: str
    prefix: str
    convert: Convert
    id_prefix: str  # "inspire:" or "arXiv:" — document id of a deleted record's OAI identifier

    def deleted_doc_id(self, identifier: str) -> str:
        """The document id an OAI identifier names: 'oai:inspirehep.net:1234' -> 'inspire:1234'."""
        local = identifier.split(":", 2)[-1] if identifier.startswith("oai:") else identifier
        return f"{self.id_prefix}{local.strip()}"


def _texts(node: Any, name: str) -> list[str]:
    """Texts of the direct children `name` of `node` (any namespace), whitespace-normalised."""
    out = []
    for child in node:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            out.append(" ".join("".join(child.itertext()).split()))
    return [t for t in out if t]


def _text(node: Any, name: str) -> str:
    return next(iter(_texts(node, name)), "")


def _marcxml(record: OaiRecord) -> Document | None:
    marc = _marc_of(record.metadata)
    if any(v.upper() == "DELETED" for v in marc.values("980", "c")):
        raise DeletedInMetadata(record.identifier)
    parsed = marc_record(marc)
    if parsed is None:
        raise NotLiterature(f"{record.identifier} is not a literature record")
    doc = record_document(parsed)
    doc.extra["oai_datestamp"] = record.datestamp
    return doc


def arxiv_document(
    short_id: str,
    title: str,
    authors: list[str],
    abstract: str,
    categories: list[str],
    *,
    created: dt.date | None,
    updated: str = "",
    doi: str = "",
    journal_ref: str = "",
    comments: str = "",
    datestamp: str = "",
) -> Document:
    """The abstract Document of an arXiv paper (`arXiv:<id>` or, when the version is known, `...v<N>`)."""
    base, version = split_arxiv_id(short_id)
    abstract, title = clean_latex(abstract), clean_latex(title)
    links = arxiv_links(base, version)
    if doi:
        links["doi"] = f"https://doi.org/{doi}"
    extra: dict[str, str | int | float | bool | None] = {
        "arxiv_id": base,
        "version": version,
        "primary_category": categories[0] if categories else None,
        "updated": updated or None,
        "supersedes": ",".join(f"{base}v{v}" for v in range(1, version or 1)) or None,
        "oai_datestamp": datestamp or None,
    }
    for name, value in (("journal_ref", journal_ref), ("doi", doi), ("comment", comments)):
        if value:
            extra[name] = value
    return Document(
        doc_id=f"arXiv:{short_id}",
        title=title,
        authors=authors,
        date=created,
        source="arxiv",
        source_type="paper",
        collaboration=find_collaboration(" ".join([*authors[:5], comments, abstract])),
        categories=categories,
        links=links,
        blocks=[Block(text=abstract or title, section=["Abstract" if abstract else "Title"], kind="abstract")]
        if abstract or title
        else [],
        extra={k: v for k, v in extra.items() if v is not None},
    )


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _arxiv(record: OaiRecord) -> Document:
    """arXiv's `arXiv` format: id, created, updated, authors (keyname/forenames), title, abstract..."""
    meta = record.metadata
    authors = []
    for holder in (c for c in meta if isinstance(c.tag, str) and etree.QName(c).localname == "authors"):
        for author in holder:
            names = [_text(author, "forenames"), _text(author, "keyname"), _text(author, "suffix")]
            authors.append(" ".join(n for n in names if n))
    return arxiv_document(
        _required(record, "id"),
        _text(meta, "title"),
        authors,
        _text(meta, "abstract"),
        _text(meta, "categories").split(),
        created=_date(_text(meta, "created")),
        updated=_text(meta, "updated"),
        doi=_text(meta, "doi"),
        journal_ref=_text(meta, "journal-ref"),
        comments=_text(meta, "comments"),
        datestamp=record.datestamp,
    )


def _arxiv_raw(record: OaiRecord) -> Document:
    """arXiv's `arXivRaw`: as `arXiv`, plus `<version version="vN"><date>RFC 2822</date>` per version."""
    meta = record.metadata
    versions: list[tuple[int, str]] = []
    for node in (c for c in meta if isinstance(c.tag, str) and etree.QName(c).localname == "version"):
        number = node.get("version", "").lstrip("v")
        if number.isdigit():
            versions.append((int(number), _text(node, "date")))
    versions.sort()
    base = _required(record, "id")
    short_id = f"{base}v{versions[-1][0]}" if versions else base

    def day(rfc: str) -> dt.date | None:
        try:
            return email.utils.parsedate_to_datetime(rfc).date() if rfc else None
        except (TypeError, ValueError):
            return None

    authors = [a.strip() for a in re.split(r",\s*|\s+and\s+", _text(meta, "authors")) if a.strip()]
    return arxiv_document(
        short_id,
        _text(meta, "title"),
        [clean_latex(a) for a in authors],
        _text(meta, "abstract"),
        _text(meta, "categories").split(),
        created=day(versions[0][1]) if versions else None,
        updated=str(day(versions[-1][1]) or "") if versions else "",
        doi=_text(meta, "doi"),
        journal_ref=_text(meta, "journal-ref"),
        comments=_text(meta, "comments"),
        datestamp=record.datestamp,
    )


def _oai_dc(record: OaiRecord) -> Document:
    """Dublin Core as arXiv serves it: dc:identifier http://arxiv.org/abs/<id>, creators 'Last, First'."""
    meta = record.metadata
    ids = [m.group("id") for t in _texts(meta, "identifier") if (m := ARXIV_ABS.search(t))]
    short_id = ids[0] if ids else record.identifier.split(":", 2)[-1]
    if not short_id:
        raise ValueError(f"{record.identifier}: no arXiv id in dc:identifier")
    # dc:creator is 'Last, First' -> 'First Last'
    creators = [" ".join(reversed(c.split(", ", 1))) for c in _texts(meta, "creator")]
    descriptions = _texts(meta, "description")
    abstract = next((d for d in descriptions if not d.startswith("Comment:")), "")
    comments = next(
        (d.removeprefix("Comment:").strip() for d in descriptions if d.startswith("Comment:")), ""
    )
    dates = sorted(_texts(meta, "date"))
    dois = [t.removeprefix("doi:") for t in _texts(meta, "identifier") if t.startswith("doi:")]
    return arxiv_document(
        short_id,
        _text(meta, "title"),
        creators,
        abstract,
        [s.rpartition(":")[2] for s in record.sets if s],  # set 'physics:hep-th' -> 'hep-th'
        created=_date(dates[0]) if dates else None,
        updated=dates[-1] if len(dates) > 1 else "",
        doi=dois[0] if dois else "",
        comments=comments,
        datestamp=record.datestamp,
    )


def _required(record: OaiRecord, name: str) -> str:
    value = _text(record.metadata, name)
    if not value:
        raise ValueError(f"{record.identifier}: no <{name}> in the metadata")
    return value


FORMATS: dict[str, OaiFormat] = {
    "marcxml": OaiFormat("marcxml", "marcxml", _marcxml, "inspire:"),
    "arxiv": OaiFormat("arxiv", "arXiv", _arxiv, "arXiv:"),
    "arxivraw": OaiFormat("arxivraw", "arXivRaw", _arxiv_raw, "arXiv:"),
    "oai_dc": OaiFormat("oai_dc", "oai_dc", _oai_dc, "arXiv:"),
}
