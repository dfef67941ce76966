"""Ranking metrics: hand-computed cases and agreement with pytrec_eval (the TREC reference) on random runs."""

from __future__ import annotations

import math
import random

import pytest

from heprag.evals.metrics import evaluate_run, mrr_at_k, ndcg_at_k, per_query, recall_at_k


def test_ndcg_by_hand() -> None:
    # relevant b (1) at rank 2 and c (2) at rank 3; ideal order c, b
    dcg = 1 / math.log2(3) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(["a", "b", "c"], {"b": 1, "c": 2}, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["c", "b"], {"b": 1, "c": 2}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["a", "b", "c"], {"c": 1}, 2) == 0.0


def test_mrr_and_recall_by_hand() -> None:
    assert mrr_at_k(["x", "y", "z"], {"z": 1}, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "z"], {"z": 1}, 2) == 0.0
    assert recall_at_k(["a", "b", "c", "d"], {"a": 1, "d": 1, "q": 1}, 1) == pytest.approx(1 / 3)
    assert recall_at_k(["a", "b", "c", "d"], {"a": 1, "d": 1, "q": 1}, 4) == pytest.approx(2 / 3)


def test_duplicate_ids_count_once_and_unjudged_queries_are_skipped() -> None:
    assert recall_at_k(["a", "a", "b"], {"b": 1}, 2) == 1.0
    scores = per_query({"q1": ["a"], "q2": ["b"]}, {"q1": {"a": 1}, "q2": {"b": 0}})
    assert set(scores) == {"q1"}


def test_missing_query_in_run_scores_zero() -> None:
    means = evaluate_run({"q1": ["a"]}, {"q1": {"a": 1}, "q2": {"b": 1}})
    assert means["ndcg@10"] == pytest.approx(0.5)
    assert means["recall@100"] == pytest.approx(0.5)


def test_agrees_with_pytrec_eval_on_random_runs() -> None:
    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = random.Random(7)
    docs = [f"d{i}" for i in range(60)]
    qrels = {
        f"q{i}": {d: rng.choice([1, 1, 2]) for d in rng.sample(docs, rng.randint(1, 4))} for i in range(40)
    }
    run = {q: rng.sample(docs, 50) for q in qrels}
    ours = per_query(run, qrels)
    trec_run = {q: {d: float(len(r) - i) for i, d in enumerate(r)} for q, r in run.items()}
    measures = {"ndcg_cut.10", "recall.1", "recall.5", "recall.10", "recall.100"}
    theirs = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(trec_run)
    for q in qrels:
        assert ours[q]["ndcg@10"] == pytest.approx(theirs[q]["ndcg_cut_10"], abs=1e-9)
        for k in (1, 5, 10, 100):
            assert ours[q][f"recall@{k}"] == pytest.approx(theirs[q][f"recall_{k}"], abs=1e-9)
