"""`heprag summarize`: one topic report (--topic ... --out report.md) or many (--batch topics.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from heprag.app.summaries.model import TopicRequest
from heprag.app.summaries.selection import read_paper_ids
from heprag.app.summaries.writer import Written, parse_filters, read_batch, slug, write_report
from heprag.app.terminal import SafeConsole, literal, printable, tagged

console = SafeConsole(soft_wrap=True)  # topics and flags are printed as they are, never as markup
err = SafeConsole(stderr=True)


def _print(written: Written) -> None:
    report = written.report
    t = report.tallies
    where = f" → {written.markdown}" + (f", {written.html}" if written.html else "")
    console.print(literal(report.topic, "bold"), literal(where), sep="")
    console.print(
        f"  {len(report.selection)} documents, {len(report.citations)} citations, "
        f"{len(report.key_numbers)} key-number rows; "
        f"summaries from cache: {report.cache_hits}/{len(report.selection)}"
    )
    style = "green" if t.ok else "red"
    console.print(f"  checks: {t.line()}", style=style, highlight=False)
    for flag in t.flags[:10]:
        err.print(tagged("  ✗", flag))
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items() if k != "total")
    line = f"  time: {written.seconds:.1f} s ({stages})"
    if written.previous_seconds:
        line += f"; previous run {written.previous_seconds:.1f} s"
    if written.first_seconds:
        speedup = written.first_seconds / max(written.seconds, 1e-6)
        line += f"; first run {written.first_seconds:.1f} s → {speedup:.1f}× faster now"
    console.print(line, highlight=False)


def summarize(
    topic: Annotated[str | None, typer.Option("--topic", help="What the report is about")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Markdown report to write")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML page")] = None,
    since: Annotated[int | None, typer.Option("--since", help="Only documents from this year on")] = None,
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", help="key=value: collaboration=ATLAS, category=hep-ex, year<=2019, doc=..."),
    ] = None,
    papers: Annotated[
        Path | None, typer.Option("--papers", help="File of arXiv/doc ids (one a line) to restrict to")
    ] = None,
    batch: Annotated[
        Path | None, typer.Option("--batch", help="topics.yaml: many reports in one run")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="Where --batch writes its reports")
    ] = None,
    no_html: Annotated[bool, typer.Option("--no-html", help="--batch: markdown only")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any check fails")] = False,
) -> None:
    """Write a cited literature report: synthesis, key numbers, reading list, timeline, references."""
    from heprag.app.cli import state
    from heprag.app.library import Library

    if batch is not None:
        if topic or out:
            raise typer.BadParameter("use either --batch/--out-dir or --topic/--out, not both")
        if out_dir is None:
            raise typer.BadParameter("--batch needs --out-dir")
        requests = read_batch(batch)
    else:
        if not topic or out is None:
            raise typer.BadParameter("give --topic and --out (or --batch topics.yaml --out-dir DIR)")
        requests = [
            TopicRequest(
                topic=topic,
                since=since,
                filters=parse_filters(filters or []),
                papers=read_paper_ids(papers) if papers else [],
            )
        ]
    library = Library(state.settings)
    results: list[Written] = []
    with Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, disable=state.quiet, transient=True,
    ) as bar:  # fmt: skip
        topics = bar.add_task("topics", total=len(requests), visible=len(requests) > 1)
        for request in requests:
            task = bar.add_task(f"summaries: {printable(request.topic[:40])}", total=None)

            def progress(_stage: str, done: int, total: int, task: TaskID = task) -> None:
                bar.update(task, completed=done, total=total)

            if batch is not None:
                assert out_dir is not None
                name = request.name or slug(request.topic)
                md, page = out_dir / f"{name}.md", None if no_html else out_dir / f"{name}.html"
            else:
                assert out is not None
                md, page = out, html
            results.append(write_report(library, request, md, page, progress))
            bar.remove_task(task)
            bar.advance(topics)
    for written in results:
        _print(written)
    if strict and not all(w.report.tallies.ok for w in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("summarize")(summarize)
