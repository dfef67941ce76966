"""IVF indexes build on the GPU when faiss has one and are saved in a form any machine loads."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from heprag.index.vectors import VectorIndex, builds_on_gpu, gpu_count


def clustered(n: int, dim: int = 384, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((64, dim)).astype(np.float32)
    x = centres[rng.integers(0, 64, n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_only_ivf_kinds_build_on_a_gpu_and_only_when_there_is_one() -> None:
    assert not builds_on_gpu("ivf", 0)
    assert builds_on_gpu("ivf", 1) and builds_on_gpu("ivfpq", 4)
    assert not builds_on_gpu("flat", 2)  # adding to Flat is a copy
    assert not builds_on_gpu("hnsw", 2)  # no GPU form


@pytest.mark.skipif(gpu_count() > 0, reason="checks the CPU fallback")
def test_without_a_gpu_the_ivf_build_stays_on_cpu() -> None:
    import faiss

    vectors = clustered(4000)
    index = VectorIndex.build(np.arange(4000, dtype=np.int64) * 3, vectors, 384, "ivf")
    assert isinstance(faiss.downcast_index(faiss.extract_index_ivf(index.index)), faiss.IndexIVFFlat)
    assert index.ntotal == 4000


@pytest.mark.skipif(gpu_count() == 0, reason="needs faiss-gpu and a GPU")
@pytest.mark.parametrize("kind", ["ivf", "ivfpq"])
def test_a_gpu_build_is_saved_in_cpu_form_with_its_ids(kind: Literal["ivf", "ivfpq"], tmp_path: Path) -> None:
    import faiss

    n = 20_000
    vectors, ids = clustered(n), np.arange(n, dtype=np.int64) * 7 + 5
    built = VectorIndex.build(ids, vectors, 384, kind, gpu=True)
    built.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", kind, mmap=False)
    inner = faiss.downcast_index(faiss.extract_index_ivf(loaded.index))
    assert isinstance(inner, faiss.IndexIVFFlat if kind == "ivf" else faiss.IndexIVFPQ)
    exact = VectorIndex.build(ids, vectors, 384, "flat")
    hits = []
    for q in vectors[:50]:
        found, _ = loaded.search(q, 10, nprobe=32)
        truth, _ = exact.search(q, 10)
        assert set(found) <= set(ids)
        hits.append(len(set(found) & set(truth)) / 10)
    assert np.mean(hits) >= (0.9 if kind == "ivf" else 0.3)
