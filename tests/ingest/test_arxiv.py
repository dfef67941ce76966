"""fetch_arxiv runs the real `arxiv` client against a local server that serves real arXiv records."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from heprag.index.errors import ConfigError
from heprag.index.types import Document
from heprag.ingest.sources.arxiv_client import (
    ArxivUnavailableError,
    RetryPolicy,
    build_query,
    fetch_arxiv,
)
from heprag.ingest.sources.pdf import parse_pdf
from tests.conftest import require_corpus
from tests.ingest.servers import ArxivApi, ArxivPaper, LocalServer, dead_url

FAST = RetryPolicy(retries=2, backoff_seconds=0.01, max_wait_seconds=0.05, timeout_seconds=5)
JULY = {"category": "hep-th", "since": "2026-07-24", "until": "2026-07-31"}


@pytest.fixture(scope="module")
def listings() -> list[dict[str, object]]:
    path = require_corpus("abstracts", "arxiv_hepth_2026", "hepth_2026.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture()
def arxiv_server(listings: list[dict[str, object]]) -> Iterator[tuple[LocalServer, ArxivApi]]:
    api = ArxivApi.from_listings(require_corpus("abstracts", "arxiv_hepth_2026", "hepth_2026.jsonl"))
    with LocalServer(api) as server:
        yield server, api


def fetch(server: LocalServer, **kwargs: Any) -> list[Document]:
    """All Documents of one fetch_arxiv run against `server`, fast retries, no politeness delay."""
    options: dict[str, Any] = {"api_url": f"{server.url}/api/query", "pdf_base_url": f"{server.url}/pdf"}
    options |= {"source_base_url": f"{server.url}/e-print", "delay_seconds": 0.0, "retry": FAST}
    return list(fetch_arxiv(**(options | kwargs)))


def expected_july(listings: list[dict[str, object]]) -> list[dict[str, object]]:
    rows = [r for r in listings if "2026-07-24" <= str(r["listing_date"]) <= "2026-07-31"]
    return sorted(rows, key=lambda r: (str(r["listing_date"]), str(r["id"])))


def test_search_by_category_and_dates_yields_abstract_documents_in_date_order(
    arxiv_server: tuple[LocalServer, ArxivApi], listings: list[dict[str, object]]
) -> None:
    server, _ = arxiv_server
    docs = fetch(server, **JULY, max_results=12, page_size=5)
    want = expected_july(listings)[:12]
    assert [d.doc_id for d in docs] == [f"arXiv:{r['id']}v1" for r in want]
    first, row = docs[0], want[0]
    assert first.title == " ".join(str(row["title"]).split())
    assert first.authors == row["authors"] and first.categories == row["categories"]
    assert first.source == "arxiv" and first.date == dt.date.fromisoformat(str(row["listing_date"]))
    assert [b.kind for b in first.blocks] == ["abstract"] and first.blocks[0].section == ["Abstract"]
    assert first.blocks[0].text.startswith(str(row["abstract"])[:40])
    assert first.links["abs"] == f"https://arxiv.org/abs/{row['id']}v1"
    assert first.extra["supersedes"] is None and first.extra["version"] == 1
    pages = server.paths("/api/query")
    assert [p.split("start=")[1].split("&")[0] for p in pages] == ["0", "5", "10"]
    assert "cat%3Ahep-th+AND+submittedDate%3A%5B202607240000+TO+202607312359%5D" in pages[0]


def test_503_then_success_retries_and_completes(arxiv_server: tuple[LocalServer, ArxivApi]) -> None:
    server, _ = arxiv_server
    server.faults = [(503, {"Retry-After": "0"}), (429, {"Retry-After": "1"})]
    docs = fetch(server, **JULY, max_results=4, page_size=4)
    assert len(docs) == 4
    assert len(server.paths("/api/query")) == 3  # 503, 429, then the page


def test_interrupted_run_resumes_without_refetching_done_ids(
    arxiv_server: tuple[LocalServer, ArxivApi], listings: list[dict[str, object]], tmp_path: Path
) -> None:
    server, _ = arxiv_server
    server.fail_after = 2  # two pages, then the API goes down
    first: list[str] = []
    with pytest.raises(ArxivUnavailableError, match="no usable answer"):
        for doc in fetch_arxiv(
            **JULY, max_results=None, page_size=5, state_dir=tmp_path, delay_seconds=0.0, retry=FAST,
            api_url=f"{server.url}/api/query",
        ):  # fmt: skip
            first.append(doc.doc_id)
    assert len(first) == 10
    server.fail_after, server.requests = None, []
    second = [d.doc_id for d in fetch(server, **JULY, max_results=None, page_size=5, state_dir=tmp_path)]
    assert not set(first) & set(second)
    assert first + second == [f"arXiv:{r['id']}v1" for r in expected_july(listings)]
    assert "start=10" in server.paths("/api/query")[0]
    assert fetch(server, **JULY, max_results=None, page_size=5, state_dir=tmp_path) == []  # nothing new


def test_ids_run_skips_done_ids_and_new_version_supersedes_old(
    arxiv_server: tuple[LocalServer, ArxivApi], listings: list[dict[str, object]], tmp_path: Path
) -> None:
    server, api = arxiv_server
    ids = [str(r["id"]) for r in listings[:3]]
    assert [d.doc_id for d in fetch(server, ids=ids[:2], state_dir=tmp_path)] == [
        f"arXiv:{i}v1" for i in ids[:2]
    ]
    server.requests = []
    again = fetch(server, ids=ids, state_dir=tmp_path)  # same state dir, one more id
    assert [d.doc_id for d in again] == [f"arXiv:{ids[2]}v1"]
    assert f"id_list={ids[2]}&" in server.paths("/api/query")[0]  # done ids are not asked for again
    api.papers[ids[0]].version = 3  # the authors post v2 and v3
    newer = fetch(server, ids=[ids[0]], state_dir=tmp_path, resume=False)
    assert newer[0].doc_id == f"arXiv:{ids[0]}v3"
    assert newer[0].extra["supersedes"] == f"{ids[0]}v1,{ids[0]}v2"
    assert newer[0].links["abs"].endswith(f"{ids[0]}v3") and newer[0].extra["updated"] > str(newer[0].date)


def higgs_paper(api: ArxivApi, pdf: Path, title: str, authors: list[str]) -> ArxivPaper:
    base, _, version = pdf.stem.partition("v")
    published = dt.datetime(2000 + int(base[:2]), int(base[2:4]), 1, tzinfo=dt.UTC)
    paper = ArxivPaper(
        base, title, authors, f"Abstract of {title}.", ["hep-ex"], published, int(version), pdf
    )
    api.add(paper)
    return paper


def test_full_text_pdf_merges_the_real_pdf_and_is_not_downloaded_twice(
    arxiv_server: tuple[LocalServer, ArxivApi], tmp_path: Path
) -> None:
    server, api = arxiv_server
    pdf = require_corpus("pdfs", "higgs", "1804.02610v2.pdf")
    higgs_paper(api, pdf, "Observation of ttH production", ["CMS Collaboration"])
    docs = fetch(server, ids=["1804.02610"], full_text="pdf", state_dir=tmp_path)
    doc = docs[0]
    assert doc.doc_id == "arXiv:1804.02610v2" and doc.extra["supersedes"] == "1804.02610v1"
    assert doc.extra["full_text"] == "pdf" and doc.extra["pages"] == 29 and doc.collaboration == "CMS"
    assert doc.blocks[0].kind == "abstract" and doc.blocks[0].text.startswith("Abstract of Observation")
    parsed = next(parse_pdf(pdf))
    body = [b for b in parsed.blocks if not (b.section and b.section[0].lower().startswith("abstract"))]
    assert doc.blocks[1:] == body  # the PDF body, its abstract replaced by the API's
    assert sum(len(b.text) for b in body) > 15_000 and any(b.text.startswith("Table 1:") for b in body)
    assert doc.references == parsed.references and len(doc.references) > 30
    assert Path(doc.path or "") == tmp_path / "files" / "pdf" / "1804.02610v2.pdf"
    assert server.paths("/pdf/") == ["/pdf/1804.02610v2"]
    server.requests = []
    fetch(server, ids=["1804.02610"], full_text="pdf", state_dir=tmp_path, resume=False)
    assert server.paths("/pdf/") == []  # the interrupted/earlier download is reused


def test_missing_or_unready_pdf_keeps_the_abstract_and_says_why(
    arxiv_server: tuple[LocalServer, ArxivApi], listings: list[dict[str, object]], tmp_path: Path
) -> None:
    server, api = arxiv_server
    missing, unready = (str(r["id"]) for r in listings[:2])
    page = tmp_path / "generating.html"  # arXiv's "PDF being generated" page, answered with 200
    page.write_text("<html>Your PDF is being generated, retry shortly</html>")
    api.papers[unready].pdf = page
    docs = fetch(server, ids=[missing, unready], full_text="pdf", state_dir=tmp_path)
    assert "HTTP 404" in docs[0].extra["full_text"] and "is not a PDF" in docs[1].extra["full_text"]
    assert all(d.extra["full_text"].startswith("unavailable:") for d in docs)
    assert [[b.kind for b in d.blocks] for d in docs] == [["abstract"], ["abstract"]]
    assert not list((tmp_path / "files" / "pdf").glob(f"{unready}*"))  # not kept: asked again next run


def eprint_of(folder: Path) -> bytes:
    """An arXiv-style e-print: the source folder as a gzipped tarball."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    return data.getvalue()


@pytest.fixture()
def hsf_paper(arxiv_server: tuple[LocalServer, ArxivApi]) -> ArxivPaper:
    """arXiv:2404.02100v2 (HSF analysis facilities white paper): real PDF and real LaTeX source."""
    folder = require_corpus("latex", "hsf", "HSF-TN", "2024-01")
    paper = higgs_paper(
        arxiv_server[1], folder / "2404.02100v2.pdf", "Analysis Facilities White Paper", ["D. C."]
    )
    paper.source = eprint_of(folder / "latex")
    return paper


def test_full_text_source_hands_the_eprint_to_the_latex_parser(
    arxiv_server: tuple[LocalServer, ArxivApi], hsf_paper: ArxivPaper, tmp_path: Path
) -> None:
    pytest.importorskip("heprag.ingest.sources.latex", reason="the LaTeX parser is not installed yet")
    server, _ = arxiv_server
    doc = fetch(server, ids=["2404.02100"], full_text="source", state_dir=tmp_path)[0]
    assert doc.extra["full_text"] == "latex", doc.extra
    assert doc.doc_id == "arXiv:2404.02100v2" and doc.blocks[0].kind == "abstract"
    assert len(doc.blocks) > 20 and any(b.section for b in doc.blocks[1:])
    assert server.paths("/e-print/") == ["/e-print/2404.02100v2"] and server.paths("/pdf/") == []
    assert Path(doc.path or "").name.startswith("2404.02100v2")


def test_full_text_source_falls_back_to_pdf_without_a_latex_parser(
    arxiv_server: tuple[LocalServer, ArxivApi],
    hsf_paper: ArxivPaper,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "heprag.ingest.sources.latex", None)  # import now fails
    server, _ = arxiv_server
    doc = fetch(server, ids=["2404.02100"], full_text="source", state_dir=tmp_path)[0]
    assert doc.extra["full_text"] == "pdf" and "no LaTeX parser" in str(doc.extra["full_text_fallback"])
    assert server.paths("/pdf/") == ["/pdf/2404.02100v2"] and doc.extra["pages"] == 20


def test_dead_endpoint_raises_a_clear_error(tmp_path: Path) -> None:
    url = f"{dead_url()}/api/query"
    with pytest.raises(ArxivUnavailableError) as caught:
        list(fetch_arxiv("higgs", api_url=url, delay_seconds=0.0, retry=FAST, state_dir=tmp_path))
    message = str(caught.value)
    assert url in message and "3 tries" in message and "ConnectionError" in message


def test_query_building_and_argument_errors() -> None:
    assert build_query("ti:higgs", "hep-ex") == "(ti:higgs) AND cat:hep-ex"
    assert build_query(since=dt.date(2026, 7, 1)).startswith("submittedDate:[202607010000 TO ")
    with pytest.raises(ConfigError, match="needs a query"):
        list(fetch_arxiv())
    with pytest.raises(ConfigError, match="full_text"):
        list(fetch_arxiv("x", full_text=cast(Any, "html")))
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        build_query(since="last week")
