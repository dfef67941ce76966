"""Source parsers: each module registers a FileParser for the files it reads."""

from __future__ import annotations

import importlib

from heprag.ingest.sources.base import FileParser, ParseLimits, parser_for, register

# Modules imported (once) to register their parsers; the order sets priority (later wins).
BUILTIN_PARSER_MODULES = ["pdf", "latex", "archive", "records", "text", "elog", "inspire"]
_loaded = False


def load_builtin_parsers() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN_PARSER_MODULES:
        importlib.import_module(f"heprag.ingest.sources.{name}")


__all__ = ["FileParser", "ParseLimits", "load_builtin_parsers", "parser_for", "register"]
