"""The Makefile's targets point at things that exist, and `make bench`'s runner knows every benchmark."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_script_the_makefile_runs_exists() -> None:
    scripts = re.findall(r"\b(benchmarks/\w+\.py)", (REPO / "Makefile").read_text())
    assert scripts and all((REPO / s).is_file() for s in scripts), scripts


def test_test_runs_mypy_on_the_package() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^test: .*typecheck", makefile, re.M) and "mypy -p heprag" in makefile


def test_the_bench_runner_lists_every_benchmark() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run_all.py"), "--list"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    names = {p.stem for p in (REPO / "benchmarks").glob("*.py")} - {"run_all"}
    assert names and {line.split()[0] for line in out.splitlines() if line.strip()} == names
