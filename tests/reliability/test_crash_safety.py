"""SIGKILL at every crash point of an ingest: the index still opens, verifies, and completes on re-run."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import numpy as np
import pytest

from heprag.index.faults import POINTS
from heprag.index.maintenance import verify_index
from heprag.index.store import CorpusIndex
from tests.reliability.conftest import run_heprag


def snapshot(index_dir: Path) -> tuple[dict[str, str], dict[str, str], dict[str, np.ndarray]]:
    """(doc id -> content hash, chunk id -> text, chunk id -> vector) of the live generation."""
    index = CorpusIndex.open(index_dir)
    docs = {d: h for d, (h, _) in index.meta.document_state().items()}
    ids, texts = index.meta.all_texts()
    chunks = index.meta.chunks_by_ids(ids)
    chunk_ids = [chunks[i].chunk_id for i in ids]
    vectors = index.meta.vectors_by_chunk_ids(chunk_ids)
    index.close()
    return docs, dict(zip(chunk_ids, texts, strict=True)), vectors


@pytest.fixture(scope="module")
def reference(two_papers: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("ref") / "idx"
    done = run_heprag("--index", str(index), "ingest", str(two_papers))
    assert done.returncode == 0, done.stderr
    return index


@pytest.fixture(scope="module")
def one_paper_index(two_papers: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete first generation with one paper, so that a crash has something to preserve."""
    first = tmp_path_factory.mktemp("first")
    shutil.copy(sorted(two_papers.glob("*.pdf"))[0], first)
    index = tmp_path_factory.mktemp("one") / "idx"
    assert run_heprag("--index", str(index), "ingest", str(first)).returncode == 0
    return index


@pytest.mark.parametrize("point", POINTS)
def test_killed_ingest_leaves_a_valid_index_and_a_rerun_equals_an_uninterrupted_run(
    point: str, two_papers: Path, reference: Path, one_paper_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "idx"
    shutil.copytree(one_paper_index, index)
    before = snapshot(index)

    env = {"HEPRAG_FAULT_INJECT": point}
    if point == "mid-embedding":  # fresh cache and small slices, so that the kill lands mid-way
        env |= {"HEPRAG_EMBEDDING__CACHE_DIR": str(tmp_path / "cache"), "HEPRAG_EMBEDDING__BATCH_SIZE": "2"}
    killed = run_heprag("--index", str(index), "ingest", str(two_papers), env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    assert verify_index(index) == []
    after_crash = snapshot(index)
    if point != "after-current-swap":
        assert after_crash[0] == before[0]  # the old generation is still the live one, untouched

    rerun = run_heprag("--index", str(index), "ingest", str(two_papers))
    assert rerun.returncode == 0, rerun.stderr
    assert verify_index(index) == []
    docs, texts, vectors = snapshot(index)
    ref_docs, ref_texts, ref_vectors = snapshot(reference)
    assert docs == ref_docs and texts == ref_texts
    for chunk_id, vector in ref_vectors.items():
        np.testing.assert_allclose(vectors[chunk_id], vector, atol=1e-5)
