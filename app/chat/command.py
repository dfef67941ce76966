"""`heprag chat`: a thin wrapper over `streamlit run` for the researcher chat."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from heprag.app.settings import load_settings
from heprag.index.errors import ConfigError

SCRIPT = Path(__file__).with_name("streamlit_app.py")


def streamlit_command(port: int, headless: bool, address: str | None = None) -> list[str]:
    """The `python -m streamlit run` command line of the chat."""
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(SCRIPT),
        "--server.port", str(port),
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    if address:
        cmd += ["--server.address", address]
    return cmd


def register(app: typer.Typer) -> None:
    @app.command()
    def chat(
        ctx: typer.Context,
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port of the web app")] = 8501,
        headless: Annotated[bool, typer.Option("--headless", help="Do not open a browser")] = False,
        address: Annotated[
            str | None, typer.Option("--address", help="Interface to bind (default: streamlit's)")
        ] = None,
    ) -> None:
        """Open the researcher chat (Streamlit) on http://localhost:PORT; Ctrl-C stops it."""
        try:
            import streamlit  # noqa: F401
        except ImportError as exc:
            raise ConfigError(
                "the chat needs streamlit: pip install 'heprag[app]' (or `make install`)"
            ) from exc
        options = ctx.parent.params if ctx.parent else {}  # the global --index / --config options
        config: Path | None = options.get("config")
        settings = load_settings(config, options.get("index"))  # validates before starting the server
        env = dict(os.environ)
        env["HEPRAG_INDEX_DIR"] = str(settings.index.dir)
        if config is not None:
            env["HEPRAG_CONFIG"] = str(config.resolve())
        typer.echo(f"heprag chat on http://localhost:{port}  (index {settings.index.dir}; Ctrl-C stops)")
        cmd = streamlit_command(port, headless, address)
        if os.name == "posix":  # become streamlit: Ctrl-C and SIGTERM reach the server directly
            os.execve(sys.executable, cmd, env)
        try:
            code = subprocess.call(cmd, env=env)
        except KeyboardInterrupt:
            code = 0
        raise typer.Exit(code)
