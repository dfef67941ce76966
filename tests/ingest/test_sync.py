"""`Syncer` keeps an index current from a local OAI-PMH repository serving the real INSPIRE MARCXML
records and arXiv records built from the real hep-th abstracts: a first harvest, an incremental one
that fetches only what changed, 503 + Retry-After, a harvest killed mid-way that resumes, deletions."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from heprag.index.errors import HepragError
from heprag.index.retrieval import HybridRetriever
from heprag.index.store import CorpusIndex
from heprag.ingest.pipeline import Ingestor, current_state
from heprag.ingest.sources.arxiv_client import RetryPolicy
from heprag.ingest.sources.oaipmh import OaiClient, OaiError, OaiUnavailableError
from heprag.ingest.sync import Syncer
from heprag.ingest.sync_state import HarvestState
from tests.conftest import require_corpus
from tests.ingest.hash_embedder import HashEmbedder
from tests.ingest.oai_server import OaiRepository, arxiv_items, arxiv_payloads, marc_items, requests_of
from tests.ingest.servers import LocalServer

LATER = dt.datetime(2026, 12, 2, 8, 30, tzinfo=dt.UTC)
LITERATURE = 31  # of the 55 demo records with a recid; the others are authors, institutions, journals...


@pytest.fixture(scope="module")
def marc_dir() -> Path:
    return require_corpus("inspire", "marcxml_demo")


@pytest.fixture()
def repo(marc_dir: Path) -> OaiRepository:
    items = [i for p in sorted(marc_dir.glob("*.xml.gz")) for i in marc_items(p)]
    return OaiRepository.of(items, page_size=10)


@pytest.fixture()
def server(repo: OaiRepository) -> Iterator[LocalServer]:
    with LocalServer(repo, api_prefix="/oai") as srv:
        yield srv


def client(server: LocalServer, retries: int = 2, sleeps: list[float] | None = None) -> OaiClient:
    wait = sleeps.append if sleeps is not None else (lambda s: None)
    policy = RetryPolicy(retries=retries, backoff_seconds=0.01, max_wait_seconds=30.0, timeout_seconds=10.0)
    return OaiClient(f"{server.url}/oai", policy, min_interval=0.0, sleep=wait)


def syncer(index: Path, batch: int = 10) -> Syncer:
    return Syncer(
        Ingestor(index, HashEmbedder(), parse_timeout_s=0), batch_records=batch, show_progress=False
    )


def search_ids(index: Path, query: str) -> list[str]:
    corpus = CorpusIndex.open(index, HashEmbedder.model_id)
    try:
        return [h.chunk.doc_id for h in HybridRetriever(corpus, HashEmbedder()).search(query, 5, mode="bm25")]
    finally:
        corpus.close()


def marc_payload(repo: OaiRepository, recid: str, old: str, new: str) -> bytes:
    payload = repo.items[f"oai:inspirehep.net:{recid}"].formats["marcxml"].decode()
    assert old in payload
    return payload.replace(old, new).encode()


def test_first_harvest_indexes_every_literature_record_and_skips_the_rest(
    tmp_path: Path, server: LocalServer
) -> None:
    report = syncer(tmp_path / "idx").harvest(client(server), "marcxml")
    assert (len(report.new), len(report.failed), report.records) == (LITERATURE, 0, 55)
    assert len(report.skipped) == 55 - LITERATURE and report.from_ is None
    verbs = requests_of(server.requests)
    assert verbs[0] == {"verb": "Identify"}
    assert verbs[1] == {"verb": "ListRecords", "metadataPrefix": "marcxml"}
    assert all(set(v) == {"verb", "resumptionToken"} for v in verbs[2:]) and len(verbs) == 2 + 5
    doc = CorpusIndex.open(tmp_path / "idx", HashEmbedder.model_id).meta.get_document("inspire:1247304")
    assert doc is not None and doc.authors and doc.extra["oai_datestamp"]
    state = HarvestState.load(tmp_path / "idx", report.target)
    assert state.last_harvest == "2026-12-01T12:00:00Z" and state.token is None


def test_incremental_harvest_fetches_only_the_records_changed_since_the_last_one(
    tmp_path: Path, repo: OaiRepository, server: LocalServer
) -> None:
    sync, oai = syncer(tmp_path / "idx"), client(server)
    sync.harvest(oai, "marcxml")
    first_requests, first_listed = len(server.requests), len(repo.listed)
    repo.now = LATER + dt.timedelta(hours=1)
    title = "Differential geometry and Lie groups for physicists"
    repo.touch(
        "oai:inspirehep.net:736770", LATER, marcxml=marc_payload(repo, "736770", title, f"{title} (2nd ed.)")
    )
    repo.delete("oai:inspirehep.net:1247304", LATER)
    report = sync.harvest(oai, "marcxml")
    assert report.line().startswith("0 new, 1 updated, 1 deleted, 0 unchanged, 0 failed")
    assert repo.listed[first_listed:] == ["oai:inspirehep.net:1247304", "oai:inspirehep.net:736770"]
    assert requests_of(server.requests[first_requests:]) == [
        {"verb": "ListRecords", "metadataPrefix": "marcxml", "from": "2026-12-01T12:00:00Z"}
    ]
    assert set(current_state(tmp_path / "idx")) >= {"inspire:736770"}
    assert "inspire:1247304" not in current_state(tmp_path / "idx")
    # Nothing changed since: one request, no records.
    again = sync.harvest(oai, "marcxml")
    assert again.records == 0 and again.from_ == "2026-12-02T09:30:00Z"


def test_a_deleted_record_is_gone_from_search(
    tmp_path: Path, repo: OaiRepository, server: LocalServer
) -> None:
    sync, oai = syncer(tmp_path / "idx"), client(server)
    sync.harvest(oai, "marcxml")
    corpus = CorpusIndex.open(tmp_path / "idx", HashEmbedder.model_id)
    doc_id, chunks = next(
        (d, c) for d in sorted(current_state(tmp_path / "idx")) if (c := corpus.meta.chunks_of(d))
    )
    corpus.close()
    query = " ".join(chunks[0].text.split()[:25])
    assert search_ids(tmp_path / "idx", query)[0] == doc_id
    repo.now = LATER
    repo.delete(f"oai:inspirehep.net:{doc_id.removeprefix('inspire:')}", LATER)
    assert sync.harvest(oai, "marcxml").deleted == [doc_id]
    assert doc_id not in search_ids(tmp_path / "idx", query)


def test_a_503_with_retry_after_is_waited_out(tmp_path: Path, server: LocalServer) -> None:
    server.faults = [(503, {"Retry-After": "7"}), (503, {"Retry-After": "3"})]
    sleeps: list[float] = []
    report = syncer(tmp_path / "idx").harvest(client(server, retries=2, sleeps=sleeps), "marcxml")
    assert sleeps == [7.0, 3.0] and len(report.new) == LITERATURE


def test_an_endpoint_that_stays_down_is_one_actionable_error(tmp_path: Path, server: LocalServer) -> None:
    server.faults = [(503, {"Retry-After": "1"})] * 3
    with pytest.raises(
        OaiUnavailableError, match=r"no usable answer after 3 tries \(last: HTTP 503\)"
    ) as exc:
        syncer(tmp_path / "idx").harvest(client(server, retries=2), "marcxml")
    assert "\n" not in str(exc.value)


def test_a_harvest_killed_after_its_first_page_resumes_from_the_saved_token(
    tmp_path: Path, repo: OaiRepository, server: LocalServer
) -> None:
    server.fail_after = 2  # Identify and page 1 answer; page 2 and everything after are 503
    with pytest.raises(OaiUnavailableError):
        syncer(tmp_path / "idx").harvest(client(server, retries=0), "marcxml")
    page_one = set(current_state(tmp_path / "idx"))  # committed: the literature among page 1's 10 records
    assert page_one and {f"oai:inspirehep.net:{d.removeprefix('inspire:')}" for d in page_one} <= set(
        repo.listed[:10]
    )
    server.fail_after, before = None, len(server.requests)
    report = syncer(tmp_path / "idx").harvest(client(server), "marcxml")
    assert report.resumed and len(report.new) == LITERATURE - len(page_one) and not report.unchanged
    assert set(requests_of(server.requests[before:])[0]) == {"verb", "resumptionToken"}
    assert sorted(repo.listed) == sorted(set(repo.listed))  # no record was fetched twice
    assert len(current_state(tmp_path / "idx")) == LITERATURE


def test_an_expired_token_restarts_the_list_and_reindexes_nothing(
    tmp_path: Path, repo: OaiRepository, server: LocalServer
) -> None:
    server.fail_after = 3
    with pytest.raises(OaiUnavailableError):
        syncer(tmp_path / "idx").harvest(client(server, retries=0), "marcxml")
    server.fail_after = None
    repo.expire_tokens()
    report = syncer(tmp_path / "idx").harvest(client(server), "marcxml")
    assert report.resumed and len(report.unchanged) + len(report.new) == LITERATURE
    assert len(report.unchanged) > 0 and len(current_state(tmp_path / "idx")) == LITERATURE


def test_oai_errors_are_one_line_and_no_records_match_is_an_empty_harvest(
    tmp_path: Path, server: LocalServer
) -> None:
    with pytest.raises(OaiError, match="cannotDisseminateFormat") as exc:
        syncer(tmp_path / "idx").harvest(client(server), "arxiv")
    assert exc.value.code == "cannotDisseminateFormat" and "\n" not in str(exc.value)
    report = syncer(tmp_path / "idx").harvest(client(server), "marcxml", from_="2030-01-01")
    assert report.records == 0 and report.from_ == "2030-01-01T00:00:00Z"
    with pytest.raises(HepragError, match="unknown OAI-PMH format 'mods'"):
        syncer(tmp_path / "idx").harvest(client(server), "mods")


def test_a_set_and_a_date_window_select_the_records(tmp_path: Path, server: LocalServer) -> None:
    report = syncer(tmp_path / "idx").harvest(
        client(server), "marcxml", set_spec="INSPIRE:HEP", from_="2016-01-01", until="2016-12-31"
    )
    assert 0 < report.records < 55
    assert requests_of(server.requests)[1] == {
        "verb": "ListRecords", "metadataPrefix": "marcxml", "set": "INSPIRE:HEP",
        "from": "2016-01-01T00:00:00Z", "until": "2016-12-31T23:59:59Z",
    }  # fmt: skip
    none = syncer(tmp_path / "other").harvest(client(server), "marcxml", set_spec="physics:hep-th")
    assert none.records == 0


@pytest.mark.parametrize("fmt", ["arxiv", "arxivraw", "oai_dc"])
def test_arxiv_formats_give_the_abstract_documents_of_the_real_listings(tmp_path: Path, fmt: str) -> None:
    listings = require_corpus("abstracts", "arxiv_hepth_2026", "hepth_2026.jsonl")
    repo = OaiRepository.of(arxiv_items(listings, 6), page_size=4)
    with LocalServer(repo, api_prefix="/oai") as server:
        report = syncer(tmp_path / "idx").harvest(client(server), fmt)
    suffix = "v1" if fmt == "arxivraw" else ""
    assert sorted(report.new) == sorted(
        f"arXiv:{i.identifier.split(':')[-1]}{suffix}" for i in repo.items.values()
    )
    first = json.loads(listings.read_text(encoding="utf-8").splitlines()[0])
    doc_id = f"arXiv:{first['id']}{suffix}"
    corpus = CorpusIndex.open(tmp_path / "idx", HashEmbedder.model_id)
    doc, chunks = corpus.meta.get_document(doc_id), corpus.meta.chunks_of(doc_id)
    corpus.close()
    assert doc is not None and doc.authors == first["authors"] and doc.title.startswith(first["title"][:30])
    assert doc.date == dt.date.fromisoformat(first["listing_date"]) and "hep-th" in doc.categories
    assert chunks and chunks[0].section == ["Abstract"] and chunks[0].text.startswith(first["abstract"][:60])


def test_a_new_arxiv_version_supersedes_the_old_one(tmp_path: Path) -> None:
    listings = require_corpus("abstracts", "arxiv_hepth_2026", "hepth_2026.jsonl")
    repo = OaiRepository.of(arxiv_items(listings, 3), page_size=10)
    first = json.loads(listings.read_text(encoding="utf-8").splitlines()[0])
    with LocalServer(repo, api_prefix="/oai") as server:
        sync, oai = syncer(tmp_path / "idx"), client(server)
        sync.harvest(oai, "arxivraw")
        repo.now = LATER
        revised = {**first, "abstract": first["abstract"] + " Version 2 adds a section on instantons."}
        repo.touch(f"oai:arXiv.org:{first['id']}", LATER, **arxiv_payloads(revised, versions=2))
        report = sync.harvest(oai, "arxivraw")
    assert report.updated == [f"arXiv:{first['id']}v2"] and report.superseded == [f"arXiv:{first['id']}v1"]
    assert f"arXiv:{first['id']}v1" not in current_state(tmp_path / "idx")


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, b"<html><body>Welcome to our library</body></html>", "not an OAI-PMH answer (root <html>)"),
        (200, b'{"hits": []}', "not XML"),
        (404, b"not found", "HTTP 404; is"),
        (
            200,
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><OAI-PMH>&a;</OAI-PMH>',
            "declares XML entities; refused",
        ),
    ],
)
def test_an_endpoint_that_is_not_oai_pmh_is_one_clear_error(
    tmp_path: Path, status: int, body: bytes, message: str
) -> None:
    server = LocalServer(lambda path, query: (status, {"Content-Type": "text/html"}, body), "/oai")
    with server, pytest.raises(OaiError, match=re.escape(message)) as exc:
        syncer(tmp_path / "idx").harvest(client(server), "marcxml")
    assert "\n" not in str(exc.value)
