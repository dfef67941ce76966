"""Run comparison: which changes count as regressions, and reading a results file back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heprag.evals.reports import ReportError, compare, load_summary


def test_regressions_follow_each_metrics_direction() -> None:
    a = {"hybrid": {"ndcg@10": 0.70, "false_refusal": 0.10, "latency_total_s": 1.0, "latency_p50_ms": 20.0}}
    b = {"hybrid": {"ndcg@10": 0.69, "false_refusal": 0.20, "latency_total_s": 1.2, "latency_p50_ms": 24.0}}
    flagged = {c.metric for c in compare(a, b) if c.regression}
    assert flagged == {"ndcg@10", "false_refusal", "latency_total_s"}  # 4 ms is within timer noise
    assert not any(c.regression for c in compare(b, a))
    small = {"hybrid": {"ndcg@10": 0.697}}
    assert not compare(a, small)[0].regression  # within the 0.005 tolerance


def test_groups_or_metrics_on_one_side_only_are_listed_without_a_verdict() -> None:
    changes = compare({"bm25": {"ndcg@10": 0.6}}, {"dense": {"ndcg@10": 0.6}})
    assert [(c.group, c.delta, c.regression) for c in changes] == [
        ("bm25", None, False),
        ("dense", None, False),
    ]


def test_load_summary_reads_a_run_folder_and_names_a_bad_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps({"dataset": "d", "summary": {"bm25": {"ndcg@10": 0.5}}}))
    assert load_summary(run) == ("d", {"bm25": {"ndcg@10": 0.5}})
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ReportError, match=r"bad\.json"):
        load_summary(tmp_path / "bad.json")
