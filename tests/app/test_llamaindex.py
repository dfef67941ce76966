"""The llama-index retriever: heprag passages as NodeWithScore, inside a real RetrieverQueryEngine."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_index.core", reason="needs the `agent` extra (llama-index-core)")

from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import NodeWithScore, QueryBundle

from heprag.app.library import Library
from heprag.app.llamaindex_retriever import HepragRetriever
from heprag.index.filters import SearchFilters

TTH = "observation of ttH production"


def test_retriever_returns_heprag_passages_with_citation_metadata(library: Library) -> None:
    nodes = HepragRetriever(library, k=4).retrieve(TTH)
    hits = library.search(TTH, k=4)
    assert [n.node.node_id for n in nodes] == [h.chunk.chunk_id for h in hits]
    assert all(isinstance(n, NodeWithScore) for n in nodes)
    first = nodes[0]
    assert first.score == pytest.approx(hits[0].score)
    assert first.node.get_content() == hits[0].chunk.text
    meta = first.node.metadata
    assert meta["doc_id"] == hits[0].chunk.doc_id and meta["label"] == hits[0].chunk.label
    assert meta["page"] == hits[0].chunk.page_start
    assert meta["url"].startswith(f"https://arxiv.org/pdf/{meta['doc_id'].removeprefix('arXiv:')}#page=")
    # the LLM reads the citation label with the text, not the bookkeeping fields
    llm_view = first.node.get_content(metadata_mode="llm")
    assert meta["label"] in llm_view and meta["chunk_id"] not in llm_view


def test_filters_restrict_the_retrieved_documents(library: Library) -> None:
    only_atlas = HepragRetriever(library, k=5, filters=SearchFilters(collaborations=["ATLAS"]))
    nodes = only_atlas.retrieve("Higgs boson signal strength")
    assert nodes and {n.node.metadata["doc_id"] for n in nodes} == {"arXiv:2007.07830v2"}


def test_async_retrieve_matches_sync(library: Library) -> None:
    import anyio

    retriever = HepragRetriever(library, k=3)
    nodes = anyio.run(retriever.aretrieve, QueryBundle(TTH))
    assert [n.node.node_id for n in nodes] == [n.node.node_id for n in retriever.retrieve(TTH)]


def test_query_engine_answers_from_heprag_passages(library: Library) -> None:
    engine = RetrieverQueryEngine.from_args(
        HepragRetriever(library, k=3), llm=MockLLM(), response_mode="simple_summarize"
    )
    response = engine.query("What significance did ATLAS observe for the Higgs boson decay to two muons?")
    sources = response.source_nodes
    assert len(sources) == 3
    assert any(s.node.metadata["doc_id"] == "arXiv:2007.07830v2" for s in sources)
    # MockLLM echoes its prompt: the heprag passages reached the LLM with their citation labels
    prompt = str(response)
    assert sources[0].node.metadata["label"] in prompt
    assert sources[0].node.get_content()[:80] in prompt
