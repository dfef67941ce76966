"""A local OAI-PMH 2.0 repository over real records: INSPIRE MARCXML and arXiv abstracts.

`OaiRepository` is a route for `servers.LocalServer`: Identify and ListRecords with metadataPrefix,
from/until (inclusive, at second granularity), set, resumption tokens (`page_size` records a page),
deleted records (`<header status="deleted">`) and the OAI errors noRecordsMatch, badArgument,
badResumptionToken and cannotDisseminateFormat. Records come from ../shared/corpus at test time:
the MARCXML demo records keep their MARC 005 modification time as datestamp; arXiv records are built
in the `arXiv`, `arXivRaw` and `oai_dc` formats from the hep-th abstract listings. `touch` and
`delete` change a record at a given time, as a repository does when a paper is updated or withdrawn.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from tests.ingest.servers import Answer, marc_records

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
MARC_NS = "http://www.loc.gov/MARC21/slim"
STAMP = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Item:
    """One record of the repository: header fields and, unless deleted, its metadata per format."""

    identifier: str
    datestamp: dt.datetime
    sets: list[str]
    formats: dict[str, bytes] = field(default_factory=dict)  # metadataPrefix -> serialized metadata
    deleted: bool = False


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime(STAMP)


def marc_items(path: Path) -> list[Item]:
    """The MARCXML records of a (gzipped) file as `marcxml` items, datestamped by their MARC 005."""
    items = []
    for record in marc_records(path):
        recid = next((c.text or "" for c in record if c.get("tag") == "001"), "")
        modified = next((c.text or "" for c in record if c.get("tag") == "005"), "")
        try:
            when = dt.datetime.strptime(modified[:14], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
        except ValueError:
            when = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
        for node in record.iter():
            node.tag = f"{{{MARC_NS}}}{node.tag.rpartition('}')[2]}"
        ET.register_namespace("", MARC_NS)
        payload = ET.tostring(record, encoding="unicode").encode()
        items.append(Item(f"oai:inspirehep.net:{recid}", when, ["INSPIRE:HEP"], {"marcxml": payload}))
    return items


def _xml(tag: str, text: str, **attrs: str) -> str:
    attributes = "".join(f' {k}="{escape(v, {chr(34): "&quot;"})}"' for k, v in attrs.items())
    return f"<{tag}{attributes}>{escape(text)}</{tag}>"


def arxiv_payloads(rec: dict[str, Any], versions: int = 1) -> dict[str, bytes]:
    """`arXiv`, `arXivRaw` and `oai_dc` metadata for one listing record (as arXiv's OAI serves them)."""
    day = rec["listing_date"]
    names = [str(a).rsplit(" ", 1) for a in rec["authors"]]
    authors = "".join(
        "<author>" + _xml("keyname", n[-1]) + (_xml("forenames", n[0]) if len(n) > 1 else "") + "</author>"
        for n in names
    )
    cats = " ".join(rec["categories"])
    arxiv = (
        '<arXiv xmlns="http://arxiv.org/OAI/arXiv/">'
        + _xml("id", rec["id"]) + _xml("created", day)
        + (_xml("updated", day) if versions > 1 else "")
        + f"<authors>{authors}</authors>" + _xml("title", rec["title"]) + _xml("categories", cats)
        + _xml("abstract", rec["abstract"]) + "</arXiv>"
    )  # fmt: skip
    rfc = dt.date.fromisoformat(day).strftime("%a, %d %b %Y 12:00:00 GMT")
    raw = (
        '<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">' + _xml("id", rec["id"])
        + "".join(f'<version version="v{v}">{_xml("date", rfc)}</version>' for v in range(1, versions + 1))
        + _xml("title", rec["title"]) + _xml("authors", ", ".join(rec["authors"]))
        + _xml("categories", cats) + _xml("abstract", rec["abstract"]) + "</arXivRaw>"
    )  # fmt: skip
    creators = "".join(_xml("dc:creator", ", ".join(reversed(n))) for n in names)
    dc = (
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">' + _xml("dc:title", rec["title"]) + creators
        + _xml("dc:description", rec["abstract"]) + _xml("dc:date", day)
        + _xml("dc:identifier", f"http://arxiv.org/abs/{rec['id']}") + "</oai_dc:dc>"
    )  # fmt: skip
    return {"arXiv": arxiv.encode(), "arXivRaw": raw.encode(), "oai_dc": dc.encode()}


def arxiv_items(jsonl: Path, limit: int) -> list[Item]:
    """The first `limit` hep-th listing records as arXiv OAI items, datestamped by their listing date."""
    items = []
    for line in jsonl.read_text(encoding="utf-8").splitlines()[:limit]:
        rec = json.loads(line)
        when = dt.datetime.fromisoformat(rec["listing_date"]).replace(tzinfo=dt.UTC)
        items.append(Item(f"oai:arXiv.org:{rec['id']}", when, ["physics:hep-th"], arxiv_payloads(rec)))
    return items


@dataclass
class OaiRepository:
    """The OAI-PMH endpoint `/oai` over `items`; `now` is the responseDate (tests move it on)."""

    items: dict[str, Item]
    page_size: int = 10
    now: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC))
    token_epoch: int = 0  # `expire_tokens` bumps it: older tokens become badResumptionToken
    listed: list[str] = field(default_factory=list)  # identifiers of every record served, in order

    @classmethod
    def of(cls, items: list[Item], **kwargs: Any) -> OaiRepository:
        return cls({i.identifier: i for i in items}, **kwargs)

    def touch(self, identifier: str, at: dt.datetime, **payloads: bytes) -> None:
        item = self.items[identifier]
        item.datestamp, item.deleted = at, False
        item.formats.update(payloads)

    def delete(self, identifier: str, at: dt.datetime) -> None:
        item = self.items[identifier]
        item.datestamp, item.deleted, item.formats = at, True, {}

    def expire_tokens(self) -> None:
        self.token_epoch += 1

    # -- protocol ------------------------------------------------------------------------------
    def __call__(self, path: str, query: dict[str, list[str]]) -> Answer:
        args = {k: v[0] for k, v in query.items()}
        verb = args.pop("verb", "")
        if path != "/oai":
            return 404, {"Content-Type": "text/plain"}, b"not found"
        if verb == "Identify":
            body = (
                "<Identify>" + _xml("repositoryName", "heprag test repository") + _xml("baseURL", "/oai")
                + _xml("protocolVersion", "2.0") + _xml("earliestDatestamp", "1990-01-01T00:00:00Z")
                + _xml("deletedRecord", "persistent") + _xml("granularity", "YYYY-MM-DDThh:mm:ssZ")
                + "</Identify>"
            )  # fmt: skip
            return self._envelope(body, verb)
        if verb == "ListRecords":
            return self._list_records(args)
        return self._error("badVerb", f"illegal verb {verb!r}", verb)

    def _list_records(self, args: dict[str, str]) -> Answer:
        if "resumptionToken" in args:
            if set(args) != {"resumptionToken"}:
                return self._error("badArgument", "resumptionToken is exclusive", "ListRecords")
            try:
                epoch, offset, args = json.loads(base64.urlsafe_b64decode(args["resumptionToken"]))
            except ValueError:
                return self._error("badResumptionToken", "unknown token", "ListRecords")
            if epoch != self.token_epoch:
                return self._error("badResumptionToken", "the token has expired", "ListRecords")
        else:
            offset = 0
        prefix = args.get("metadataPrefix", "")
        if not prefix:
            return self._error("badArgument", "metadataPrefix is required", "ListRecords")
        known = {f for i in self.items.values() for f in i.formats}
        if prefix not in known:
            return self._error("cannotDisseminateFormat", f"no format {prefix}", "ListRecords")
        low, high = args.get("from"), args.get("until")
        matching = sorted(
            (
                i for i in self.items.values()
                if (i.deleted or prefix in i.formats)
                and (not low or _stamp(i.datestamp) >= _norm(low, "00:00:00"))
                and (not high or _stamp(i.datestamp) <= _norm(high, "23:59:59"))
                and (not args.get("set") or args["set"] in i.sets)
            ),
            key=lambda i: (i.datestamp, i.identifier),
        )  # fmt: skip
        if not matching:
            return self._error("noRecordsMatch", "no records match", "ListRecords")
        page = matching[offset : offset + self.page_size]
        records = "".join(self._record(i, prefix) for i in page)
        self.listed += [i.identifier for i in page]
        end = offset + len(page)
        attrs = f'completeListSize="{len(matching)}" cursor="{offset}"'
        if end < len(matching):
            token = base64.urlsafe_b64encode(json.dumps([self.token_epoch, end, args]).encode()).decode()
            records += f"<resumptionToken {attrs}>{token}</resumptionToken>"
        elif offset:
            records += f"<resumptionToken {attrs}/>"
        return self._envelope(f"<ListRecords>{records}</ListRecords>", "ListRecords")

    def _record(self, item: Item, prefix: str) -> str:
        status = ' status="deleted"' if item.deleted else ""
        header = (
            f"<header{status}>" + _xml("identifier", item.identifier)
            + _xml("datestamp", _stamp(item.datestamp))
            + "".join(_xml("setSpec", s) for s in item.sets) + "</header>"
        )  # fmt: skip
        if item.deleted:
            return f"<record>{header}</record>"
        return f"<record>{header}<metadata>{item.formats[prefix].decode()}</metadata></record>"

    def _envelope(self, body: str, verb: str) -> Answer:
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}">'
            + _xml("responseDate", _stamp(self.now)) + _xml("request", "http://127.0.0.1/oai", verb=verb)
            + body + "</OAI-PMH>"
        )  # fmt: skip
        return 200, {"Content-Type": "text/xml; charset=utf-8"}, xml.encode()

    def _error(self, code: str, message: str, verb: str) -> Answer:
        return self._envelope(_xml("error", message, code=code), verb)


def _norm(value: str, time_of_day: str) -> str:
    """A from/until argument at second granularity (a bare date covers the whole day)."""
    return value if "T" in value else f"{value}T{time_of_day}Z"


def requests_of(paths: list[str]) -> list[dict[str, str]]:
    """The OAI arguments of each logged request path (`LocalServer.requests`)."""
    from urllib.parse import parse_qs, urlsplit

    return [{k: v[0] for k, v in parse_qs(urlsplit(p).query).items()} for p in paths]
