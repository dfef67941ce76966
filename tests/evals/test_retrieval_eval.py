"""Retrieval eval end to end: a BEIR folder written by the test, indexed once, scored per retriever."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heprag.app.cli import app
from heprag.app.settings import load_settings
from heprag.evals.datasets import load_beir
from heprag.evals.retrieval_eval import beir_documents, evaluate_retrieval, rank_documents, variant
from heprag.index.errors import ConfigError
from heprag.index.rerank import CrossEncoderReranker
from heprag.index.retrieval import HybridRetriever
from heprag.index.types import Chunk, Hit
from tests.evals.test_datasets import write_beir
from tests.index.test_retrieval import seeded_cross_encoder

CORPUS = {
    "muon": (
        "Dimuon decay of the Higgs boson",
        "A search for the Higgs boson decaying to a muon pair finds 2.0σ.",
    ),
    "bb": (
        "Higgs to bottom quarks",
        "Observation of Higgs boson decays to b quark pairs in associated production.",
    ),
    "tth": ("Top quark Yukawa coupling", "Higgs boson production with a top quark pair is observed by CMS."),
    "calo": (
        "Calorimeter test beam",
        "Electromagnetic calorimeter modules were calibrated with electron beams.",
    ),
    "trig": ("Trigger system upgrade", "The level-1 trigger upgrade reduces the event rate at high pileup."),
    "neut": ("Neutrino oscillations", "Long-baseline experiments measure the neutrino mixing angle theta13."),
    "dm": ("Dark matter direct detection", "A xenon time projection chamber sets limits on WIMP scattering."),
    "grid": (
        "Grid computing for LHC",
        "Distributed computing sites process the petabytes of LHC collision data.",
    ),
}  # fmt: skip
QUERIES = {
    "q1": "Higgs boson decay into two muons",
    "q2": "Higgs decays to bottom quark pairs",
    "q3": "calibrating calorimeters with electron beams",
    "q4": "limits on WIMP dark matter from xenon detectors",
    "q5": "a query about nothing in particular",
}
QRELS = [("q1", "muon", 1), ("q2", "bb", 1), ("q3", "calo", 1), ("q4", "dm", 1), ("q5", "grid", 0)]


@pytest.fixture()
def beir_folder(tmp_path: Path) -> Path:
    return write_beir(tmp_path / "hep-mini", CORPUS, QUERIES, QRELS)


def test_documents_carry_the_beir_id_and_title(beir_folder: Path) -> None:
    docs = {d.doc_id: d for d in beir_documents(load_beir(beir_folder))}
    assert set(docs) == set(CORPUS)
    assert docs["muon"].blocks[0].kind == "abstract"
    assert docs["muon"].blocks[0].text.startswith("Dimuon decay of the Higgs boson\nA search")


def test_document_rank_is_the_rank_of_its_best_chunk() -> None:
    def h(doc: str, n: int) -> Hit:
        return Hit(chunk=Chunk(chunk_id=f"{doc}#{n}", doc_id=doc, ordinal=n, text="t"), score=1.0, rank=1)

    hits = [h("a", 1), h("b", 0), h("a", 0), h("c", 2)]
    assert rank_documents(hits, 100) == ["a", "b", "c"]
    assert rank_documents(hits, 2) == ["a", "b"]


def test_eval_retrieval_command_scores_each_retriever_and_reuses_the_index(
    beir_folder: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    args = ["-q", "eval", "retrieval", "--dataset", str(beir_folder), "--out", str(tmp_path / "runs")]
    result = runner.invoke(app, [*args, "--retrievers", "bm25,dense,hybrid,rerank"])
    assert result.exit_code == 0, result.output
    assert "rerank skipped" in result.output and "hybrid nDCG@10 vs best single retriever" in result.output
    (run,) = (tmp_path / "runs").iterdir()
    data = json.loads((run / "results.json").read_text())
    assert set(data["summary"]) == {"bm25", "dense", "hybrid"}
    assert data["details"]["queries"] == 4 and data["details"]["corpus_docs"] == len(CORPUS)
    for name, metrics in data["summary"].items():
        assert metrics["ndcg@10"] >= 0.75, (name, metrics)
        assert metrics["recall@100"] == 1.0
    assert {"report.md", "metrics.png", "latency.png"} <= {p.name for p in run.iterdir()}
    assert "| bm25 |" in (run / "report.md").read_text()
    again = evaluate_retrieval(load_beir(beir_folder), load_settings(), ["bm25"], show_progress=False)
    assert again.index_dir == data["details"]["index_dir"]
    assert not any("indexed" in note for note in again.notes)  # nothing re-embedded


def test_mmr_and_rerank_are_the_product_retriever_with_diversity_or_a_cross_encoder(
    beir_folder: Path, tmp_path: Path
) -> None:
    settings = load_settings()
    settings.retrieval.rerank_model = str(seeded_cross_encoder(tmp_path / "ce"))
    settings.retrieval.mmr_lambda = 1.0  # MMR at lambda 1 is the relevance order: the hybrid run exactly
    names = ["hybrid", "mmr", "rerank"]
    run = evaluate_retrieval(load_beir(beir_folder), settings, names, show_progress=False)
    assert list(run.results) == names and not any("skipped" in note for note in run.notes)
    assert run.results["mmr"].per_query == run.results["hybrid"].per_query
    assert run.results["rerank"].metrics["recall@100"] == 1.0  # reranking reorders, never drops
    base = HybridRetriever(None, None, per_doc_cap=None)
    reranker = CrossEncoderReranker(settings.retrieval.rerank_model)
    mmr, rerank = variant(base, "mmr", reranker), variant(base, "rerank", reranker)
    assert (mmr.diversity, mmr.reranker, rerank.diversity, rerank.reranker) == ("mmr", None, "cap", reranker)
    settings.retrieval.rerank_model = str(tmp_path / "missing")
    with pytest.raises(ConfigError, match=r"retrieval\.rerank_model"):
        evaluate_retrieval(load_beir(beir_folder), settings, ["rerank"], show_progress=False)


def test_unknown_retriever_is_named() -> None:
    with pytest.raises(ConfigError, match="colbert"):
        evaluate_retrieval(load_beir_stub(), load_settings(), ["colbert"])


def load_beir_stub():  # type: ignore[no-untyped-def]
    from heprag.evals.datasets import RetrievalDataset

    return RetrievalDataset("stub", {"d": ("", "x")}, {"q": "x"}, {"q": {"d": 1}})


@pytest.mark.corpus
def test_qa_set_retrieval_over_an_existing_index(small_index: Path, tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        json.dumps({"id": "mumu", "question": "Higgs boson decay to two muons significance with ATLAS",
                    "answer": "2.0σ", "doc": "arXiv:2007.07830v2"}) + "\n"
    )  # fmt: skip
    args = ["--index", str(small_index), "-q", "eval", "retrieval", "--dataset", str(qa), "--json"]
    result = CliRunner().invoke(app, [*args, "--retrievers", "bm25,hybrid", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])["summary"]
    assert summary["bm25"]["recall@10"] == 1.0 and summary["hybrid"]["mrr@10"] > 0
