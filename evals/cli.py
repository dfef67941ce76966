"""`heprag eval`: retrieval, answers, compare and judge-calibration commands."""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from heprag.index.errors import ConfigError

if TYPE_CHECKING:
    from heprag.app.library import Library
    from heprag.evals.datasets import QAItem
    from heprag.evals.judges import Judge

eval_app = typer.Typer(help="Measure retrieval and answers; compare runs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


def _out_dir(out: Path | None) -> Path:
    from heprag.app.cli import state

    return out or state.settings.eval.reports_dir


@eval_app.command("retrieval")
def retrieval(
    dataset: Annotated[str, typer.Option(help="scifact, hep-qa, a BEIR folder or a QA .jsonl")] = "scifact",
    retrievers: Annotated[str, typer.Option(help="Comma-separated: bm25,dense,hybrid,mmr,rerank")] = (
        "bm25,dense,hybrid"
    ),
    split: Annotated[str, typer.Option(help="qrels split of a BEIR folder")] = "test",
    queries: Annotated[int, typer.Option(help="Only the first N judged queries (0 = all)", min=0)] = 0,
    corpus_size: Annotated[
        int, typer.Option(help="With --queries: relevant docs + seeded distractors up to this size", min=0)
    ] = 0,
    chunk_tokens: Annotated[
        int | None, typer.Option(help="Chunk records to this many tokens (default: one chunk per record)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Reports folder (default eval.reports_dir)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """nDCG@10, MRR@10, Recall@{1,5,10,100} per retriever, beside published baselines."""
    from heprag.app.cli import console, state
    from heprag.evals.datasets import resolve_retrieval_dataset
    from heprag.evals.reports import new_run_dir, retrieval_summary, write_retrieval_report
    from heprag.evals.retrieval_eval import evaluate_retrieval

    data = resolve_retrieval_dataset(dataset, split)
    if queries:
        data = data.slice(queries, corpus_size or len(data.corpus)) if data.corpus else data
        if not data.corpus:
            data.queries = dict(list(data.judged_queries().items())[:queries])
    names = [n.strip() for n in retrievers.split(",") if n.strip()]
    index_dir = None if data.corpus else state.settings.index.dir
    run = evaluate_retrieval(
        data, state.settings, names, index_dir, show_progress=not state.quiet, chunk_tokens=chunk_tokens
    )
    folder = write_retrieval_report(run, new_run_dir(_out_dir(out), "retrieval"))
    if as_json:
        print(json.dumps({"dataset": run.dataset, "report": str(folder), "summary": retrieval_summary(run)}))
        return
    table = Table(title=f"{run.dataset}: {run.queries} queries, {run.corpus_docs} documents")
    metrics = ["ndcg@10", "mrr@10", "recall@1", "recall@5", "recall@10", "recall@100"]
    short = {"ndcg@10": "nDCG@10", "mrr@10": "MRR@10", "recall@1": "R@1", "recall@5": "R@5"}
    short |= {"recall@10": "R@10", "recall@100": "R@100"}
    for col in ["retriever", *(short[m] for m in metrics), "published nDCG@10"]:
        table.add_column(col)
    for name, r in run.results.items():
        published = f"{r.baseline.ndcg_at_10:.3f}" if r.baseline else "–"
        table.add_row(name, *(f"{r.metrics.get(m, 0):.4f}" for m in metrics), published)
    console.print(table)
    res = run.results
    if {"bm25", "dense", "hybrid"} <= set(res):
        best = max(res["bm25"].metrics["ndcg@10"], res["dense"].metrics["ndcg@10"])
        ok = res["hybrid"].metrics["ndcg@10"] >= best - 0.005
        gap = res["hybrid"].metrics["ndcg@10"] - best
        console.print(f"hybrid nDCG@10 vs best single retriever: {gap:+.4f} ({'ok' if ok else 'WORSE'})")
    for note in run.notes:
        console.print(f"note: {note}", style="dim")
    console.print(f"report: {folder}/report.md", style="dim")


@eval_app.command("answers")
def answers(
    dataset: Annotated[str, typer.Option(help="A QA .jsonl file, or hep-qa for the bundled set")] = "hep-qa",
    backend: Annotated[str | None, typer.Option(help="Answer backend (default answer.backend)")] = None,
    judge: Annotated[str | None, typer.Option(help="lexical (offline) or llm (default eval.judge)")] = None,
    judge_params: Annotated[
        Path | None, typer.Option(help="Lexical judge parameters from `eval judge-calibration --save`")
    ] = None,
    limit: Annotated[int, typer.Option(help="Only the first N questions (0 = all)", min=0)] = 0,
    out: Annotated[Path | None, typer.Option(help="Reports folder (default eval.reports_dir)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the aggregate as JSON")] = False,
) -> None:
    """Correctness, faithfulness, citation precision/recall, number grounding, refusals, latency."""
    from heprag.app.cli import console, state
    from heprag.app.library import Library
    from heprag.evals.answer_eval import aggregate, evaluate_answers
    from heprag.evals.datasets import bundled_qa_path, load_qa
    from heprag.evals.reports import new_run_dir, write_answer_report

    path = bundled_qa_path() if dataset == "hep-qa" else Path(dataset)
    items = load_qa(path)[: limit or None]
    library = Library(state.settings)
    if any(item.source_type for item in items):  # the shared QA format: its scoring rule, split in halves
        _shared_rule_answers(library, items, backend, out, as_json)
        return
    the_judge = make_judge(judge or state.settings.eval.judge, library, judge_params)
    results = evaluate_answers(library, items, the_judge, backend)
    summary = aggregate(results)
    name = backend or state.settings.answer.backend
    folder = write_answer_report(results, summary, new_run_dir(_out_dir(out), "answers"), path.stem, name)
    if as_json:
        print(json.dumps({"dataset": path.stem, "backend": name, "report": str(folder), "summary": summary}))
        return
    table = Table(title=f"{path.stem}: {len(results)} questions, backend {name}, judge {the_judge.name}")
    for col in ("metric", "mean", "n"):
        table.add_column(col)
    for metric, v in summary.items():
        table.add_row(metric, f"{v['mean']:.3f}", str(int(v["n"])))
    console.print(table)
    console.print(f"report: {folder}/report.md", style="dim")


def _shared_rule_answers(
    library: Library, items: list[QAItem], backend: str | None, out: Path | None, as_json: bool
) -> None:
    """Tune and report halves (fixed seed) scored with the shared QA rule; report.json in the run folder."""
    from heprag.app.cli import console, state
    from heprag.evals.qa_run import qa_tables, run_qa
    from heprag.evals.qa_scoring import split_items, summarise
    from heprag.evals.reports import new_run_dir

    tune, report = split_items(items)
    with console.status("answering…") if not state.quiet else nullcontext():
        halves = {"tune": run_qa(library, tune, backend), "report": run_qa(library, report, backend)}
    folder = new_run_dir(_out_dir(out), "qa")
    payload = {
        "summary": {name: summarise(scores) for name, scores in halves.items()},
        "questions": {name: [asdict(s) for s in scores] for name, scores in halves.items()},
    }
    (folder / "report.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False))
    if as_json:
        print(json.dumps({"report": str(folder), "summary": payload["summary"]}))
        return
    for table in qa_tables(halves):
        console.print(table)
    console.print(f"report: {folder}/report.json", style="dim")


def make_judge(kind: str, library: Library, params_path: Path | None) -> Judge:
    """The judge named `kind`, configured from the settings."""
    from heprag.app.cli import state
    from heprag.evals.judges import LexicalJudge, LexicalParams, LLMJudge

    if kind == "lexical":
        params = LexicalParams.load(params_path) if params_path else LexicalParams()
        return LexicalJudge(library.embedder, params)
    if kind == "llm":
        llm = state.settings.llm
        return LLMJudge(
            llm.base_url, state.settings.eval.judge_model or llm.model, llm.api_key.get_secret_value(),
            llm.timeout_s, llm.max_retries,
        )  # fmt: skip
    raise ConfigError(f"unknown judge {kind!r}; use --judge lexical or --judge llm")


@eval_app.command("compare")
def compare_runs(
    run_a: Annotated[Path, typer.Argument(help="Baseline run folder (or results.json)", exists=True)],
    run_b: Annotated[Path, typer.Argument(help="New run folder (or results.json)", exists=True)],
    tolerance: Annotated[float, typer.Option(help="Drop that counts as a regression")] = 0.005,
    fail: Annotated[
        bool, typer.Option("--fail-on-regression", help="Exit 1 when anything regressed")
    ] = False,
) -> None:
    """A regression table: each metric of B against A."""
    from heprag.app.cli import console
    from heprag.evals.reports import compare, load_summary

    name_a, a = load_summary(run_a)
    name_b, b = load_summary(run_b)
    changes = compare(a, b, tolerance)
    table = Table(title=f"A = {run_a.name} ({name_a})   B = {run_b.name} ({name_b})")
    for col in ("group", "metric", "A", "B", "B − A", ""):
        table.add_column(col)
    for c in changes:
        fmt = lambda v: "–" if v is None else f"{v:.4f}"  # noqa: E731
        mark = Text("regression", style="red") if c.regression else ""
        table.add_row(
            c.group, c.metric, fmt(c.a), fmt(c.b), "–" if c.delta is None else f"{c.delta:+.4f}", mark
        )
    console.print(table)
    regressions = [c for c in changes if c.regression]
    console.print(f"{len(regressions)} regression(s) beyond {tolerance}")
    if fail and regressions:
        raise typer.Exit(1)


@eval_app.command("judge-calibration")
def judge_calibration(
    save: Annotated[Path | None, typer.Option(help="Write the fitted parameters to this JSON file")] = None,
    fit_share: Annotated[
        float, typer.Option(help="Share of claims used for fitting", min=0.1, max=0.9)
    ] = 0.6,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fit the lexical judge on SciFact rationales and report its held-out accuracy, precision, recall, F1."""
    from heprag.app.cli import console, state
    from heprag.app.settings import make_embedder
    from heprag.evals.calibration import calibrate

    result = calibrate(make_embedder(state.settings), fit_share=fit_share)
    if save:
        result.params.save(save)
    if as_json:
        print(json.dumps(asdict(result)))
        return
    p = result.params
    console.print(
        f"lexical judge on SciFact training rationales: {result.counts['claims']} claims, "
        f"{result.counts['pairs']} (claim, sentence) pairs; fitted on {result.counts['fit_pairs']}, "
        f"held out {result.counts['held_out_pairs']} ({result.counts['held_out_positives']} supporting)"
    )
    console.print(f"fitted: alpha={p.alpha} threshold={p.threshold} check_numbers={p.check_numbers}")
    table = Table(title="held-out agreement with SciFact SUPPORT rationales")
    for col in ("judge", "accuracy", "precision", "recall", "f1"):
        table.add_column(col)
    rows = {"lexical (fitted)": result.held_out, **result.ablations}
    for name, m in rows.items():
        table.add_row(name, *(f"{m[k]:.3f}" for k in ("accuracy", "precision", "recall", "f1")))
    console.print(table)
    share = result.counts["held_out_positives"] / max(result.counts["held_out_pairs"], 1)
    console.print(
        f"for scale: always answering 'unsupported' scores accuracy {1 - share:.3f} (F1 0); negatives are "
        "sentences of the same, on-topic abstract, so this is a hard test of sentence-level support"
    )
