"""Eval reports: a timestamped folder with `report.md`, `results.json` and PNG plots; run comparison.

`results.json` has one shape for every run kind, so `heprag eval compare` reads any two of them:
`{"kind", "dataset", "created", "summary": {group: {metric: value}}, "details": ...}` where a group is a
retriever (retrieval runs) or a backend (answer runs).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from heprag.evals.answer_eval import QAResult
from heprag.evals.retrieval_eval import RetrievalRun
from heprag.index.errors import HepragError

log = logging.getLogger(__name__)

Summary = dict[str, dict[str, float]]
LOWER_IS_BETTER = ("latency", "false_refusal")


class ReportError(HepragError):
    """A run folder or results file cannot be read."""


def new_run_dir(base: Path, kind: str) -> Path:
    """`<base>/<YYYYmmdd-HHMMSS>-<kind>` (a suffix keeps two runs in the same second apart)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = base / f"{stamp}-{kind}"
    n = 1
    while folder.exists():
        n += 1
        folder = base / f"{stamp}-{kind}-{n}"
    folder.mkdir(parents=True)
    return folder


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _cell(text: str, width: int = 90) -> str:
    return text[:width].replace("|", "/").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _write(folder: Path, data: dict[str, Any], markdown: str) -> Path:
    (folder / "results.json").write_text(json.dumps(data, indent=2, default=str))
    (folder / "report.md").write_text(markdown)
    return folder


def _bars(
    path: Path, summary: Summary, metrics: Sequence[str], title: str, marks: Summary | None = None
) -> bool:
    """Grouped bars: one group per metric, one bar per retriever/backend; optional baseline marks."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no plots (pip install 'heprag[app]')")
        return False
    groups = list(summary)
    width = 0.8 / max(len(groups), 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(metrics)), 4))
    for g, name in enumerate(groups):
        xs = [m + g * width for m in range(len(metrics))]
        ax.bar(xs, [summary[name].get(m, 0.0) for m in metrics], width, label=name)
        for x, metric in zip(xs, metrics, strict=True):
            value = (marks or {}).get(name, {}).get(metric)
            if value is not None:
                ax.hlines(value, x - width / 2, x + width / 2, colors="black", linestyles="dashed")
    ax.set_xticks([m + width * (len(groups) - 1) / 2 for m in range(len(metrics))], metrics, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _histogram(path: Path, series: Mapping[str, Sequence[float]], xlabel: str, title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in series.items():
        if values:
            ax.hist(values, bins=30, alpha=0.6, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("queries")
    ax.set_title(title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def retrieval_summary(run: RetrievalRun) -> Summary:
    summary: Summary = {}
    for name, r in run.results.items():
        ms = sorted(r.latency_ms)
        summary[name] = {**r.metrics, "latency_p50_ms": ms[len(ms) // 2] if ms else 0.0}
    return summary


def write_retrieval_report(run: RetrievalRun, folder: Path) -> Path:
    """report.md, results.json, metrics.png and latency.png of a retrieval run."""
    summary = retrieval_summary(run)
    metrics = [m for m in ("ndcg@10", "mrr@10", "recall@1", "recall@5", "recall@10", "recall@100")]
    header = ["retriever", *metrics, "p50 ms", "published nDCG@10"]
    rows = []
    for name, r in run.results.items():
        published = f"{r.baseline.ndcg_at_10:.3f} ({r.baseline.source})" if r.baseline else "–"
        rows.append(
            [
                name,
                *(_fmt(r.metrics.get(m)) for m in metrics),
                f"{summary[name]['latency_p50_ms']:.0f}",
                published,
            ]
        )
    marks = {n: {"ndcg@10": r.baseline.ndcg_at_10} for n, r in run.results.items() if r.baseline}
    plots = []
    if _bars(folder / "metrics.png", summary, metrics, f"{run.dataset}: retrieval", marks):
        plots.append("![metrics per retriever](metrics.png)")
    latency = {n: r.latency_ms for n, r in run.results.items()}
    if _histogram(folder / "latency.png", latency, "ms per query", "search latency"):
        plots.append("![latency histogram](latency.png)")
    notes = "".join(f"- {n}\n" for n in run.notes)
    markdown = (
        f"# Retrieval eval: {run.dataset}\n\n{run.queries} judged queries over {run.corpus_docs} documents "
        f"(index `{run.index_dir}`).\n\n{_table(header, rows)}\n\n"
        "Dashed marks on the plot: published nDCG@10 (BEIR paper / sentence-transformers), measured on "
        "the dataset's test split.\n\n" + (f"Notes:\n{notes}\n" if notes else "") + "\n".join(plots) + "\n"
    )
    data = {
        "kind": "retrieval",
        "dataset": run.dataset,
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "summary": summary,
        "details": {
            "queries": run.queries,
            "corpus_docs": run.corpus_docs,
            "index_dir": run.index_dir,
            "notes": run.notes,
            "baselines": {n: asdict(r.baseline) for n, r in run.results.items() if r.baseline},
            "per_query": {n: r.per_query for n, r in run.results.items()},
        },
    }
    return _write(folder, data, markdown)


def write_answer_report(
    results: Sequence[QAResult],
    summary: dict[str, dict[str, float]],
    folder: Path,
    dataset: str,
    backend: str,
) -> Path:
    """report.md, results.json, metrics.png and latency.png of an answer run."""
    means = {k: v["mean"] for k, v in summary.items()}
    rows = [[k, _fmt(v["mean"]), str(int(v["n"]))] for k, v in summary.items() if not k.startswith("latency")]
    lat = [
        [k.removeprefix("latency_").removesuffix("_s"), _fmt(v["mean"]), _fmt(v["p50"]), _fmt(v["p95"])]
        for k, v in summary.items()
        if k.startswith("latency")
    ]
    shown = ("correctness", "faithfulness", "citation_precision", "citation_recall", "number_grounding")
    per_q = [
        [r.id, r.kind, "yes" if r.refused else "no", *(_fmt(r.scores.get(m)) for m in shown), _cell(r.answer)]
        for r in results
    ]
    plots = []
    quality = {k: v for k, v in means.items() if not k.startswith("latency")}
    if _bars(folder / "metrics.png", {backend: quality}, list(quality), f"{dataset}: answers ({backend})"):
        plots.append("![answer metrics](metrics.png)")
    totals = {backend: [r.timings["total"] for r in results if "total" in r.timings]}
    if _histogram(folder / "latency.png", totals, "seconds per question", "ask latency"):
        plots.append("![latency histogram](latency.png)")
    header = ["id", "kind", "refused", "correct", "faithful", "cite P", "cite R", "numbers", "answer"]
    markdown = (
        f"# Answer eval: {dataset} ({backend})\n\n{len(results)} questions.\n\n"
        f"{_table(['metric', 'mean', 'n'], rows)}\n\nLatency (seconds):\n\n"
        f"{_table(['stage', 'mean', 'p50', 'p95'], lat)}\n\n" + "\n".join(plots) + "\n\n## Per question\n\n"
        f"{_table(header, per_q)}\n"
    )
    data = {
        "kind": "answers",
        "dataset": dataset,
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "summary": {backend: means},
        "details": {"aggregate": summary, "questions": [asdict(r) for r in results]},
    }
    return _write(folder, data, markdown)


def load_summary(path: Path) -> tuple[str, Summary]:
    """(dataset, summary) from a run folder or its results.json."""
    file = path / "results.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text())
        return str(data.get("dataset", "")), {g: dict(m) for g, m in data["summary"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ReportError(f"{file} is not a heprag eval results file ({exc}); pass a run folder") from exc


@dataclass
class Change:
    group: str
    metric: str
    a: float | None
    b: float | None
    delta: float | None
    regression: bool


def compare(a: Summary, b: Summary, tolerance: float = 0.005) -> list[Change]:
    """Metric by metric, B against A; a regression is a drop (a rise for latency) beyond `tolerance`.

    Latency may grow by 10 % (at least 5 ms / 0.05 s) before it counts, since timings are noisy.
    """
    changes = []
    for group in dict.fromkeys([*a, *b]):
        ma, mb = a.get(group, {}), b.get(group, {})
        for metric in dict.fromkeys([*ma, *mb]):
            va, vb = ma.get(metric), mb.get(metric)
            delta = None if va is None or vb is None else vb - va
            worse = False
            if delta is not None and va is not None:
                if metric.startswith("latency"):
                    floor = 5.0 if metric.endswith("_ms") else 0.05  # timer noise: 5 ms / 0.05 s
                    worse = delta > max(0.1 * abs(va), floor)
                elif metric.startswith(LOWER_IS_BETTER):
                    worse = delta > tolerance
                else:
                    worse = delta < -tolerance
            changes.append(Change(group, metric, va, vb, delta, worse))
    return changes
