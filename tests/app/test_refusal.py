"""Refusal: nothing close in the index, or passages not stating what is asked (real three-paper index)."""

from __future__ import annotations

from heprag.app.answer import REFUSAL_PHRASE
from heprag.app.library import Library
from heprag.app.refusal import weak_retrieval

MUON = "What significance did ATLAS observe for the Higgs boson decay to two muons?"


def test_weak_retrieval_names_its_reason(library: Library) -> None:
    hits = library.search(MUON)
    assert weak_retrieval(MUON, hits, threshold=0.435) is None
    assert weak_retrieval(MUON, hits, threshold=0.99).startswith("low-similarity:")
    assert weak_retrieval(MUON, [], threshold=0.0) == "no-hits"


def test_a_name_no_passage_contains_is_refused(library: Library) -> None:
    answer = library.ask("What did JUNO measure for the Higgs boson decay to two muons?")
    assert answer.refused
    assert answer.sentences[0].flags == ["refusal:unknown-name:JUNO"]


def test_another_experiments_result_is_refused_not_passed_off(library: Library) -> None:
    """The index has CMS's H→bb and ttH papers and ATLAS's H→μμ: CMS's H→μμ is not among them."""
    answer = library.ask("What signal strength did CMS measure for the Higgs boson decay to two muons?")
    assert answer.refused, answer.answer
    assert answer.sentences[0].flags[0].startswith("refusal:other-")


def test_another_decay_is_refused_not_passed_off(library: Library) -> None:
    answer = library.ask("What significance did ATLAS observe for the Higgs boson decay to two photons?")
    assert answer.refused, answer.answer


def test_an_unanswerable_question_is_refused_with_the_closest_passages_and_no_generation(
    library: Library,
) -> None:
    answer = library.ask("What branching fraction of Bs → μ+μ− did LHCb measure?")
    assert answer.refused and REFUSAL_PHRASE in answer.answer
    assert answer.sentences[0].flags == ["refusal:unknown-name:LHCb"]
    assert len(answer.citations) == 3 and "generate" not in answer.timings
    assert [c.chunk_id for c in answer.citations] == [h.chunk.chunk_id for h in answer.hits[:3]]
