"""Local HTTP servers speaking the arXiv API and INSPIRE REST protocols, built from the real corpus.

Responses are generated at test time from records in ../shared/corpus (arXiv hep-th listings ->
Atom feeds, INSPIRE MARCXML -> INSPIRE JSON, Higgs PDFs -> arXiv PDFs), so the real clients run
against real data. Faults are scripted per server: `faults` answers the next requests with given
statuses, `fail_after` answers every API request after N good ones with 503.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

Answer = tuple[int, dict[str, str], bytes]
Route = Callable[[str, dict[str, list[str]]], Answer]


def not_found(what: str) -> Answer:
    return 404, {"Content-Type": "application/json"}, json.dumps({"message": f"{what} not found"}).encode()


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 (free port) that routes GETs and records every request path."""

    def __init__(self, route: Route, api_prefix: str = "/api") -> None:
        self.route, self.api_prefix = route, api_prefix
        self.requests: list[str] = []
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.fail_after: int | None = None
        self._good_api_answers = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body = server._answer(self.path)
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def _answer(self, raw_path: str) -> Answer:
        with self._lock:
            self.requests.append(raw_path)
            if self.faults:
                status, headers = self.faults.pop(0)
                return status, headers, b"<html>temporarily unavailable</html>"
            is_api = raw_path.startswith(self.api_prefix)
            if is_api and self.fail_after is not None and self._good_api_answers >= self.fail_after:
                return 503, {"Retry-After": "0"}, b"<html>down for maintenance</html>"
            self._good_api_answers += is_api
        parts = urlsplit(raw_path)
        return self.route(unquote(parts.path), parse_qs(parts.query))

    def paths(self, prefix: str = "") -> list[str]:
        return [p for p in self.requests if p.startswith(prefix)]

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- arXiv


@dataclass
class ArxivPaper:
    base_id: str
    title: str
    authors: list[str]
    abstract: str
    categories: list[str]
    published: dt.datetime
    version: int = 1
    pdf: Path | None = None
    source: bytes | None = None


@dataclass
class ArxivApi:
    """The arXiv API (`/api/query`), PDFs (`/pdf/<id>`) and e-prints (`/e-print/<id>`) of `papers`."""

    papers: dict[str, ArxivPaper] = field(default_factory=dict)

    @classmethod
    def from_listings(cls, jsonl: Path) -> ArxivApi:
        api = cls()
        for line in jsonl.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            day = dt.datetime.fromisoformat(rec["listing_date"]).replace(tzinfo=dt.UTC)
            api.add(
                ArxivPaper(rec["id"], rec["title"], rec["authors"], rec["abstract"], rec["categories"], day)
            )
        return api

    def add(self, paper: ArxivPaper) -> None:
        self.papers[paper.base_id] = paper

    def __call__(self, path: str, query: dict[str, list[str]]) -> Answer:
        if path == "/api/query":
            return 200, {"Content-Type": "application/atom+xml"}, self.feed(query)
        kind, _, short_id = path.strip("/").partition("/")
        base, _, version = short_id.partition("v") if re.match(r"^\d{4}\.", short_id) else (short_id, "", "")
        paper = self.papers.get(base)
        if paper is None or (version and int(version) > paper.version):
            return not_found(short_id)
        if kind == "pdf" and paper.pdf is not None:
            return 200, {"Content-Type": "application/pdf"}, paper.pdf.read_bytes()
        if kind == "e-print" and paper.source is not None:
            return 200, {"Content-Type": "application/gzip"}, paper.source
        return not_found(path)

    def matches(self, paper: ArxivPaper, search: str) -> bool:
        for term in re.split(r"\s+AND\s+", search.strip()):
            term = term.strip("()")
            if term.startswith("cat:"):
                ok = term[4:] in paper.categories
            elif term.startswith("submittedDate:["):
                low, high = re.findall(r"\d{12}", term)
                ok = low <= paper.published.strftime("%Y%m%d%H%M") <= high
            else:
                word = term.split(":", 1)[-1].strip('"').lower()
                ok = word in f"{paper.title} {paper.abstract}".lower()
            if not ok:
                return False
        return True

    def feed(self, query: dict[str, list[str]]) -> bytes:
        ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
        search = query.get("search_query", [""])[0]
        if ids:
            found = [(p, int(v) if v else p.version) for i in ids for p, v in [self._lookup(i)] if p]
        else:
            found = [(p, p.version) for p in self.papers.values() if self.matches(p, search)]
            if query.get("sortBy", [""])[0] == "submittedDate":
                found.sort(key=lambda pv: (pv[0].published, pv[0].base_id))
        start, size = int(query.get("start", ["0"])[0]), int(query.get("max_results", ["10"])[0])
        return atom_feed(found[start : start + size], total=len(found), start=start)

    def _lookup(self, short_id: str) -> tuple[ArxivPaper | None, str]:
        base, _, version = short_id.partition("v")
        return self.papers.get(base), version


ATOM = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"


def atom_feed(papers: list[tuple[ArxivPaper, int]], total: int, start: int) -> bytes:
    """An arXiv API Atom response (the shape of export.arxiv.org/api/query)."""
    ET.register_namespace("", ATOM)
    ET.register_namespace("arxiv", ARXIV_NS)
    ET.register_namespace("opensearch", OPENSEARCH)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = "arXiv Query"
    for name, value in (("totalResults", total), ("startIndex", start), ("itemsPerPage", len(papers))):
        ET.SubElement(feed, f"{{{OPENSEARCH}}}{name}").text = str(value)
    for paper, version in papers:
        short = f"{paper.base_id}v{version}"
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        updated = paper.published + dt.timedelta(days=30 * (version - 1))
        for tag, text in (
            ("id", f"http://arxiv.org/abs/{short}"),
            ("updated", updated.strftime("%Y-%m-%dT%H:%M:%SZ")),
            ("published", paper.published.strftime("%Y-%m-%dT%H:%M:%SZ")),
            ("title", paper.title),
            ("summary", paper.abstract),
        ):
            ET.SubElement(entry, f"{{{ATOM}}}{tag}").text = text
        for author in paper.authors:
            ET.SubElement(ET.SubElement(entry, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = author
        ET.SubElement(entry, f"{{{ATOM}}}link", href=f"http://arxiv.org/abs/{short}", rel="alternate")
        pdf = {"title": "pdf", "href": f"http://arxiv.org/pdf/{short}", "rel": "related"}
        ET.SubElement(entry, f"{{{ATOM}}}link", pdf)
        ET.SubElement(entry, f"{{{ARXIV_NS}}}primary_category", term=paper.categories[0])
        for category in paper.categories:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=category)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


# --------------------------------------------------------------------------- INSPIRE


def marc_records(path: Path) -> list[ET.Element]:
    """The <record> elements of a (gzipped) MARCXML file, read with the standard library."""
    with gzip.open(path) as handle:
        return [r for r in ET.parse(handle).getroot().iter() if r.tag.rpartition("}")[2] == "record"]


def _subfields(record: ET.Element, tag: str) -> list[dict[str, str]]:
    return [
        {s.get("code", ""): (s.text or "") for s in reversed(list(f))}
        for f in record
        if f.get("tag") == tag and f.tag.endswith("datafield")
    ]


NON_LITERATURE = {"HEPNAMES", "INSTITUTION", "JOURNALS", "CONFERENCES", "EXPERIMENT", "JOB"}


def inspire_json(record: ET.Element, cited_by: dict[str, int]) -> dict[str, Any] | None:
    """An INSPIRE REST literature record (`{"id", "metadata"}`) from MARC, as inspire-dojson maps it."""

    def fields(tag: str, code: str, **where: str) -> list[dict[str, str]]:
        """Subfield dicts of `tag` that have `code` and match `where` (subfield code -> value)."""
        return [
            f
            for f in _subfields(record, tag)
            if f.get(code) and all(f.get(k.strip("_")) in v.split("|") for k, v in where.items())
        ]

    recid = next((c.text or "" for c in record if c.get("tag") == "001"), "")
    collections = {f["a"].upper() for f in fields("980", "a")}
    if not fields("245", "a") or collections & NON_LITERATURE:
        return None
    publication_info = []
    for f in fields("773", "p"):
        pages = f.get("c", "").split("-")
        info: dict[str, Any] = {"journal_title": f["p"], "journal_volume": f.get("v", "")}
        info |= {"year": int(f["y"])} if f.get("y") else {}
        info |= {"page_start": pages[0], "page_end": pages[1]} if len(pages) == 2 else {"artid": pages[0]}
        publication_info.append(info)
    title = fields("245", "a")[0]
    other_037 = [f for f in fields("037", "a") if f.get("9") != "arXiv"]
    metadata = {
        "$schema": "https://inspirehep.net/schemas/records/hep.json",
        "control_number": int(recid),
        "titles": [{"title": title["a"], **({"subtitle": title["b"]} if title.get("b") else {})}],
        "abstracts": [{"value": f["a"], "source": f.get("9", "")} for f in fields("520", "a")],
        "authors": [{"full_name": f["a"]} for tag in ("100", "700") for f in fields(tag, "a")],
        "collaborations": [{"value": f["g"]} for f in fields("710", "g")],
        "arxiv_eprints": [
            {"value": f["a"].removeprefix("arXiv:"), "categories": [f.get("c", "")]}
            for f in fields("037", "a", _9="arXiv")
        ],
        "dois": [{"value": f["a"]} for f in fields("024", "a", _2="DOI")],
        "texkeys": [f["a"] for f in fields("035", "a", _9="INSPIRETeX|SPIRESTeX")],
        "report_numbers": [{"value": f["a"]} for f in other_037],
        "publication_info": publication_info,
        "preprint_date": next((f["c"] for f in fields("269", "c")), None),
        "imprints": [{"date": f["c"]} for f in fields("260", "c")],
        "citation_count": cited_by.get(recid, 0),
        "document_type": ["article"],
    }
    return {"id": recid, "metadata": {k: v for k, v in metadata.items() if v not in (None, [])}}


@dataclass
class InspireApi:
    """INSPIRE's `/api/literature/<recid>`, `/api/arxiv/<id>` and `/api/doi/<doi>` over real records."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_marcxml(cls, *paths: Path) -> InspireApi:
        elements = [r for p in paths for r in marc_records(p)]
        cited_by: dict[str, int] = {}
        for record in elements:
            for ref in _subfields(record, "999"):
                if ref.get("0"):
                    cited_by[ref["0"]] = cited_by.get(ref["0"], 0) + 1
        api = cls()
        for record in elements:
            converted = inspire_json(record, cited_by)
            if converted:
                api.records[converted["id"]] = converted
        return api

    def find(self, key: str, value: str) -> dict[str, Any] | None:
        for record in self.records.values():
            meta = record["metadata"]
            if any(item.get("value", "").lower() == value.lower() for item in meta.get(key, [])):
                return record
        return None

    def __call__(self, path: str, query: dict[str, list[str]]) -> Answer:
        kind, _, key = path.removeprefix("/api/").partition("/")
        if kind == "literature":
            record = self.records.get(key)
        elif kind == "arxiv":
            record = self.find("arxiv_eprints", key)
        elif kind == "doi":
            record = self.find("dois", key)
        else:
            return not_found(path)
        if record is None:
            return not_found(f"{kind} {key}")
        return 200, {"Content-Type": "application/json"}, json.dumps(record).encode()
