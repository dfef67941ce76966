"""INSPIRE-HEP: offline MARCXML and JSON literature exports, and an enrichment client for the REST API.

Both export formats become the same Document (`inspire:<recid>`: abstract and figure-caption blocks,
references; `inspire_recid`, `arxiv_id`, `doi`, `texkey`, `report_numbers`, `journal_ref`,
`citation_count`... in `extra`). MARCXML is stream-parsed by lxml without entity resolution, network
or huge trees, and a file declaring XML entities is refused, as defusedxml would. `InspireClient.enrich`
finds a paper by arXiv id (`/api/arxiv/<id>`) or DOI (`/api/doi/<doi>`) and adds INSPIRE's metadata.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from heprag.index.errors import HepragError, LimitExceededError, ParseError
from heprag.index.types import Block, Document, Reference
from heprag.ingest.sources.arxiv_client import PoliteSession, RetryPolicy, SourceUnavailableError
from heprag.ingest.sources.base import FileParser, ParseLimits, check_file_size, register
from heprag.ingest.sources.ids import arxiv_links, split_arxiv_id

log = logging.getLogger(__name__)

INSPIRE_API_URL = "https://inspirehep.net/api"
INSPIRE_LITERATURE_URL = "https://inspirehep.net/literature/"
NON_LITERATURE = {
    "HEPNAMES", "INSTITUTION", "JOURNALS", "CONFERENCES", "EXPERIMENT", "JOB", "JOBHIDDEN", "DATA",
}  # fmt: skip
TEXKEY_SOURCES = {"INSPIRETEX", "SPIRESTEX"}
COLLABORATION_SUFFIX = re.compile(r"\s+Collaborations?$", re.IGNORECASE)
ARXIV_ID = re.compile(r"^(arXiv:)?(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")


class InspireError(HepragError):
    """INSPIRE answered something unusable for one request (bad JSON, unexpected status)."""


class InspireUnavailableError(SourceUnavailableError):
    """The INSPIRE API is down, unreachable, or keeps rate-limiting after every retry."""


@dataclass
class InspireRecord:
    """The fields heprag keeps from an INSPIRE literature record, whatever its export format."""

    recid: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    date: str = ""
    arxiv_id: str = ""
    arxiv_categories: list[str] = field(default_factory=list)
    dois: list[str] = field(default_factory=list)
    texkeys: list[str] = field(default_factory=list)
    report_numbers: list[str] = field(default_factory=list)
    collaborations: list[str] = field(default_factory=list)
    journal_ref: str = ""
    citation_count: int | None = None
    keywords: list[str] = field(default_factory=list)
    inspire_categories: list[str] = field(default_factory=list)
    document_type: str = ""
    captions: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)


def _person(name: str) -> str:
    """INSPIRE's 'Last, First' -> 'First Last' (other shapes unchanged)."""
    parts = [p.strip() for p in name.split(",")]
    return f"{parts[1]} {parts[0]}" if len(parts) == 2 and all(parts) else name.strip()


def _journal_ref(title: str, volume: str, year: str | int | None, page: str) -> str:
    ref = " ".join(p for p in (title, volume) if p)
    return ref + (f" ({year})" if year else "") + (f" {page}" if page else "")


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _values(meta: Mapping[str, Any], name: str, key: str = "value") -> list[str]:
    """The `key` of every object in the list `meta[name]`: `_values(meta, "dois")` -> ['10.1103/...']."""
    return _unique([str(item.get(key) or "") for item in meta.get(name) or [] if isinstance(item, dict)])


def _too_big(path: Path, limits: ParseLimits, setting: str, what: str) -> LimitExceededError:
    limit = getattr(limits, setting)
    return LimitExceededError(f"{path}: more than {limit:,} {what} (raise ingest.{setting} to accept it)")


def _parse_date(text: str) -> dt.date | None:
    """'2016-11-09' / '2016-11' / '2016' -> a date (first day of the month/year when partial)."""
    try:
        return dt.date.fromisoformat((text.strip()[:10] + "-01-01")[:10])
    except ValueError:
        return None


def record_document(record: InspireRecord, path: str | None = None) -> Document:
    """The Document of one INSPIRE literature record."""
    links = {"inspire": f"{INSPIRE_LITERATURE_URL}{record.recid}"}
    if record.arxiv_id:
        base, version = split_arxiv_id(record.arxiv_id)
        links |= {k: v for k, v in arxiv_links(base, version).items() if k != "inspire"}
    if record.dois:
        links["doi"] = f"https://doi.org/{record.dois[0]}"
    # A record without an abstract is still found by its title (else it would hold no passage at all).
    text, section = (record.abstract, "Abstract") if record.abstract else (record.title, "Title")
    blocks = [Block(text=text, section=[section], kind="abstract")] if text else []
    blocks += [Block(text=c, section=["Figures"], kind="caption") for c in record.captions]
    candidates: dict[str, str | int | None] = {
        "inspire_recid": int(record.recid) if record.recid.isdigit() else record.recid,
        "arxiv_id": record.arxiv_id,
        "doi": record.dois[0] if record.dois else "",
        "dois": ", ".join(record.dois[1:]),
        "texkey": record.texkeys[0] if record.texkeys else "",
        "report_numbers": "; ".join(record.report_numbers),
        "journal_ref": record.journal_ref,
        "citation_count": record.citation_count,
        "keywords": "; ".join(record.keywords[:50]),
        "inspire_categories": "; ".join(record.inspire_categories),
        "document_type": record.document_type,
        "date_text": record.date,
        "author_count": len(record.authors),
    }
    return Document(
        doc_id=f"inspire:{record.recid}",
        title=re.sub(r"\s+", " ", record.title).strip(),
        authors=record.authors,
        date=_parse_date(record.date),
        source="inspire",
        source_type="paper",
        collaboration=record.collaborations[0] if record.collaborations else None,
        categories=record.arxiv_categories,
        links=links,
        path=path,
        blocks=blocks,
        references=record.references,
        extra={k: v for k, v in candidates.items() if v not in ("", None)},
    )


# --------------------------------------------------------------------------- MARCXML


@dataclass
class _Marc:
    control: dict[str, str] = field(default_factory=dict)
    fields: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)

    def subfields(self, tag: str, ind: str | None = None) -> Iterator[dict[str, str]]:
        for field_tag, indicators, subs in self.fields:
            if field_tag == tag and (ind is None or indicators == ind):
                yield {code: value for code, value in reversed(subs)}  # first occurrence wins

    def values(self, tag: str, code: str, ind: str | None = None) -> list[str]:
        return _unique([f[code] for f in self.subfields(tag, ind) if f.get(code)])


def _local(tag: object) -> str:
    return str(tag).rpartition("}")[2]


def marc_record(marc: _Marc) -> InspireRecord | None:
    """Map MARC fields (001, 100/700, 245, 520, 037, 024, 035, 710, 773, 999C5...); None if not literature."""
    recid = marc.control.get("001", "").strip()
    collections = {v.upper() for v in marc.values("980", "a")}
    title = next(iter(marc.values("245", "a")), "")
    if not recid or collections & NON_LITERATURE or not title:
        return None
    subtitle = next(iter(marc.values("245", "b")), "")
    eprints = [f for f in marc.subfields("037") if f.get("9", "").lower() == "arxiv" and f.get("a")]
    reports = [f["a"] for f in marc.subfields("037") if f.get("a") and f.get("9", "").lower() != "arxiv"]
    abstracts = sorted(marc.subfields("520"), key=lambda f: f.get("9", "").lower() != "arxiv")
    j = next((f for f in marc.subfields("773") if f.get("p")), {})
    journal_ref = _journal_ref(j["p"], j.get("v", ""), j.get("y"), j.get("c", "")) if j else ""
    texkeys = [f.get("a", "") for f in marc.subfields("035") if f.get("9", "").upper() in TEXKEY_SOURCES]
    captions = [re.sub(r"^\d{5}\s+", "", f["y"]) for f in marc.subfields("856", "4 ") if f.get("y")]
    return InspireRecord(
        recid=recid,
        title=f"{title}: {subtitle}" if subtitle else title,
        authors=[_person(f["a"]) for tag in ("100", "700") for f in marc.subfields(tag) if f.get("a")],
        abstract=next((f["a"] for f in abstracts if f.get("a")), ""),
        date=next(iter(marc.values("269", "c") + marc.values("260", "c") + marc.values("773", "y")), ""),
        arxiv_id=eprints[0]["a"].removeprefix("arXiv:") if eprints else "",
        arxiv_categories=_unique([f.get("c", "") for f in eprints]),
        dois=_unique([f.get("a", "") for f in marc.subfields("024") if f.get("2", "").upper() == "DOI"]),
        texkeys=_unique(texkeys),
        report_numbers=_unique([*reports, *marc.values("088", "a")]),
        collaborations=_unique([COLLABORATION_SUFFIX.sub("", c) for c in marc.values("710", "g")]),
        journal_ref=journal_ref,
        keywords=marc.values("695", "a"),
        inspire_categories=marc.values("650", "a"),
        document_type=", ".join(sorted(collections - {"CORE", "CITEABLE", "ARXIV", "HEP", "PUBLISHED"})),
        captions=_unique(captions),
        references=[_marc_reference(f) for f in marc.subfields("999", "C5") if len(f) > 1],
    )


def _marc_reference(f: dict[str, str]) -> Reference:
    text = "; ".join(f[c] for c in ("h", "t", "m", "s", "r", "y") if f.get(c))
    arxiv = f.get("r", "").removeprefix("arXiv:")
    doi = f.get("a", "").removeprefix("doi:") if f.get("a", "").startswith("doi:") else None
    return Reference(key=f.get("o"), text=text, arxiv_id=arxiv if ARXIV_ID.match(arxiv) else None, doi=doi)


def _open_head(path: Path) -> tuple[Any, bytes]:
    """An open (decompressing when gzip) binary stream and its first bytes."""
    with path.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    raw = gzip.open(path, "rb") if gz else path.open("rb")  # noqa: SIM115 (returned open)
    try:
        return raw, raw.read(1 << 16)
    except (OSError, EOFError) as exc:
        raw.close()
        raise ParseError(str(path), f"not a readable gzip file ({exc})") from exc


def parse_marcxml(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """Stream the literature records of a MARCXML export (`.xml` or `.xml.gz`), one Document each."""
    check_file_size(path, limits)
    raw, chunk = _open_head(path)
    if b"<!ENTITY" in chunk.split(b"<record", 1)[0].upper():
        raw.close()
        raise ParseError(str(path), "declares XML entities; refused as a possible XML bomb or XXE")
    options = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
    parser = etree.XMLPullParser(events=("end",), tag="{*}record", **options)
    size = count = 0
    with raw:
        try:
            while chunk:
                size += len(chunk)
                if size > limits.max_decompressed_bytes:
                    raise _too_big(path, limits, "max_decompressed_bytes", "decompressed bytes")
                parser.feed(chunk)
                for _, elem in parser.read_events():
                    count += 1
                    if count > limits.max_records_per_file:
                        raise _too_big(path, limits, "max_records_per_file", "records")
                    record = marc_record(_marc_of(elem))
                    elem.clear()
                    while elem.getprevious() is not None:
                        del elem.getparent()[0]
                    if record is not None:
                        yield record_document(record, str(path))
                chunk = raw.read(1 << 16)
            parser.close()
        except etree.XMLSyntaxError as exc:
            raise ParseError(str(path), f"malformed XML after {count} records ({exc})") from exc
        except (OSError, EOFError) as exc:
            raise ParseError(str(path), f"truncated or corrupt file after {count} records ({exc})") from exc
    if count == 0:
        raise ParseError(str(path), "no <record> elements; is this a MARCXML export?")


def _marc_of(elem: Any) -> _Marc:
    marc = _Marc()
    for child in elem:
        tag, name = child.get("tag", ""), _local(child.tag)
        if name == "controlfield":
            marc.control[tag] = (child.text or "").strip()
        elif name == "datafield":
            subs = [(s.get("code", ""), (s.text or "").strip()) for s in child.iterchildren("{*}subfield")]
            marc.fields.append((tag, child.get("ind1", " ") + child.get("ind2", " "), subs))
    return marc


# --------------------------------------------------------------------------- INSPIRE JSON


def json_record(record: Mapping[str, Any]) -> InspireRecord | None:
    """Map an API literature record (`{"metadata": {...}}` or bare metadata); None if not literature."""
    meta: Mapping[str, Any] = record.get("metadata", record)
    recid = str(meta.get("control_number") or record.get("id") or "")
    titles = meta.get("titles") or []
    if not recid or not titles:
        return None
    abstracts = sorted(meta.get("abstracts") or [], key=lambda a: str(a.get("source", "")).lower() != "arxiv")
    eprints = meta.get("arxiv_eprints") or []
    j: Mapping[str, Any] = next((p for p in meta.get("publication_info") or [] if p.get("journal_title")), {})
    page = j.get("artid") or "-".join(str(j[k]) for k in ("page_start", "page_end") if j.get(k))
    volume = str(j.get("journal_volume", ""))
    journal_ref = _journal_ref(j["journal_title"], volume, j.get("year"), page) if j else ""
    date = meta.get("preprint_date") or meta.get("earliest_date") or ""
    date = date or next((i.get("date", "") for i in meta.get("imprints") or []), "")
    date = date or next((str(p["year"]) for p in meta.get("publication_info") or [] if p.get("year")), "")
    count = meta.get("citation_count")
    reports = [r for r in meta.get("report_numbers") or [] if not r.get("hidden")]
    return InspireRecord(
        recid=recid,
        title=": ".join(_unique([titles[0].get("title", ""), titles[0].get("subtitle", "")])),
        authors=[_person(a["full_name"]) for a in meta.get("authors") or [] if a.get("full_name")],
        abstract=next((a.get("value", "") for a in abstracts if a.get("value")), ""),
        date=str(date),
        arxiv_id=eprints[0].get("value", "") if eprints else "",
        arxiv_categories=_unique([c for e in eprints for c in e.get("categories") or []]),
        dois=_values(meta, "dois"),
        texkeys=_unique([str(t) for t in meta.get("texkeys") or []]),
        report_numbers=_values({"r": reports}, "r"),
        collaborations=[COLLABORATION_SUFFIX.sub("", c) for c in _values(meta, "collaborations")],
        journal_ref=journal_ref,
        citation_count=int(count) if isinstance(count, int | float) else None,
        keywords=_values(meta, "keywords"),
        inspire_categories=_values(meta, "inspire_categories", "term"),
        document_type=", ".join(meta.get("document_type") or []),
        captions=_values(meta, "figures", "caption"),
        references=[_json_reference(r.get("reference") or {}) for r in meta.get("references") or []],
    )


def _json_reference(ref: Mapping[str, Any]) -> Reference:
    pub = ref.get("publication_info") or {}
    parts = [
        ", ".join(a.get("full_name", "") for a in (ref.get("authors") or [])[:3]),
        (ref.get("title") or {}).get("title", ""),
        _journal_ref(pub.get("journal_title", ""), str(pub.get("journal_volume", "")), pub.get("year"), ""),
        *(ref.get("misc") or []),
    ]
    dois = ref.get("dois") or []
    return Reference(
        key=str(ref["label"]) if ref.get("label") else None,
        text="; ".join(p for p in parts if p.strip()),
        arxiv_id=ref.get("arxiv_eprint"),
        doi=dois[0] if dois else None,
    )


def json_document(record: Mapping[str, Any], path: str | None = None) -> Document | None:
    """The Document of one INSPIRE JSON literature record, or None when it is not literature."""
    parsed = json_record(record)
    return record_document(parsed, path) if parsed else None


def _json_records(path: Path, limits: ParseLimits) -> Iterator[tuple[str, Any]]:
    raw, head = _open_head(path)
    with raw:
        data = head + raw.read(limits.max_decompressed_bytes + 1 - len(head))
    if len(data) > limits.max_decompressed_bytes:
        raise _too_big(path, limits, "max_decompressed_bytes", "decompressed bytes")
    text = data.decode("utf-8", "replace")
    if path.name.lower().removesuffix(".gz").endswith(".jsonl"):
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    yield f"line {number}", json.loads(line)
                except json.JSONDecodeError as exc:
                    log.warning("%s:%d: not JSON, skipped (%s)", path, number, exc.msg)
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(str(path), f"not JSON ({exc.msg} at line {exc.lineno})") from exc
    if isinstance(data, dict) and isinstance(data.get("hits"), dict):
        data = data["hits"].get("hits", [])
    for number, item in enumerate(data if isinstance(data, list) else [data]):
        yield f"record {number}", item


def parse_inspire_json(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """Parse INSPIRE JSON: one record, a list, an API search response, or JSONL (optionally gzipped)."""
    check_file_size(path, limits)
    for count, (where, item) in enumerate(_json_records(path, limits), start=1):
        if count > limits.max_records_per_file:
            raise _too_big(path, limits, "max_records_per_file", "records")
        try:
            doc = json_document(item, str(path)) if isinstance(item, dict) else None
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            log.warning("%s (%s): malformed INSPIRE record skipped (%r)", path, where, exc)
            continue
        if doc is not None:
            yield doc


def _sniff(path: Path, *suffixes: str) -> bytes:
    """The first 4 KB (decompressed) of a file whose name ends with a suffix (then `.gz` or not)."""
    try:
        if path.name.lower().removesuffix(".gz").endswith(suffixes):
            raw, head = _open_head(path)
            raw.close()
            return head[:4096]
    except (OSError, ParseError):
        pass
    return b""


def _is_marcxml(path: Path) -> bool:
    head = _sniff(path, ".xml", ".marcxml")
    return b"<record" in head and (b"controlfield" in head or b"datafield" in head)


def _is_inspire_json(path: Path) -> bool:
    head = _sniff(path, ".json", ".jsonl")
    named = path.name.lower().removesuffix(".gz").endswith((".inspire.json", ".inspire.jsonl"))
    return named or b"schemas/records/hep.json" in head or b'"control_number"' in head


# --------------------------------------------------------------------------- enrichment client


class InspireClient:
    """Looks papers up in the INSPIRE REST API and enriches Documents with its curated metadata."""

    def __init__(
        self,
        base_url: str = INSPIRE_API_URL,
        timeout: float = 30.0,
        retries: int = 4,
        *,
        backoff_seconds: float = 2.0,
        max_wait_seconds: float = 60.0,
        min_interval: float = 0.35,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`min_interval` keeps under INSPIRE's 15 requests / 5 s; `max_wait_seconds` caps Retry-After."""
        self.base_url = base_url.rstrip("/")
        policy = RetryPolicy(retries, backoff_seconds, max_wait_seconds, timeout)
        self.session = PoliteSession(policy, min_interval, InspireUnavailableError, sleep)
        self.session.headers["Accept"] = "application/json"

    def _get(self, path: str) -> Mapping[str, Any] | None:
        url = f"{self.base_url}/{path}"
        response = self.session.get(url)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise InspireError(f"{url}: INSPIRE answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise InspireError(f"{url}: not JSON; is base_url the API root (…/api)?") from exc
        return data if isinstance(data, dict) else None

    def record(self, recid: int | str) -> Document | None:
        """The literature record `recid` (`/literature/<recid>`), None when INSPIRE has no such record."""
        data = self._get(f"literature/{recid}")
        return json_document(data) if data else None

    def by_arxiv(self, arxiv_id: str) -> Document | None:
        """The record of an arXiv paper (any version), or None."""
        base, _ = split_arxiv_id(arxiv_id)
        data = self._get(f"arxiv/{urllib.parse.quote(base, safe='/')}")
        return json_document(data) if data else None

    def by_doi(self, doi: str) -> Document | None:
        """The record with this DOI, or None."""
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", doi.strip(), flags=re.IGNORECASE)
        data = self._get(f"doi/{urllib.parse.quote(doi, safe='/():;')}")
        return json_document(data) if data else None

    def lookup(self, doc: Document) -> Document | None:
        """INSPIRE's record of `doc`, found by its arXiv id, else its DOI."""
        arxiv_id = doc.extra.get("arxiv_id")
        if doc.doc_id.startswith("arXiv:"):
            arxiv_id = doc.doc_id.removeprefix("arXiv:")
        doi = doc.extra.get("doi") or doc.links.get("doi")
        found = self.by_arxiv(str(arxiv_id)) if arxiv_id else None
        return found or (self.by_doi(str(doi)) if doi else None)

    def enrich(self, doc: Document) -> Document:
        """`doc` with INSPIRE's collaboration, citation count, texkey, report numbers, journal ref and DOI.

        Unknown papers and per-paper errors leave `doc` unchanged (logged); an unreachable INSPIRE
        raises `InspireUnavailableError`.
        """
        try:
            found = self.lookup(doc)
        except InspireError as exc:
            log.warning("%s: INSPIRE enrichment skipped (%s)", doc.doc_id, exc)
            return doc
        if found is None:
            log.info("%s: not found in INSPIRE", doc.doc_id)
            return doc
        return merge_inspire(doc, found)


ENRICHED_KEYS = ("inspire_recid", "citation_count", "texkey", "report_numbers", "journal_ref", "doi")


def merge_inspire(doc: Document, found: Document) -> Document:
    """`doc` with INSPIRE's identifiers (INSPIRE wins on those) and gaps (title, date...) filled."""
    extra = {**doc.extra, **{k: found.extra[k] for k in ENRICHED_KEYS if k in found.extra}}
    links = {**doc.links, **{k: v for k, v in found.links.items() if k in ("inspire", "doi")}}
    filled = {k: getattr(doc, k) or getattr(found, k) for k in ("title", "authors", "date")}
    collaboration = found.collaboration or doc.collaboration
    data = doc.model_dump(exclude={"content_hash"}) | filled
    return Document(**data | {"collaboration": collaboration, "extra": extra, "links": links})


register(FileParser("inspire-marcxml", _is_marcxml, parse_marcxml))
register(FileParser("inspire-json", _is_inspire_json, parse_inspire_json))
