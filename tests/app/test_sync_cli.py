"""`heprag sync` end to end: a local OAI-PMH repository of real arXiv hep-th abstracts, the packaged
embedding model (test cache), a first and an incremental harvest, a dead endpoint, and a harvest
killed with SIGKILL mid-way that the next run resumes."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heprag.app.cli import app
from heprag.ingest.pipeline import current_state
from tests.conftest import require_corpus
from tests.ingest.oai_server import OaiRepository, arxiv_items, requests_of
from tests.ingest.servers import Answer, LocalServer, dead_url

runner = CliRunner()
HEPRAG = str(Path(sys.executable).with_name("heprag"))  # the installed entry point, as users run it
LATER = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture()
def repo() -> OaiRepository:
    listings = require_corpus("abstracts", "arxiv_hepth_2026", "hepth_2026.jsonl")
    return OaiRepository.of(arxiv_items(listings, 4), page_size=2)


def heprag_cli(index: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--index", str(index), "--quiet", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_first_then_incremental_sync_prints_the_report_line(tmp_path: Path, repo: OaiRepository) -> None:
    with LocalServer(repo, api_prefix="/oai") as server:
        url = f"{server.url}/oai"
        code, out = heprag_cli(
            tmp_path / "idx", "sync", "--endpoint", url, "--format", "arxiv", "--delay", "0"
        )
        assert code == 0, out
        assert "4 new, 0 updated, 0 deleted, 0 unchanged, 0 failed (4 records, 3 requests)" in out
        repo.now = LATER
        repo.delete(next(iter(repo.items)), LATER)
        code, out = heprag_cli(
            tmp_path / "idx", "sync", "--endpoint", url, "--format", "arxiv", "--delay", "0"
        )
        assert "0 new, 0 updated, 1 deleted, 0 unchanged, 0 failed (1 records, 1 requests)" in out
        assert requests_of(server.requests)[-1]["from"] == "2026-12-01T12:00:00Z"
    assert len(current_state(tmp_path / "idx")) == 3
    assert list((tmp_path / "idx" / "reports").glob("sync-*.json"))


def test_a_dead_endpoint_is_one_line_error(tmp_path: Path) -> None:
    command = [HEPRAG, "--index", str(tmp_path / "idx"), "sync"]
    done = subprocess.run(
        [*command, "--endpoint", dead_url(), "--retries", "0"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: http://127.0.0.1:"), done.stderr
    assert "no usable answer after 1 tries" in lines[0] and "Connection" in lines[0]


def test_neither_or_both_sources_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--index", str(tmp_path / "idx"), "sync"])
    assert result.exit_code == 2 and "--endpoint URL" in result.output


class HoldSecondPage:
    """Routes to `repo`, but holds the first request for page 2 until released (the test kills the client)."""

    def __init__(self, repo: OaiRepository) -> None:
        self.repo, self.reached, self.release = repo, threading.Event(), threading.Event()

    def __call__(self, path: str, query: dict[str, list[str]]) -> Answer:
        if "resumptionToken" in query and not self.reached.is_set():
            self.reached.set()
            self.release.wait(60)
        return self.repo(path, query)


def test_a_sync_killed_mid_harvest_resumes_where_the_index_stopped(
    tmp_path: Path, repo: OaiRepository
) -> None:
    route = HoldSecondPage(repo)
    index = tmp_path / "idx"
    with LocalServer(route, api_prefix="/oai") as server:
        url = f"{server.url}/oai"
        args = ["--index", str(index), "--quiet", "sync", "--endpoint", url, "--format", "arxiv"]
        proc = subprocess.Popen(
            [HEPRAG, *args, "--batch", "2", "--delay", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            assert route.reached.wait(240), "the harvest never asked for page 2"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
            route.release.set()
        assert len(current_state(index)) == 2  # page 1 was committed before page 2 was asked for
        before = len(server.requests)
        code, out = heprag_cli(index, "sync", "--endpoint", url, "--format", "arxiv", "--delay", "0")
        assert code == 0, out
        assert "2 new, 0 updated, 0 deleted, 0 unchanged, 0 failed (2 records, 1 requests, resumed)" in out
        assert set(requests_of(server.requests[before:])[0]) == {"verb", "resumptionToken"}
    assert len(current_state(index)) == 4


def test_sync_dump_streams_an_inspire_dump(tmp_path: Path) -> None:
    from tests.ingest.servers import InspireApi

    folder = require_corpus("inspire", "marcxml_demo")
    records = [
        r for r in InspireApi.from_marcxml(folder / "demo-records.xml.gz").records.values()
        if r["metadata"].get("abstracts")
    ][:3]  # fmt: skip
    dump = tmp_path / "literature.jsonl.gz"
    with gzip.open(dump, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
        handle.write(json.dumps({"metadata": {"control_number": 1, "deleted": True}}) + "\n")
    code, out = heprag_cli(tmp_path / "idx", "sync", "--dump", str(dump))
    assert code == 0, out
    assert "3 new, 0 updated, 0 deleted, 0 unchanged, 0 failed (4 records) in" in out
    assert sorted(current_state(tmp_path / "idx")) == sorted(f"inspire:{r['id']}" for r in records)
