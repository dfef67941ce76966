"""`heprag mcp`: serve the index to agents over MCP (stdio by default, streamable HTTP with --http)."""

from __future__ import annotations

from typing import Annotated

import typer

from heprag.app.library import Library


def mcp(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP instead of stdio")] = False,
    host: Annotated[
        str | None,
        typer.Option(help="HTTP bind address (default mcp.host = 127.0.0.1; others need HEPRAG_MCP__TOKEN)"),
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="HTTP port (default mcp.port = 8765; 0 = any free)")
    ] = None,
) -> None:
    """Serve the index to agents as MCP tools (search, passages, documents, cited answers)."""
    from heprag.app.cli import state

    library = Library(state.settings)
    if http:
        from heprag.app.mcp_http import serve_http

        serve_http(library, host, port)
        return
    if host is not None or port is not None:
        raise typer.BadParameter("--host and --port apply to --http only")
    from heprag.app.mcp_server import serve_stdio

    serve_stdio(library)


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)
