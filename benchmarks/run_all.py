"""`make bench`: list the benchmarks and run one; by default a quick one that needs no corpus.

    python benchmarks/run_all.py                 list, then run the quick default (~15 s on 2 cores)
    python benchmarks/run_all.py --list          list only
    python benchmarks/run_all.py NAME [ARGS...]  run benchmarks/NAME.py with its own arguments

(`make bench BENCH="answer_quality --backend extractive"` passes a name and arguments through.)
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The quick default: FAISS kinds on 20k synthetic vectors (no corpus, no model download).
DEFAULT = ["search_scale", "--sizes", "20000", "--queries", "200", "--kinds", "flat,ivf"]


def benchmarks() -> dict[str, str]:
    """Every benchmark script beside this one, with the first line of its docstring."""
    found: dict[str, str] = {}
    for path in sorted(HERE.glob("*.py")):
        if path.name != Path(__file__).name:
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            found[path.stem] = doc.splitlines()[0] if doc else ""
    return found


def main(argv: list[str]) -> int:
    known = benchmarks()
    if not argv or argv[0] == "--list":
        for name, summary in known.items():
            print(f"{name:22} {summary}")
        if argv:
            return 0
        print(f"\nrunning the quick default: {' '.join(DEFAULT)}\n", flush=True)
        argv = DEFAULT
    name, *args = argv
    name = name.removesuffix(".py")
    if name not in known:
        print(f"unknown benchmark {name!r}; one of: {', '.join(known)}", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, str(HERE / f"{name}.py"), *args])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
