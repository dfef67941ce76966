"""Imports run one way: index ← ingest ← app ← evals (DESIGN.md). A lower layer never imports a higher one.

The CLI's list of command-group modules (`app/cli.py` SUBCOMMAND_MODULES, names loaded with importlib) is
how `heprag eval` plugs in without `app` importing `evals`; it holds strings, not imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYERS = ["index", "ingest", "app", "evals"]


def imported_layers(path: Path) -> set[str]:
    """The heprag layers a module imports (module level or inside functions, TYPE_CHECKING included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "heprag" and len(parts) > 1 and parts[1] in LAYERS:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_itself_and_the_layers_below(layer: str) -> None:
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    wrong = {
        str(path.relative_to(REPO)): sorted(imported_layers(path) - allowed)
        for path in sorted((REPO / layer).rglob("*.py"))
        if imported_layers(path) - allowed
    }
    assert not wrong, f"{layer} may import only {sorted(allowed)}: {wrong}"
