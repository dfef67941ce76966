"""Ranking metrics with the TREC conventions (as pytrec_eval / BEIR compute them).

nDCG@k uses linear gain `rel / log2(rank + 1)` against the ideal ordering of the judged documents;
MRR@k is the reciprocal rank of the first relevant document within the top k; Recall@k is the share
of relevant documents found in the top k. Only queries with at least one relevant document count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]  # query id -> doc ids, best first


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    gains = [max(relevant.get(d, 0), 0) for d in _dedupe(ranked)[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((r for r in relevant.values() if r > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def mrr_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    for i, d in enumerate(_dedupe(ranked)[:k], start=1):
        if relevant.get(d, 0) > 0:
            return 1.0 / i
    return 0.0


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    wanted = {d for d, r in relevant.items() if r > 0}
    if not wanted:
        return 0.0
    return len(wanted & set(_dedupe(ranked)[:k])) / len(wanted)


def _dedupe(ranked: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ranked))


def per_query(
    run: Run, qrels: Qrels, recall_ks: Sequence[int] = (1, 5, 10, 100)
) -> dict[str, dict[str, float]]:
    """Every metric for every judged query (a query missing from the run scores 0)."""
    out: dict[str, dict[str, float]] = {}
    for qid, relevant in qrels.items():
        if not any(r > 0 for r in relevant.values()):
            continue
        ranked = run.get(qid, [])
        scores = {"ndcg@10": ndcg_at_k(ranked, relevant, 10), "mrr@10": mrr_at_k(ranked, relevant, 10)}
        scores.update({f"recall@{k}": recall_at_k(ranked, relevant, k) for k in recall_ks})
        out[qid] = scores
    return out


def mean_metrics(scores: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The mean of each metric over queries."""
    if not scores:
        return {}
    names = next(iter(scores.values())).keys()
    return {name: sum(s[name] for s in scores.values()) / len(scores) for name in names}


def evaluate_run(run: Run, qrels: Qrels, recall_ks: Sequence[int] = (1, 5, 10, 100)) -> dict[str, float]:
    """Mean nDCG@10, MRR@10 and Recall@k over the judged queries."""
    return mean_metrics(per_query(run, qrels, recall_ks))
