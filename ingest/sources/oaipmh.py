"""An OAI-PMH 2.0 client: Identify and ListRecords with from/until/set, resumption tokens and deletions.

OAI-PMH is the harvesting protocol both arXiv (`https://oaipmh.arxiv.org/oai`) and INSPIRE
(`https://inspirehep.net/api/oai2d`) publish. Requests go through the polite session of the arXiv
client: paced, retried on 429/5xx with `Retry-After` honoured (arXiv answers 503 + Retry-After for flow
control), bounded by `RetryPolicy.retries`. Responses are parsed by lxml without entities, DTDs or
network; an OAI `<error>` becomes `OaiError` with its code, except `noRecordsMatch`, an empty list.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from lxml import etree

from heprag.index.errors import HepragError
from heprag.ingest.sources.arxiv_client import PoliteSession, RetryPolicy, SourceUnavailableError

log = logging.getLogger(__name__)

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
NS = {"oai": OAI_NS}
Granularity = Literal["YYYY-MM-DD", "YYYY-MM-DDThh:mm:ssZ"]
MAX_RESPONSE_BYTES = 256_000_000
HINTS = {
    "cannotDisseminateFormat": "the repository does not serve this format; choose another --format",
    "badArgument": "check --from/--until (YYYY-MM-DD) and --set",
    "noSetHierarchy": "the repository has no sets; drop --set",
    "badResumptionToken": "the saved position expired; run again with --restart",
    "badVerb": "is the endpoint an OAI-PMH base URL?",
}


class OaiError(HepragError):
    """The repository answered with an OAI-PMH error (badArgument, badResumptionToken, ...)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class OaiUnavailableError(SourceUnavailableError):
    """The OAI-PMH endpoint is down, unreachable, or keeps answering 503 after every retry."""


@dataclass
class OaiRecord:
    """One `<record>`: header fields and the `<metadata>` child element (None for a deleted record)."""

    identifier: str
    datestamp: str
    deleted: bool = False
    sets: list[str] = field(default_factory=list)
    metadata: Any = None  # lxml element of the format's root (e.g. marc:record, arXiv, oai_dc:dc)


@dataclass
class OaiPage:
    """One ListRecords answer: its records, the token for the next page (None at the end) and its date."""

    records: list[OaiRecord]
    token: str | None
    response_date: str
    complete_list_size: int | None = None
    cursor: int | None = None


def format_datestamp(
    value: dt.datetime | dt.date | str, granularity: Granularity, end_of_day: bool = False
) -> str:
    """A `from`/`until` argument in the repository's granularity ('2026-11-30' or '...T12:00:00Z').

    `end_of_day` makes a bare date an inclusive `until`: '2026-11-30' -> '2026-11-30T23:59:59Z'."""
    day_only = not isinstance(value, dt.datetime) and (not isinstance(value, str) or len(value.strip()) == 10)
    if isinstance(value, str):
        value = parse_datestamp(value)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if day_only and end_of_day:
        value = value.replace(hour=23, minute=59, second=59)
    value = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value.strftime("%Y-%m-%d" if granularity == "YYYY-MM-DD" else "%Y-%m-%dT%H:%M:%SZ")


def parse_datestamp(text: str) -> dt.datetime:
    """'2026-11-30' or '2026-11-30T12:00:00Z' -> an aware UTC datetime; HepragError when neither."""
    text = text.strip()
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HepragError(f"date {text!r} is neither YYYY-MM-DD nor YYYY-MM-DDThh:mm:ssZ") from exc
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class OaiClient:
    """Talks OAI-PMH 2.0 to one base URL."""

    def __init__(
        self,
        base_url: str,
        retry: RetryPolicy = RetryPolicy(max_wait_seconds=300.0, timeout_seconds=120.0),
        min_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`min_interval` seconds between requests; `retry` bounds the 503/Retry-After waits and tries."""
        self.base_url = base_url.rstrip("?")
        self.session = PoliteSession(
            retry, min_interval, OaiUnavailableError, sleep, user_agent="heprag-sync (OAI-PMH harvester)"
        )
        self.requests = 0

    def _call(self, verb: str, **arguments: str | None) -> Any:
        params = {"verb": verb, **{k: v for k, v in arguments.items() if v}}
        response = self.session.get(self.base_url, params=params, stream=True)
        url = response.url or self.base_url
        self.requests += 1
        if response.status_code != 200:
            raise OaiError(
                f"{url}: HTTP {response.status_code}; is {self.base_url} an OAI-PMH base URL?",
                code=f"http-{response.status_code}",
            )
        try:
            body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
        finally:
            response.close()
        if len(body) > MAX_RESPONSE_BYTES:
            raise OaiError(f"{url}: answer larger than {MAX_RESPONSE_BYTES:,} bytes", code="too-large")
        if b"<!ENTITY" in body[:4096].upper():
            raise OaiError(f"{url}: answer declares XML entities; refused", code="entities")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            root = etree.fromstring(body, parser)
        except etree.XMLSyntaxError as exc:
            raise OaiError(f"{url}: not XML ({exc}); is this an OAI-PMH endpoint?", code="not-xml") from exc
        if etree.QName(root).localname != "OAI-PMH":
            raise OaiError(f"{url}: not an OAI-PMH answer (root <{etree.QName(root).localname}>)")
        error = root.find("oai:error", NS)
        if error is not None:
            code = error.get("code", "")
            if code != "noRecordsMatch":
                text = " ".join((error.text or "").split())[:200]
                hint = HINTS.get(code, "")
                raise OaiError(
                    f"{url}: OAI-PMH error {code}: {text}" + (f" ({hint})" if hint else ""), code=code
                )
        return root

    def identify(self) -> dict[str, str]:
        """repositoryName, baseURL, granularity, earliestDatestamp, deletedRecord... of the repository."""
        node = self._call("Identify").find("oai:Identify", NS)
        if node is None:
            return {}
        return {etree.QName(c).localname: (c.text or "").strip() for c in node if isinstance(c.tag, str)}

    def list_records(
        self,
        metadata_prefix: str | None = None,
        set_spec: str | None = None,
        from_: str | None = None,
        until: str | None = None,
        token: str | None = None,
    ) -> OaiPage:
        """One page of ListRecords: the first (prefix, set, from, until) or the one a `token` names."""
        if token:
            root = self._call("ListRecords", resumptionToken=token)
        else:
            root = self._call(
                "ListRecords", metadataPrefix=metadata_prefix, set=set_spec, until=until, **{"from": from_}
            )
        response_date = (root.findtext("oai:responseDate", "", NS) or "").strip()
        listing = root.find("oai:ListRecords", NS)
        if listing is None:  # noRecordsMatch
            return OaiPage([], None, response_date, 0, 0)
        records = [_record(r) for r in listing.iterfind("oai:record", NS)]
        node = listing.find("oai:resumptionToken", NS)
        next_token = (node.text or "").strip() if node is not None else ""
        size = node.get("completeListSize") if node is not None else None
        cursor = node.get("cursor") if node is not None else None
        return OaiPage(
            records,
            next_token or None,
            response_date,
            int(size) if size and size.isdigit() else None,
            int(cursor) if cursor and cursor.isdigit() else None,
        )

    def pages(
        self,
        metadata_prefix: str,
        set_spec: str | None = None,
        from_: str | None = None,
        until: str | None = None,
        token: str | None = None,
    ) -> Iterator[OaiPage]:
        """Every page of a ListRecords, following resumption tokens (from `token` when resuming)."""
        page = self.list_records(metadata_prefix, set_spec, from_, until, token)
        yield page
        while page.token:
            page = self.list_records(token=page.token)
            yield page


def _record(node: Any) -> OaiRecord:
    header = node.find("oai:header", NS)
    if header is None:
        raise OaiError("a <record> without <header>; the repository's answer is malformed")
    metadata = node.find("oai:metadata", NS)
    payload = next((c for c in metadata if isinstance(c.tag, str)), None) if metadata is not None else None
    return OaiRecord(
        identifier=(header.findtext("oai:identifier", "", NS) or "").strip(),
        datestamp=(header.findtext("oai:datestamp", "", NS) or "").strip(),
        deleted=header.get("status") == "deleted",
        sets=[(s.text or "").strip() for s in header.iterfind("oai:setSpec", NS)],
        metadata=payload,
    )
