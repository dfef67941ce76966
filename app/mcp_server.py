"""The heprag MCP server: the indexed literature as agent tools, with the citations people get.

Tools: search_literature, get_passage, get_document, answer_question, index_info; documents are
resources at `heprag://doc/{doc_id}`. Bad arguments come back as tool errors (`is_error=True`
with a message that names the allowed keys and ranges); the server never goes down for them, and it
starts without an index too (each tool then says how to build one). Blocking index
work runs in worker threads (at most `mcp.max_concurrent` at once) so one server serves many
clients. Run it with `heprag mcp` (stdio) or `heprag mcp --http` (see `heprag.app.mcp_http`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio
import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import ToolAnnotations
from pydantic import Field, ValidationError

from heprag.app.generators import Audience
from heprag.app.library import Library
from heprag.app.mcp_models import (
    CitedAnswer,
    DocumentInfo,
    IndexInfo,
    PassageWithContext,
    SearchResult,
    cited_answer,
    document_info,
    make_index_info,
    passage_text,
    search_passage,
)
from heprag.app.mcp_validation import argument_errors, echo
from heprag.index.errors import HepragError
from heprag.index.filters import SearchFilters

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_K = 50
MAX_CONTEXT = 10
MAX_ID = 500
DOC_URI = "heprag://doc/{+doc_id}"
INSTRUCTIONS = (
    "Search and cite high-energy-physics papers and experiment logbooks. Start with search_literature; "
    "quote passages by their `label` and link their `url`; widen a passage with get_passage; "
    "answer_question returns a cited answer (or a refusal with the closest passages)."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Query = Annotated[str, Field(min_length=1, max_length=2000, description="What to look for, in words")]
Filters = Annotated[
    SearchFilters | None,
    Field(
        description="Optional restriction: year_min, year_max, categories, collaborations, source_types, "
        "doc_ids; unknown keys are an error"
    ),
]


ChunkId = Annotated[
    str, Field(min_length=1, max_length=MAX_ID, description="A chunk_id from search_literature")
]
DocId = Annotated[
    str, Field(min_length=1, max_length=MAX_ID, description="Document id, e.g. 'arXiv:2007.07830v2'")
]


class _Server(MCPServer):
    """An MCPServer whose argument errors name the allowed keys and ranges, without echoing the input."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError):
                raise
            tool = next((t for t in await self.list_tools() if t.name == name), None)
            schema = tool.input_schema if tool else {}
            raise ToolError(argument_errors(name, exc.__cause__, schema)) from exc.__cause__


def build_server(library: Library, max_concurrent: int | None = None) -> MCPServer:
    """An MCP server over one `Library` (opened and warmed up here, so the first call is fast).

    A missing or unusable index does not stop the server: every tool answers with the reason and the fix,
    and the index is picked up as soon as `heprag ingest` has built it."""
    try:
        library.index  # noqa: B018 - open the live index now, so the first call is fast
    except HepragError as exc:
        log.warning("%s; the tools will say so until it is fixed", exc)
    library.embedder.embed_query("warm up")  # load the model before the first call
    limiter = anyio.CapacityLimiter(max_concurrent or library.settings.mcp.max_concurrent)
    server: MCPServer = _Server("heprag", instructions=INSTRUCTIONS, version=_version())

    async def blocking(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        try:
            return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=limiter)
        except HepragError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=READ_ONLY)
    async def search_literature(
        query: Query,
        k: Annotated[int, Field(ge=1, le=MAX_K, description=f"Number of passages, 1 to {MAX_K}")] = 8,
        filters: Filters = None,
        mode: Annotated[
            Literal["hybrid", "dense", "bm25"],
            Field(description="hybrid (dense + BM25 fused; best), dense (meaning) or bm25 (exact words)"),
        ] = "hybrid",
    ) -> SearchResult:
        """Find the passages of the indexed literature that best match a query.

        Each passage carries its chunk_id (for get_passage), doc_id (for get_document), a citation label,
        page and section, a snippet and links (the URL opens the PDF at the page).
        """
        _require_text(query, "query")

        def run() -> SearchResult:
            hits = library.search(query, k=k, filters=filters, mode=mode)
            links = library.links(h.chunk.doc_id for h in hits)
            return SearchResult(
                query=query, mode=mode, passages=[search_passage(h, links[h.chunk.doc_id]) for h in hits]
            )

        return await blocking(run)

    @server.tool(annotations=READ_ONLY)
    async def get_passage(
        chunk_id: ChunkId,
        context: Annotated[
            int,
            Field(
                ge=0, le=MAX_CONTEXT, description=f"Neighbouring passages on each side, 0 to {MAX_CONTEXT}"
            ),
        ] = 1,
    ) -> PassageWithContext:
        """The full text of one passage with up to `context` neighbouring passages before and after it."""

        def run() -> PassageWithContext:
            meta = library.index.meta
            found = meta.chunk_by_chunk_id(chunk_id)
            if found is None:
                raise ToolError(
                    f"unknown chunk_id {echo(chunk_id)}: use a chunk_id returned by search_literature "
                    "(ids change when a document is re-ingested)"
                )
            chunk = found[1]
            links = library.links([chunk.doc_id])[chunk.doc_id]
            around = meta.chunks_of(chunk.doc_id, max(0, chunk.ordinal - context), chunk.ordinal + context)
            return PassageWithContext(
                passage=passage_text(chunk, links),
                before=[passage_text(c, links) for c in around if c.ordinal < chunk.ordinal],
                after=[passage_text(c, links) for c in around if c.ordinal > chunk.ordinal],
            )

        return await blocking(run)

    def _document(doc_id: str) -> DocumentInfo | None:
        doc = library.document(doc_id)
        if doc is None:
            return None
        return document_info(doc, library.index.meta.chunks_of(doc_id))

    @server.tool(annotations=READ_ONLY)
    async def get_document(doc_id: DocId) -> DocumentInfo:
        """Metadata of one document: title, authors, date, collaboration, sections, links and BibTeX."""
        info = await blocking(_document, doc_id)
        if info is None:
            raise ToolError(f"unknown doc_id {echo(doc_id)}: use a doc_id returned by search_literature")
        return info

    @server.tool(annotations=READ_ONLY)
    async def answer_question(
        question: Query,
        filters: Filters = None,
        backend: Annotated[
            Literal["extractive", "openai", "llamacpp"] | None,
            Field(description="Answer generator; default: the server's configured backend"),
        ] = None,
        audience: Annotated[
            Audience,
            Field(description="'newcomer' explains acronyms and jargon on first use, still cited"),
        ] = "researcher",
        include_passages: Annotated[
            bool, Field(description="Also return the full text of the passages the answer drew on")
        ] = False,
    ) -> CitedAnswer:
        """A cited answer: text with [n] markers, each citation with label, page, a short quote and link.

        When the literature does not support an answer, `refused` is true and the citations are the
        closest passages. An LLM backend that fails is replaced by the offline extractive one (`note` says
        so). Widen a citation with get_passage, or pass include_passages=true.
        """
        _require_text(question, "question")

        def run() -> CitedAnswer:
            answer, note = library.ask_or_fallback(question, filters, backend, audience)
            return cited_answer(
                answer, note, library.links(h.chunk.doc_id for h in answer.hits), include_passages
            )

        return await blocking(run)

    @server.tool(annotations=READ_ONLY)
    async def index_info() -> IndexInfo:
        """What is indexed: document and passage counts by source and collaboration, year range, model."""

        def run() -> IndexInfo:
            return make_index_info(library.info(), library.index.meta.facet_counts("source"))

        return await blocking(run)

    @server.resource(DOC_URI, name="document", mime_type="application/json")
    async def document_resource(doc_id: str) -> str:
        """A document's metadata, sections, links and BibTeX as JSON."""
        try:
            info = await anyio.to_thread.run_sync(_document, doc_id, limiter=limiter)
        except HepragError as exc:
            raise ResourceError(str(exc)) from exc
        if info is None:
            raise ResourceError(f"unknown doc_id {echo(doc_id)}: list documents with search_literature")
        return info.model_dump_json(indent=2)

    return server


def _require_text(value: str, name: str) -> None:
    if not value.strip():
        raise ToolError(f"`{name}` is empty: pass a question or keywords")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("heprag")
    except PackageNotFoundError:
        return "0"


def serve_stdio(library: Library) -> None:
    """Serve MCP over stdin/stdout until the client closes the pipe."""
    anyio.run(build_server(library).run_stdio_async)
