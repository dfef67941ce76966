"""INSPIRE: real MARCXML records, the same records as INSPIRE JSON, and the enrichment client."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from heprag.index.errors import LimitExceededError, ParseError
from heprag.index.types import Block, Document
from heprag.ingest.sources.base import ParseLimits
from heprag.ingest.sources.inspire import (
    InspireClient,
    InspireUnavailableError,
    parse_inspire_json,
    parse_marcxml,
)
from tests.conftest import require_corpus
from tests.ingest.servers import InspireApi, LocalServer, dead_url

DEMO = ("inspire", "marcxml_demo", "demo-records.xml.gz")
ACCEPTANCE = ("inspire", "marcxml_demo", "demo-records-acceptance.xml.gz")


@pytest.fixture(scope="module")
def marc_docs() -> dict[str, Document]:
    docs = [d for parts in (DEMO, ACCEPTANCE) for d in parse_marcxml(require_corpus(*parts))]
    return {d.doc_id: d for d in docs}


@pytest.fixture(scope="module")
def inspire_api() -> InspireApi:
    return InspireApi.from_marcxml(require_corpus(*DEMO), require_corpus(*ACCEPTANCE))


@pytest.fixture()
def inspire(inspire_api: InspireApi) -> Iterator[LocalServer]:
    with LocalServer(inspire_api) as server:
        yield server


def test_marcxml_records_become_documents_with_identifiers(marc_docs: dict[str, Document]) -> None:
    lhcb = marc_docs["inspire:1373300"]
    assert lhcb.title.startswith("Measurement of the forward $Z$ boson production cross-section")
    assert lhcb.collaboration == "LHCb" and lhcb.source == "inspire" and lhcb.date is not None
    assert lhcb.date.isoformat() == "2015-05-26" and lhcb.categories == ["hep-ex"]
    assert lhcb.extra["arxiv_id"] == "1505.07024" and lhcb.extra["doi"] == "10.1007/JHEP08(2015)039"
    assert lhcb.extra["texkey"] == "Aaij:2015gna" and lhcb.extra["journal_ref"] == "JHEP 1508 (2015) 039"
    assert "LHCB-PAPER-2015-001" in str(lhcb.extra["report_numbers"])
    assert lhcb.links["inspire"] == "https://inspirehep.net/literature/1373300"
    assert lhcb.links["abs"] == "https://arxiv.org/abs/1505.07024"
    assert lhcb.links["doi"] == "https://doi.org/10.1007/JHEP08(2015)039"
    refs = lhcb.references
    assert len(refs) > 10 and refs[0].key == "1" and refs[0].arxiv_id == "hep-ph/9408366"
    assert "Rijken" in refs[0].text
    assert lhcb.authors[0] == "R. Aaij" or "Aaij" in lhcb.authors[0]


def test_marcxml_abstracts_captions_and_non_literature(marc_docs: dict[str, Document]) -> None:
    book = marc_docs["inspire:736770"]
    assert book.authors == ["M. Fecko"] and book.date is not None and book.date.year == 2006
    assert [b.kind for b in book.blocks] == ["abstract"] and "Differential geometry" in book.blocks[0].text
    susy = marc_docs["inspire:1375491"]
    captions = [b for b in susy.blocks if b.kind == "caption"]
    assert captions and all(not b.text[:5].isdigit() for b in captions)  # "00013 " ordinals removed
    pas = marc_docs["inspire:1430091"]
    assert pas.collaboration == "CMS" and pas.extra["report_numbers"] == "CMS-PAS-HIG-15-004"
    assert "inspire:1061000" not in marc_docs  # an author profile (HEPNAMES), not literature
    assert "inspire:1213103" not in marc_docs  # a journal record
    assert len(marc_docs) == 31  # of 56 records; the others are authors, journals, institutions...


def test_inspire_json_export_agrees_with_marcxml(
    inspire_api: InspireApi, marc_docs: dict[str, Document], tmp_path: Path
) -> None:
    records = list(inspire_api.records.values())
    search = tmp_path / "search.json"
    search.write_text(json.dumps({"hits": {"hits": records, "total": len(records)}}))
    lines = tmp_path / "records.inspire.jsonl.gz"
    with gzip.open(lines, "wt") as handle:
        handle.write("\n".join(json.dumps(r) for r in records) + "\n{not json\n")
    from_search = {d.doc_id: d for d in parse_inspire_json(search)}
    from_lines = {d.doc_id: d for d in parse_inspire_json(lines)}
    assert from_search.keys() == from_lines.keys() == marc_docs.keys()
    for doc_id, marc in marc_docs.items():
        doc = from_search[doc_id]
        assert (doc.title, doc.authors, doc.date, doc.collaboration) == (
            marc.title, marc.authors, marc.date, marc.collaboration,
        ), doc_id  # fmt: skip
        for key in ("arxiv_id", "doi", "texkey", "report_numbers", "journal_ref"):
            assert doc.extra.get(key) == marc.extra.get(key), (doc_id, key)
        assert [b.text for b in doc.blocks if b.kind == "abstract"] == [
            b.text for b in marc.blocks if b.kind == "abstract"
        ]
    counts = {d.doc_id: d.extra["citation_count"] for d in from_search.values()}
    assert counts == {f"inspire:{k}": r["metadata"]["citation_count"] for k, r in inspire_api.records.items()}
    assert max(counts.values()) > 0 and "citation_count" not in marc_docs["inspire:1373300"].extra


def test_hostile_and_broken_marcxml_is_refused_quickly(tmp_path: Path) -> None:
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(f'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY l0 "lol">{laughs}]><collection>'
                    '<record><controlfield tag="001">1</controlfield><datafield tag="245" ind1=" " ind2=" ">'
                    "<subfield code=\"a\">&l9;</subfield></datafield></record></collection>")  # fmt: skip
    xxe = tmp_path / "xxe.xml"
    xxe.write_text('<!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><collection><record>&x;</record>')
    started = time.perf_counter()
    for path in (bomb, xxe):
        with pytest.raises(ParseError, match="declares XML entities"):
            list(parse_marcxml(path))
    assert time.perf_counter() - started < 1.0
    truncated = tmp_path / "cut.xml.gz"
    truncated.write_bytes(require_corpus(*DEMO).read_bytes()[:20_000])
    with pytest.raises(ParseError, match="truncated or corrupt"):
        list(parse_marcxml(truncated))
    not_marc = tmp_path / "page.xml"
    not_marc.write_text("<html><body>not a record</body></html>")
    with pytest.raises(ParseError, match="no <record> elements"):
        list(parse_marcxml(not_marc))
    with pytest.raises(LimitExceededError, match="max_decompressed_bytes"):
        list(parse_marcxml(require_corpus(*DEMO), ParseLimits(max_decompressed_bytes=100_000)))


def inspire_date(api: InspireApi, recid: str) -> dt.date:
    return dt.date.fromisoformat(api.records[recid]["metadata"]["preprint_date"])


def arxiv_doc(arxiv_id: str, **extra: str) -> Document:
    return Document(
        doc_id=f"arXiv:{arxiv_id}", title="As listed on arXiv", source="arxiv",
        blocks=[Block(text="Abstract.", kind="abstract")], extra=dict(extra),
    )  # fmt: skip


def client(server: LocalServer, waits: list[float] | None = None, retries: int = 2) -> InspireClient:
    """A client of `server` that records its waits instead of sleeping."""
    sleep = waits.append if waits is not None else (lambda seconds: None)
    fast = {"backoff_seconds": 0.01, "max_wait_seconds": 5.0, "min_interval": 0.0}
    return InspireClient(f"{server.url}/api", 5, retries, **fast, sleep=sleep)


def test_enrich_by_arxiv_id_fills_inspire_metadata(inspire: LocalServer, inspire_api: InspireApi) -> None:
    doc = arxiv_doc("1505.07024v2")
    enriched = client(inspire).enrich(doc)
    assert inspire.requests == ["/api/arxiv/1505.07024"]
    assert enriched.collaboration == "LHCb" and enriched.title == "As listed on arXiv"
    assert enriched.extra["inspire_recid"] == 1373300 and enriched.extra["texkey"] == "Aaij:2015gna"
    assert enriched.extra["citation_count"] == inspire_api.records["1373300"]["metadata"]["citation_count"]
    assert enriched.extra["journal_ref"] == "JHEP 1508 (2015) 039"
    assert "CERN-PH-EP-2015-102" in str(enriched.extra["report_numbers"])
    assert enriched.extra["doi"] == "10.1007/JHEP08(2015)039"
    assert enriched.links["inspire"].endswith("/literature/1373300") and enriched.links["doi"].startswith(
        "https://doi"
    )
    assert enriched.blocks == doc.blocks and enriched.date == inspire_date(inspire_api, "1373300")


def test_enrich_falls_back_to_doi_and_leaves_unknown_papers_alone(inspire: LocalServer) -> None:
    by_doi = Document(doc_id="pdf:maldacena", extra={"doi": "https://doi.org/10.1023/A:1026654312961"})
    enriched = client(inspire).enrich(by_doi)
    assert enriched.extra["texkey"] == "Maldacena:1997re" and enriched.title.startswith("The Large N limit")
    assert enriched.date is not None and enriched.date.year == 1997
    assert inspire.paths("/api/doi/") == ["/api/doi/10.1023/A:1026654312961"]
    unknown = arxiv_doc("2607.20603v1")
    assert client(inspire).enrich(unknown) == unknown


def test_503_and_429_are_retried_honouring_capped_retry_after(inspire: LocalServer) -> None:
    inspire.faults = [(503, {"Retry-After": "30"}), (429, {"Retry-After": "2"})]
    waits: list[float] = []
    enriched = client(inspire, waits).enrich(arxiv_doc("1611.03076"))
    assert enriched.collaboration == "LHCb" and enriched.extra["inspire_recid"] == 1496635
    assert waits == [5.0, 2.0]  # Retry-After 30 s capped at max_wait_seconds, then honoured as given
    assert len(inspire.requests) == 3


def test_unavailable_inspire_raises_a_clear_error(inspire: LocalServer) -> None:
    inspire.fail_after = 0
    with pytest.raises(InspireUnavailableError, match="HTTP 503"):
        client(inspire).enrich(arxiv_doc("1505.07024"))
    assert len(inspire.requests) == 3  # the first try and two retries
    url = dead_url()
    with pytest.raises(InspireUnavailableError) as caught:
        client(inspire, retries=1).session.get(url)
    assert url in str(caught.value) and "ConnectionError" in str(caught.value)
    with pytest.raises(InspireUnavailableError, match="no usable answer"):
        InspireClient(f"{url}/api", retries=0, min_interval=0.0).enrich(arxiv_doc("1505.07024"))


def test_a_non_json_answer_skips_enrichment_of_that_paper() -> None:
    login_page = (200, {"Content-Type": "text/html"}, b"<html>login</html>")
    with LocalServer(lambda path, query: login_page) as server:
        doc = arxiv_doc("1505.07024")
        assert client(server).enrich(doc) == doc
