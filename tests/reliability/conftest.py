from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_CACHE

# Two short real papers (CMS H->bb and ttH letters): enough chunks for several embedding slices.
PAPERS = ["1808.08242v2.pdf", "1804.02610v2.pdf"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability" in str(item.fspath):
            item.add_marker(pytest.mark.reliability)


def run_heprag(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`heprag ARGS` in a fresh subprocess (so that it can be killed like a user's run)."""
    full_env = {**os.environ, "HEPRAG_EMBEDDING__CACHE_DIR": str(TEST_CACHE), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "heprag.app.cli", "--quiet", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def two_papers(higgs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("two")
    for name in PAPERS:
        (folder / name).write_bytes((higgs_dir / name).read_bytes())
    return folder
