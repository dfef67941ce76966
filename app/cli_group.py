"""The `heprag` command group: global options anywhere on the line, and every failure as one line.

`heprag ingest docs --quiet` means `heprag --quiet ingest docs`; `--ray` without an address means
`--ray local`. An exception becomes one actionable line on stderr and a non-zero exit (2: heprag's
own errors, 1: anything else, 130: Ctrl-C); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import errno
import re
from typing import Any

import typer
from typer.core import TyperGroup

from heprag.app.terminal import SafeConsole, tagged
from heprag.index.errors import HepragError

GLOBAL_FLAGS = frozenset({"--quiet", "-q", "--verbose", "-v", "--debug"})
GLOBAL_WITH_VALUE = frozenset({"--index", "--config"})
RAY_ADDRESS = re.compile(r"^(local|auto|ray://\S+|[\w.-]+:\d+)$")
MAX_MESSAGE = 400

err = SafeConsole(stderr=True, soft_wrap=True)


def normalize_args(args: list[str]) -> list[str]:
    """Global options moved before the subcommand; a bare `--ray` given its default address `local`."""
    start = 0
    while start < len(args) and args[start].startswith("-"):  # global options already in front
        start += 2 if args[start] in GLOBAL_WITH_VALUE else 1
    hoisted: list[str] = []
    rest: list[str] = []
    i = start
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in GLOBAL_FLAGS or (arg.split("=", 1)[0] in GLOBAL_WITH_VALUE and "=" in arg):
            hoisted.append(arg)
        elif arg in GLOBAL_WITH_VALUE and i + 1 < len(args):
            hoisted += [arg, args[i + 1]]
            i += 1
        else:
            rest.append(arg)
            if arg == "--ray" and (i + 1 == len(args) or not RAY_ADDRESS.match(args[i + 1])):
                rest.append("local")
        i += 1
    return [*args[:start], *hoisted, *rest]


def disk_full(exc: BaseException) -> bool:
    """True for a full disk, however the layer that hit it (OS, SQLite, FAISS) says so."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    text = str(exc)
    return "No space left on device" in text or "database or disk is full" in text


def one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def describe(exc: BaseException) -> tuple[str, int]:
    """The line to print for an exception, and the exit code."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", 130
    if isinstance(exc, HepragError):
        return one_line(str(exc)), 2
    if disk_full(exc):
        where = getattr(exc, "filename", None)
        return f"no space left on device{f' writing {where}' if where else ''}; free some space", 1
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror} (run with --debug for the traceback)", 1
    return f"unexpected {type(exc).__name__}: {one_line(str(exc))} (run with --debug for the traceback)", 1


def fail(message: str, label: str = "error") -> None:
    """Print `label: message` on stderr, literally (no Rich markup)."""
    err.print(tagged(f"{label}:", message), highlight=False)


class HepragGroup(TyperGroup):
    """A typer group that accepts global options after the subcommand and prints errors in one line."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: typer's click Context
        return super().parse_args(ctx, normalize_args(list(args)))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # usage errors: typer prints them
            raise
        except (Exception, KeyboardInterrupt) as exc:
            if ctx.params.get("debug"):
                raise
            message, code = describe(exc)
            fail(message)
            raise typer.Exit(code) from exc
