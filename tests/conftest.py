"""Shared fixtures: the real corpus (skipped when absent) and one small real index per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("HEPRAG_TEST_CORPUS", REPO.parent / "shared" / "corpus"))
HIGGS = CORPUS / "pdfs" / "higgs"
# Three of the real Higgs papers: H->mumu (ATLAS), H->bb (CMS) and ttH (CMS).
SMALL_SET = ["2007.07830v2.pdf", "1808.08242v2.pdf", "1804.02610v2.pdf"]
# Embeddings are cached by content hash across runs (a real cache, as users get).
TEST_CACHE = Path(os.environ.get("HEPRAG_TEST_CACHE", Path.home() / ".cache" / "heprag-tests"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def require_corpus(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real corpus not found at {path} (clone with ../shared/corpus beside the repo)")
    return path


@pytest.fixture(scope="session")
def higgs_dir() -> Path:
    return require_corpus("pdfs", "higgs")


@pytest.fixture(scope="session")
def small_pdf_dir(higgs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pdfs")
    for name in SMALL_SET:
        shutil.copy(higgs_dir / name, folder / name)
    return folder


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every test runs with its own config/index env and the shared embedding cache."""
    for var in list(os.environ):
        if var.startswith("HEPRAG_") and var not in {"HEPRAG_TEST_CORPUS", "HEPRAG_TEST_CACHE"}:
            monkeypatch.delenv(var)
    monkeypatch.setenv("HEPRAG_EMBEDDING__CACHE_DIR", str(TEST_CACHE))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def small_index(small_pdf_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the three small real papers, built once per session."""
    from heprag.app.library import Library
    from heprag.app.settings import load_settings

    index_dir = tmp_path_factory.mktemp("index") / "idx"
    os.environ["HEPRAG_EMBEDDING__CACHE_DIR"] = str(TEST_CACHE)
    try:
        settings = load_settings(index_dir=index_dir)
    finally:
        del os.environ["HEPRAG_EMBEDDING__CACHE_DIR"]
    report = Library(settings).ingest([small_pdf_dir])
    assert len(report.added) == len(SMALL_SET), report.failed
    return index_dir


@pytest.fixture()
def library(small_index: Path):  # type: ignore[no-untyped-def]
    from heprag.app.library import Library

    return Library.open(small_index)
