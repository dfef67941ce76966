"""The `heprag` command line: ingest, search, ask, index, config (and chat, mcp, eval, summarize)."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.table import Table
from rich.text import Text

from heprag.app.answer import Answer
from heprag.app.cli_group import HepragGroup, disk_full, fail
from heprag.app.generators import AUDIENCES, Audience
from heprag.app.library import Library, ensure_index_dir
from heprag.app.settings import Settings, load_settings
from heprag.app.terminal import SafeConsole, configure_logging, tagged
from heprag.index.retrieval import Mode
from heprag.index.store import current_generation
from heprag.index.types import Hit

app = typer.Typer(
    cls=HepragGroup,
    help="heprag: cited answers from high-energy-physics papers and logbooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Inspect and maintain the index.", no_args_is_help=True)
config_app = typer.Typer(help="Show the effective settings.", no_args_is_help=True)
app.add_typer(index_app, name="index")
app.add_typer(config_app, name="config")

MAX_SKIPPED_SHOWN = 20  # more skipped files than this are counted, their reasons left to the saved report
# Literal consoles: document text, paths and messages never act as markup or escape sequences.
console = SafeConsole(soft_wrap=True)
err = SafeConsole(stderr=True, soft_wrap=True)


class State:
    settings: Settings
    quiet: bool = False
    debug: bool = False


state = State()


@app.callback()
def main_options(
    index: Annotated[
        Path | None,
        typer.Option("--index", envvar="HEPRAG_INDEX_DIR", help="Index directory (default: user data dir)"),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", envvar="HEPRAG_CONFIG", help="heprag.toml settings file")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error")] = False,
) -> None:
    configure_logging(logging.DEBUG if verbose else logging.WARNING, "%(levelname)s %(name)s: %(message)s")
    for noisy in ("transformers", "sentence_transformers", "httpx", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    state.settings = load_settings(config, index)
    state.quiet = quiet
    state.debug = debug


def _library() -> Library:
    return Library(state.settings)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (PDF, ...) to index", exists=True)],
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Glob a file must match (repeatable), e.g. '*.pdf'")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Glob of files/folders to skip (repeatable), e.g. 'scifact/*'"),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="[ADDRESS]",
            help="Run on Ray Data: 'local' (a cluster started here; the default of a bare --ray), "
            "'auto' (this machine's), ray://HOST:10001",
        ),
    ] = None,
) -> None:
    """Parse, chunk, embed and index files; unchanged files are skipped, bad ones reported."""
    if include:
        state.settings.ingest.include = include
    if exclude:
        state.settings.ingest.exclude = [*state.settings.ingest.exclude, *exclude]
    index_dir = state.settings.index.dir
    ensure_index_dir(index_dir)  # a file or an unwritable place fails here, before any parsing
    library = _library()
    with _ingest_outcome(library):
        if ray is not None:
            from heprag.app.distributed import ingest_with_ray

            report = ingest_with_ray(library, paths, ray, show_progress=not state.quiet)
        else:
            report = library.ingest(paths, show_progress=not state.quiet)
    saved = index_dir / "reports"
    for failure in report.failed:
        reason = failure.reason.removeprefix(f"{failure.path}: ")  # parse errors start with the path
        fail(f"{failure.path}: {reason}", label="failed")
    for conflict in report.conflicts:
        fail(
            f"{conflict.path} claims {conflict.doc_id} (as {conflict.other_path}); "
            f"kept as {conflict.kept_as}",
            label="conflict",
        )
    for note in report.warnings:
        fail(f"{note.path}: {note.reason}", label="warning")
    if 0 < len(report.skipped) <= MAX_SKIPPED_SHOWN:
        for note in report.skipped:
            fail(f"{note.path}: {note.reason}", label="skipped")
    elif report.skipped:
        fail(f"{len(report.skipped)} files (reasons in the saved report)", label="skipped")
    console.print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} superseded, {len(report.failed)} failed, "
        f"{len(report.unsupported)} unsupported files; "
        f"{report.chunks_written} chunks written, {report.chunks_embedded} embedded "
        f"(others from the cache) in {report.seconds.get('total', 0):.1f} s"
    )
    if report.files:
        console.print(report.files_summary())
    console.print(f"index: {state.settings.index.dir}  report: {saved}", style="dim")
    if report.documents_indexed == 0:
        fail("nothing could be ingested")
        raise typer.Exit(1)


@contextmanager
def _ingest_outcome(library: Library) -> Iterator[None]:
    """Ctrl-C and a full disk end an ingest with one line saying what was kept and how to go on."""
    index_dir = library.settings.index.dir
    try:
        yield
    except KeyboardInterrupt:
        live = current_generation(index_dir)
        kept = f"the index keeps its last complete generation ({live.name})" if live else "nothing published"
        embedded = library._embedder.embedded_count if library._embedder else 0
        fail(
            f"interrupted: {kept}; {embedded} new passage embeddings are cached. "
            "Re-run the same command to resume (cached embeddings are not recomputed)."
        )
        raise typer.Exit(130) from None
    except Exception as exc:
        if not disk_full(exc) or state.debug:
            raise
        live = current_generation(index_dir)
        intact = f"the live index is intact ({live.name})" if live else "no index was published"
        fail(f"no space left on device writing {index_dir}; {intact}. Free some space and re-run.")
        raise typer.Exit(1) from None


def _hit_json(hit: Hit) -> dict[str, Any]:
    c = hit.chunk
    return {
        "chunk_id": c.chunk_id, "doc_id": c.doc_id, "label": c.label, "score": round(hit.score, 6),
        "dense_score": None if hit.dense_score is None else round(hit.dense_score, 6),
        "page": c.page_start, "section": " / ".join(c.section), "retrievers": hit.retrievers, "text": c.text,
    }  # fmt: skip


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Number of passages")] = 10,
    mode: Annotated[Mode, typer.Option(help="hybrid, dense or bm25")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Hybrid (dense + BM25, reciprocal-rank fused) passage search."""
    hits = _library().search(query, k=k, mode=mode)
    if as_json:
        print(json.dumps({"hits": [_hit_json(h) for h in hits]}, ensure_ascii=False))
        return
    table = Table(show_lines=True)
    for col in ("#", "label", "score", "page", "snippet"):
        table.add_column(col)
    for h in hits:
        table.add_row(
            str(h.rank), h.chunk.label, f"{h.score:.4f}", str(h.chunk.page_start or ""), h.chunk.text[:220]
        )
    console.print(table)


def answer_json(answer: Answer) -> dict[str, Any]:
    """The public `ask --json` contract."""
    data = answer.model_dump(mode="json")
    data["hits"] = [_hit_json(h) for h in answer.hits]
    return data


def print_answer(answer: Answer) -> None:
    console.print(answer.answer, markup=False, highlight=False)
    if answer.citations:
        console.print("\nSources:" if not answer.refused else "\nClosest passages:", style="bold")
    for c in answer.citations:
        console.print(f"[{c.n}] {c.label} — {c.url or c.doc_id}", markup=False, highlight=False)
        console.print(f"    “{c.quote[:240]}”", style="dim", markup=False, highlight=False)


@app.command()
def ask(
    question: Annotated[
        str | None, typer.Argument(help="Your question (omit for an interactive session)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as one JSON object")] = False,
    backend: Annotated[
        str | None, typer.Option(help="extractive, openai or llamacpp (default: setting answer.backend)")
    ] = None,
    audience: Annotated[
        str, typer.Option(help="researcher, or newcomer: acronyms and jargon explained on first use, cited")
    ] = "researcher",
) -> None:
    """Answer a question from the index, every sentence cited [n]."""
    library = _library()
    if backend is not None and backend not in {"extractive", "openai", "llamacpp"}:
        raise typer.BadParameter("backend must be extractive, openai or llamacpp")
    if audience not in AUDIENCES:
        raise typer.BadParameter("audience must be researcher or newcomer")
    who = cast(Audience, audience)
    if question is not None:
        answer = _ask(library, question, backend, who)
        if as_json:
            print(json.dumps(answer_json(answer), ensure_ascii=False))
        else:
            print_answer(answer)
        return
    console.print("Ask about the indexed literature (empty line or Ctrl-D to quit).", style="dim")
    for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: console.input("? "), ""):
        if not line.strip():
            break
        print_answer(_ask(library, line.strip(), backend, who))
        console.print()


def _ask(library: Library, question: str, backend: str | None, audience: Audience) -> Answer:
    answer, note = library.ask_or_fallback(question, backend=backend, audience=audience)
    if note:
        err.print(Text(f"note: {note}", style="yellow"))
    return answer


@index_app.command("info")
def index_info(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Manifest, counts and disk size of the index."""
    info = _library().info()
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return
    m = info["manifest"]
    console.print(f"index      {info['index_dir']} ({info['generation']}, {info['disk_bytes'] / 1e6:.1f} MB)")
    console.print(f"documents  {info['counts']['documents']}   chunks {info['counts']['chunks']}")
    console.print(
        f"model      {m['embedding']['model']} (dim {m['embedding']['dim']}), faiss {m['faiss_kind']}"
    )
    console.print(f"built      {m['built_at']}   by source type {info['by_source_type']}")
    segments = ", ".join(f"{s['name']} ({s['chunks']} chunks, {s['faiss_kind']})" for s in info["segments"])
    console.print(f"segments   {segments}")


@index_app.command("verify")
def index_verify() -> None:
    """Check that manifest, FAISS, BM25 and SQLite agree; exit 1 and list problems if not."""
    from heprag.index.maintenance import verify_index

    problems = verify_index(state.settings.index.dir)
    for problem in problems:
        err.print(tagged("problem", problem))
    if problems:
        err.print("run `heprag index repair`: it rebuilds from the newest generation whose store verifies")
        raise typer.Exit(1)
    console.print(f"index at {state.settings.index.dir} is consistent")


@index_app.command("repair")
def index_repair() -> None:
    """Rebuild FAISS, BM25 and the manifest from the newest intact SQLite store."""
    from heprag.index.maintenance import repair_index

    console.print(repair_index(state.settings.index.dir))


@index_app.command("delete")
def index_delete(
    doc_ids: Annotated[list[str], typer.Argument(help="Document ids, e.g. arXiv:2007.07830v2")],
) -> None:
    """Remove documents with all their chunks, vectors and keyword entries."""
    from heprag.index.maintenance import delete_documents

    deleted, missing = delete_documents(state.settings.index.dir, doc_ids)
    console.print(f"deleted {len(deleted)} document(s)")
    for doc_id in missing:
        err.print(f"not in the index: {doc_id}")
    if missing and not deleted:
        raise typer.Exit(1)


@index_app.command("compact")
def index_compact(
    small: Annotated[
        bool, typer.Option("--small", help="Merge only segments under an eighth of the largest one")
    ] = False,
) -> None:
    """Merge segments into one without deleted rows, and drop old generations."""
    from heprag.index.maintenance import compact_index

    before, after = compact_index(state.settings.index.dir, full=not small)
    console.print(f"{before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")


@config_app.command("show")
def config_show(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the effective settings (secrets masked)."""
    data = state.settings.model_dump(mode="json")
    if as_json:
        print(json.dumps(data, indent=2))
        return
    import tomli_w

    print(tomli_w.dumps(_without_none(data)))


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    """TOML has no null: unset optional settings are left out (they show as absent, i.e. the default)."""
    return {k: _without_none(v) if isinstance(v, dict) else v for k, v in data.items() if v is not None}


# Command groups living in their own modules; each module exposes `register(app: typer.Typer) -> None`.
# Add a line here to plug a new command group in.
SUBCOMMAND_MODULES: list[str] = [
    "heprag.app.mcp_command",
    "heprag.app.chat.command",
    "heprag.evals.cli",
    "heprag.app.summaries.command",
    "heprag.app.sync_command",
]


def _register_subcommands() -> None:
    import importlib

    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_subcommands()


def main() -> None:
    app()  # HepragGroup turns every failure into one line and an exit code


if __name__ == "__main__":
    main()
