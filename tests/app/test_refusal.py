"""Refusal before generation: unknown terms and weak similarity, on the real three-paper index."""

from __future__ import annotations

from heprag.app.answer import REFUSAL_PHRASE
from heprag.app.library import Library
from heprag.app.refusal import unknown_terms, weak_retrieval
from heprag.index.keyword import tokenize

MUON = "What significance did ATLAS observe for the Higgs boson decay to two muons?"


def test_a_term_found_in_no_indexed_chunk_is_unknown(library: Library) -> None:
    keywords = library.index.keywords
    assert keywords.document_frequency(tokenize("muon")[0]) > 5
    assert keywords.document_frequency("juno") == 0
    assert unknown_terms("How well can JUNO determine the neutrino mass ordering?", keywords) == ["juno"]
    assert unknown_terms(MUON, keywords) == []
    assert unknown_terms("Which H→bb signal strength was measured?", keywords) == []  # symbols are not words


def test_weak_retrieval_names_its_reason(library: Library) -> None:
    hits = library.search(MUON)
    keywords = library.index.keywords
    assert weak_retrieval(MUON, hits, keywords, threshold=0.435) is None
    assert weak_retrieval(MUON, hits, keywords, threshold=0.99).startswith("low-similarity:")
    assert weak_retrieval(MUON, [], keywords, threshold=0.0) == "no-hits"
    juno = "What did JUNO measure for the Higgs boson decay to two muons?"
    assert weak_retrieval(juno, library.search(juno), keywords, 0.0) == "unknown-terms:juno"
    assert weak_retrieval(juno, library.search(juno), keywords, 0.0, check_terms=False) is None


def test_an_unanswerable_question_is_refused_with_the_closest_passages_and_no_generation(
    library: Library,
) -> None:
    answer = library.ask("What branching fraction of Bs → μ+μ− did LHCb measure?")
    assert answer.refused and REFUSAL_PHRASE in answer.answer
    assert answer.sentences[0].flags == ["refusal:unknown-terms:lhcb"]
    assert len(answer.citations) == 3 and "generate" not in answer.timings
    assert [c.chunk_id for c in answer.citations] == [h.chunk.chunk_id for h in answer.hits[:3]]
