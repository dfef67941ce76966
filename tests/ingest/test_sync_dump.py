"""INSPIRE's literature dump (JSON lines, gzipped) streams into the index resumably, tombstones included;
harvested arXiv records are enriched by the INSPIRE REST client. Records: the real MARCXML demo set."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from heprag.index.errors import ParseError
from heprag.index.store import CorpusIndex
from heprag.ingest.pipeline import Ingestor, current_state
from heprag.ingest.sources.arxiv_client import RetryPolicy
from heprag.ingest.sources.inspire import InspireClient
from heprag.ingest.sources.inspire_dump import read_dump
from heprag.ingest.sources.oaipmh import OaiClient
from heprag.ingest.sync import Syncer
from tests.conftest import require_corpus
from tests.ingest.hash_embedder import HashEmbedder
from tests.ingest.oai_server import Item, OaiRepository, arxiv_payloads
from tests.ingest.servers import InspireApi, LocalServer

LITERATURE = 31


@pytest.fixture(scope="module")
def inspire() -> InspireApi:
    folder = require_corpus("inspire", "marcxml_demo")
    return InspireApi.from_marcxml(*sorted(folder.glob("*.xml.gz")))


def write_dump(path: Path, records: list[dict[str, Any]], extra_lines: tuple[str, ...] = ()) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
        for line in extra_lines:
            handle.write(line + "\n")
    return path


def syncer(index: Path, batch: int = 10, **kwargs: Any) -> Syncer:
    ingestor = Ingestor(index, HashEmbedder(), parse_timeout_s=0)
    return Syncer(ingestor, batch_records=batch, show_progress=False, **kwargs)


def test_the_dump_is_streamed_into_documents_with_bad_lines_reported(
    tmp_path: Path, inspire: InspireApi
) -> None:
    records = list(inspire.records.values())
    dump = write_dump(tmp_path / "literature.jsonl.gz", records, ("{not json", "[1, 2]"))
    entries = list(read_dump(dump))
    assert len(entries) == len(records) + 2
    assert [e.problem for e in entries[-2:]] == [
        "invalid JSON: Expecting property name enclosed in double quotes at column 2",
        "not a JSON object",
    ]
    report = syncer(tmp_path / "idx").ingest_dump(dump)
    assert len(report.new) == len(records) and len(report.failed) == 2
    assert report.failed[0].path.endswith(f"literature.jsonl.gz:{len(records) + 1}")
    doc = CorpusIndex.open(tmp_path / "idx", HashEmbedder.model_id).meta.get_document(report.new[0])
    assert doc is not None and doc.source == "inspire" and doc.extra["citation_count"] is not None


def test_a_tombstone_in_the_dump_deletes_the_record(tmp_path: Path, inspire: InspireApi) -> None:
    records = list(inspire.records.values())
    syncer(tmp_path / "idx").ingest_dump(write_dump(tmp_path / "v1.jsonl.gz", records))
    gone = records[0]["id"]
    tombstone = {"id": gone, "metadata": {"control_number": int(gone), "deleted": True}}
    report = syncer(tmp_path / "idx").ingest_dump(
        write_dump(tmp_path / "v2.jsonl", [tombstone, *records[1:]])
    )
    assert report.deleted == [f"inspire:{gone}"] and len(report.unchanged) == len(records) - 1
    assert f"inspire:{gone}" not in current_state(tmp_path / "idx")


def test_an_interrupted_dump_resumes_at_the_last_committed_line(
    tmp_path: Path, inspire: InspireApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = list(inspire.records.values())
    dump = write_dump(tmp_path / "literature.jsonl.gz", records)
    first = syncer(tmp_path / "idx", batch=10)
    real = first.ingestor.ingest_documents
    calls: list[int] = []

    def dies_on_the_second_commit(docs: Any, report: Any = None) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C, or the machine went down
        return real(docs, report)

    monkeypatch.setattr(first.ingestor, "ingest_documents", dies_on_the_second_commit)
    with pytest.raises(KeyboardInterrupt):
        first.ingest_dump(dump)
    assert len(current_state(tmp_path / "idx")) == 10
    report = syncer(tmp_path / "idx", batch=10).ingest_dump(dump)
    assert report.resumed and report.records == len(records) - 10 and not report.unchanged
    assert len(current_state(tmp_path / "idx")) == len(records)


def test_harvested_arxiv_records_are_enriched_from_the_inspire_rest_api(
    tmp_path: Path, inspire: InspireApi
) -> None:
    items = []
    for record in inspire.records.values():
        meta = record["metadata"]
        if meta.get("arxiv_eprints") and meta.get("abstracts"):
            listing = {
                "id": meta["arxiv_eprints"][0]["value"], "title": meta["titles"][0]["title"],
                "authors": [a["full_name"] for a in meta["authors"][:3]] or ["Anonymous"],
                "categories": ["hep-ex"], "abstract": meta["abstracts"][0]["value"],
                "listing_date": "2016-05-01",
            }  # fmt: skip
            when = dt.datetime(2016, 5, 1, tzinfo=dt.UTC)
            items.append(Item(f"oai:arXiv.org:{listing['id']}", when, ["hep-ex"], arxiv_payloads(listing)))
    assert len(items) >= 5
    repo = OaiRepository.of(items, page_size=4)
    policy = RetryPolicy(retries=0, timeout_seconds=10.0)
    with LocalServer(repo, api_prefix="/oai") as oai, LocalServer(inspire) as api:
        enrich = InspireClient(f"{api.url}/api", min_interval=0.0)
        report = syncer(tmp_path / "idx", enrich=enrich).harvest(
            OaiClient(f"{oai.url}/oai", policy, 0.0), "arxiv"
        )
        assert len(api.paths("/api/arxiv/")) == len(items)
    corpus = CorpusIndex.open(tmp_path / "idx", HashEmbedder.model_id)
    docs = [corpus.meta.get_document(d) for d in report.new]
    assert all(d is not None and d.extra.get("inspire_recid") for d in docs)
    assert any(d is not None and d.extra.get("texkey") for d in docs)


def test_the_dump_is_read_as_a_stream_not_loaded_whole(tmp_path: Path, inspire: InspireApi) -> None:
    """A truncated download still yields its first records before the error: nothing waits for the end."""
    records = list(inspire.records.values())
    whole = write_dump(tmp_path / "whole.jsonl.gz", records * 20).read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    stream = read_dump(cut)
    first = next(stream)
    assert first.document is not None and first.document.doc_id == f"inspire:{records[0]['id']}"
    with pytest.raises(ParseError, match="truncated or corrupt after line"):
        list(stream)
