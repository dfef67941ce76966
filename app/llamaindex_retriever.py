"""`HepragRetriever`: heprag's hybrid retrieval as a llama-index `BaseRetriever`.

    from llama_index.core.query_engine import RetrieverQueryEngine
    from heprag.app import Library
    from heprag.app.llamaindex_retriever import HepragRetriever

    retriever = HepragRetriever(Library.open("~/heprag-index"), k=5)
    engine = RetrieverQueryEngine.from_args(retriever, llm=my_llm)

Each node is a `TextNode` whose id is the heprag chunk id and whose metadata carries the citation
(label, doc_id, page, section, url), so answers built by llama-index can cite like heprag does.
Needs the `agent` extra (llama-index-core).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from heprag.app.answer import passage_fields
from heprag.app.library import Library
from heprag.index.filters import SearchFilters
from heprag.index.retrieval import Mode
from heprag.index.types import Hit

# Metadata the LLM does not need to read (it sees label, title-ish fields and the text).
_HIDDEN_FROM_LLM = ["chunk_id", "ordinal", "score", "similarity", "retrievers", "links", "url"]


class HepragRetriever(BaseRetriever):
    """Retrieves heprag passages as `NodeWithScore` (score = fused retrieval score)."""

    def __init__(
        self,
        library: Library,
        k: int = 8,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
        callback_manager: CallbackManager | None = None,
    ) -> None:
        super().__init__(callback_manager=callback_manager)
        self.library = library
        self.k = k
        self.filters = filters
        self.mode = mode

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.library.search(query_bundle.query_str, k=self.k, filters=self.filters, mode=self.mode)
        links = self.library.links(h.chunk.doc_id for h in hits)
        return [to_node(h, links.get(h.chunk.doc_id, {})) for h in hits]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await anyio.to_thread.run_sync(self._retrieve, query_bundle)


def to_node(hit: Hit, links: dict[str, str]) -> NodeWithScore:
    """A heprag `Hit` as a llama-index node with the citation in its metadata."""
    chunk = hit.chunk
    metadata: dict[str, Any] = {
        **passage_fields(chunk, links),
        "score": hit.score,
        "similarity": hit.dense_score,
        "retrievers": hit.retrievers,
    }
    node = TextNode(
        id_=chunk.chunk_id,
        text=chunk.text,
        metadata=metadata,
        excluded_llm_metadata_keys=_HIDDEN_FROM_LLM,
        excluded_embed_metadata_keys=list(metadata),
    )
    return NodeWithScore(node=node, score=hit.score)
