"""CI gate: a small, fast slice of the benchmarks with thresholds = figures measured on 2026-11-22 − a margin.

A change that makes retrieval or answers measurably worse fails here. When a change makes them better,
re-measure (`heprag eval retrieval --dataset scifact --queries 100 --corpus-size 1000`,
`heprag eval answers --dataset hep-qa`, `heprag eval answers --dataset ../shared/qa/hep_qa_dev.jsonl`)
and raise the figures below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from heprag.app.library import Library
from heprag.app.settings import load_settings
from heprag.evals.answer_eval import aggregate, evaluate_answers
from heprag.evals.datasets import bundled_qa_path, load_qa, load_scifact
from heprag.evals.judges import LexicalJudge
from heprag.evals.qa_run import run_qa
from heprag.evals.qa_scoring import split_items, summarise
from heprag.evals.retrieval_eval import evaluate_retrieval
from tests.conftest import require_corpus

pytestmark = [pytest.mark.slow, pytest.mark.corpus]

MARGIN = 0.02  # retrieval: 100 queries
QUESTIONS_MARGIN = 2  # answers: a metric may lose two questions' worth before the gate fails
# SciFact, first 100 judged training claims over their relevant abstracts + a seeded 1,000-doc sample.
SCIFACT_SLICE_NDCG10 = {"bm25": 0.7598, "dense": 0.8308, "hybrid": 0.8051}
# The bundled HEP QA set (27 answerable + 8 unanswerable), extractive backend, lexical judge (2026-12-02).
HEP_QA = {
    "correctness": 0.667,
    "faithfulness": 1.0,
    "citation_precision": 1.0,
    "citation_recall": 1.0,
    "number_grounding": 1.0,
    "refusal_accuracy": 0.875,
    "gold_doc_retrieved": 1.0,
    "gold_doc_cited": 0.852,
}
MAX_FALSE_REFUSAL = 0.0
# The shared dev set's report half, PDF + unanswerable questions (12 + 6), 8 Higgs PDFs, measured 2026-12-02.
DEV_REPORT = {"correct": 0.5, "gold_cited": 0.75, "answerable_refused": 0.083, "unanswerable_refused": 0.667}


def test_scifact_slice_retrieval_holds() -> None:
    require_corpus("scifact")
    data = load_scifact().slice(100, 1000)
    run = evaluate_retrieval(data, load_settings(), ["bm25", "dense", "hybrid"], show_progress=False)
    ndcg = {name: r.metrics["ndcg@10"] for name, r in run.results.items()}
    for name, floor in SCIFACT_SLICE_NDCG10.items():
        assert ndcg[name] >= floor - MARGIN, f"{name} nDCG@10 {ndcg[name]:.4f} fell below {floor} - {MARGIN}"
    # On this slice dense leads and plain RRF sits between the two (measured: hybrid 0.805, dense 0.831).
    assert ndcg["bm25"] <= ndcg["hybrid"] <= ndcg["dense"] + MARGIN, ndcg


@pytest.fixture(scope="module")
def higgs8(higgs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Library:
    """The 8 real Higgs PDFs, indexed once for both answer gates."""
    library = Library(load_settings(index_dir=tmp_path_factory.mktemp("higgs8") / "idx"))
    report = library.ingest([higgs_dir])
    assert len(report.added) == 8, report.failed
    return library


def test_hep_qa_answers_hold(higgs8: Library) -> None:
    """The bundled regression set (it calibrates nothing any more)."""
    judge = LexicalJudge(higgs8.embedder)
    results = evaluate_answers(higgs8, load_qa(bundled_qa_path()), judge, "extractive")
    summary = aggregate(results)
    for metric, floor in HEP_QA.items():
        got, n = summary[metric]["mean"], summary[metric]["n"]
        allowed = floor - QUESTIONS_MARGIN / n
        assert got >= allowed, f"{metric} {got:.3f} fell below {floor} - {QUESTIONS_MARGIN}/{n:.0f}"
    false_refusal = summary["false_refusal"]
    assert false_refusal["mean"] <= MAX_FALSE_REFUSAL + QUESTIONS_MARGIN / false_refusal["n"]


def test_dev_set_report_half_holds(higgs8: Library) -> None:
    """The shared dev set's report half (its PDF and unanswerable questions: what 8 PDFs can hold),
    scored with the shared rule; nothing was tuned on these questions."""
    dev = require_corpus("pdfs").parent.parent / "qa" / "hep_qa_dev.jsonl"
    if not dev.exists():
        pytest.skip(f"shared dev set not found at {dev}")
    report = [i for i in split_items(load_qa(dev))[1] if i.source_type in ("pdf", "none")]
    got = summarise(run_qa(higgs8, report))
    slack = QUESTIONS_MARGIN / sum(i.answerable for i in report)
    n_unanswerable = sum(not i.answerable for i in report)
    assert got["fragments"] == 0
    assert got["correct"] >= DEV_REPORT["correct"] - slack, got
    assert got["gold_cited"] >= DEV_REPORT["gold_cited"] - slack, got
    assert got["answerable_refused"] <= DEV_REPORT["answerable_refused"] + slack, got
    assert got["unanswerable_refused"] >= DEV_REPORT["unanswerable_refused"] - 1 / n_unanswerable, got
