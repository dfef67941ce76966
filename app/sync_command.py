"""`heprag sync`: update the index from an OAI-PMH repository (arXiv, INSPIRE) or an INSPIRE dump."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from heprag.app.library import Library
from heprag.ingest.sources.arxiv_client import RetryPolicy
from heprag.ingest.sources.inspire import InspireClient
from heprag.ingest.sources.oai_formats import FORMATS
from heprag.ingest.sources.oaipmh import OaiClient
from heprag.ingest.sync import Syncer

FORMAT_HELP = (
    "Metadata format: marcxml (INSPIRE), arxiv (arXiv's `arXiv`), arxivraw (version-aware arXiv ids), "
    "oai_dc; default: arxiv when the endpoint is arXiv's, else marcxml"
)


def sync(
    endpoint: Annotated[
        str | None,
        typer.Option(
            help="OAI-PMH base URL, e.g. https://inspirehep.net/api/oai2d or https://oaipmh.arxiv.org/oai"
        ),
    ] = None,
    set_spec: Annotated[
        str | None, typer.Option("--set", help="OAI set, e.g. 'physics:hep-ex' (arXiv) or 'ForCDS' (INSPIRE)")
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from", help="Harvest records changed since YYYY-MM-DD (default: since the last harvest)"
        ),
    ] = None,
    until: Annotated[str | None, typer.Option(help="...and until YYYY-MM-DD (inclusive)")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help=FORMAT_HELP)] = None,
    dump: Annotated[
        Path | None,
        typer.Option(
            help="Ingest an INSPIRE literature dump (JSON lines, .jsonl or .jsonl.gz) instead", exists=True
        ),
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Ignore the saved position of an interrupted harvest or dump")
    ] = False,
    batch: Annotated[
        int, typer.Option(min=1, help="Records per commit (one published index generation)")
    ] = 500,
    retries: Annotated[
        int, typer.Option(min=0, help="Retries of a 503/429/5xx answer or a dropped connection")
    ] = 6,
    max_wait: Annotated[
        float, typer.Option(min=0, help="Longest Retry-After wait honoured, in seconds")
    ] = 300.0,
    delay: Annotated[
        float | None,
        typer.Option(min=0, help="Seconds between requests (default 3 for arXiv, as it asks; else 1)"),
    ] = None,
    enrich_inspire: Annotated[
        str | None,
        typer.Option(
            metavar="API_URL",
            help="Enrich harvested arXiv records from INSPIRE's REST API (e.g. https://inspirehep.net/api)",
        ),
    ] = None,
) -> None:
    """Harvest new, changed and deleted records incrementally (resumable), or stream an INSPIRE dump."""
    from heprag.app.cli import console, err, state

    if (endpoint is None) == (dump is None):
        raise typer.BadParameter("give either --endpoint URL (OAI-PMH) or --dump FILE (INSPIRE JSON lines)")
    if fmt is not None and fmt.lower() not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    library = Library(state.settings)
    enrich = InspireClient(enrich_inspire) if enrich_inspire else None
    syncer = Syncer(
        library.ingestor(show_progress=False), batch, show_progress=not state.quiet, enrich=enrich
    )
    if dump is not None:
        report = syncer.ingest_dump(dump, restart)
    else:
        assert endpoint is not None
        policy = RetryPolicy(retries=retries, max_wait_seconds=max_wait, timeout_seconds=120.0)
        is_arxiv = "arxiv.org" in endpoint.lower()
        if delay is not None and delay < 3 and is_arxiv:
            err.print(f"warning: --delay {delay} is below the 3 s between requests that arXiv asks for")
        client = OaiClient(
            endpoint, policy, min_interval=delay if delay is not None else 3.0 if is_arxiv else 1.0
        )
        name = fmt or ("arxiv" if "arxiv" in endpoint.lower() else "marcxml")
        report = syncer.harvest(client, name, set_spec, from_, until, restart)
    for failure in report.failed[:20]:
        err.print(f"[red]failed[/red] {failure.path}: {failure.reason}", highlight=False)
    if len(report.failed) > 20:
        err.print(f"... and {len(report.failed) - 20} more failures (see the report)")
    console.print(report.line(), highlight=False)
    console.print(
        f"index: {state.settings.index.dir}  report: {state.settings.index.dir / 'reports'}", style="dim"
    )


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)
