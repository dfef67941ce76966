"""FAISS vector index: exact inner product below a size threshold, IVF / IVF-PQ above, ids = chunk rows.

IVF kinds train and fill on the GPUs when faiss sees any (faiss-gpu, the `gpu` extra) and are saved in
their CPU form, so an index built on a GPU machine loads anywhere.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np

log = logging.getLogger(__name__)

IndexKind = Literal["auto", "flat", "hnsw", "ivf", "ivfpq"]


def choose_kind(n_vectors: int, requested: IndexKind = "auto") -> str:
    """Flat (exact) for small corpora, IVF-Flat for medium, IVF-PQ for millions.

    IVF rather than HNSW for the middle range: at 1 M synthetic 384-d vectors IVF (nprobe 16) kept
    0.88 recall@10 where HNSW (M 32, efSearch 128) fell to 0.22 (docs/benchmarks.md, section 3).
    """
    if requested != "auto":
        return requested
    if n_vectors < 200_000:
        return "flat"
    if n_vectors < 2_000_000:
        return "ivf"
    return "ivfpq"


def _faiss() -> Any:
    """The faiss module, untyped: its bundled stubs lack parts of the runtime API (SearchParametersHNSW)."""
    import faiss

    return faiss


def ivf_lists(n_vectors: int) -> int:
    """sqrt(N) inverted lists: at the bottom of FAISS' 4·sqrt(N)..16·sqrt(N) advice, because on a
    2-core CPU the k-means training and list assignment (∝ N · lists) dominate the build, and fewer,
    longer lists give more recall per probe (benchmarks/recall_real.py)."""
    return max(16, int(np.sqrt(max(n_vectors, 1))))


def gpu_count() -> int:
    """GPUs faiss can use (0 with faiss-cpu)."""
    faiss = _faiss()

    return int(getattr(faiss, "get_num_gpus", lambda: 0)())


def builds_on_gpu(kind: str, gpus: int) -> bool:
    """IVF k-means and list assignment gain from a GPU; a Flat build is a copy, HNSW has no GPU form."""
    return gpus > 0 and kind in {"ivf", "ivfpq"}


def _on_gpus(index: Any, kind: str) -> Any:
    faiss = _faiss()

    options = faiss.GpuMultipleClonerOptions()
    options.useFloat16 = kind == "ivfpq"  # fp16 lookup tables (48 sub-quantizers); IVF-Flat stays fp32
    return faiss.index_cpu_to_all_gpus(index, co=options)


class VectorIndex:
    """A FAISS index whose ids are chunk row ids, searched by inner product on normalised vectors."""

    def __init__(self, index: Any, kind: str) -> None:
        self.index = index  # a faiss index (faiss is untyped for mypy: its stubs are partial)
        self.kind = kind

    @classmethod
    def build(
        cls, ids: np.ndarray, vectors: np.ndarray, dim: int, kind: IndexKind = "auto", gpu: bool | None = None
    ) -> VectorIndex:
        """`gpu`: None builds on the GPUs when faiss has any and the kind gains from it."""
        faiss = _faiss()

        chosen = choose_kind(len(ids), kind)
        base: Any
        if chosen == "flat":
            base = faiss.IndexFlatIP(dim)
        elif chosen == "hnsw":
            base = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = 80
        else:
            nlist = ivf_lists(len(ids))
            quantizer = faiss.IndexFlatIP(dim)
            if chosen == "ivf":
                base = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            else:
                base = faiss.IndexIVFPQ(quantizer, dim, nlist, dim // 8, 8, faiss.METRIC_INNER_PRODUCT)
        index: Any = faiss.IndexIDMap2(base)
        on_gpu = builds_on_gpu(chosen, gpu_count()) if gpu is None else gpu
        if on_gpu:
            log.info("building the %s index on %d GPU(s)", chosen, gpu_count())
            index = _on_gpus(index, chosen)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if chosen in {"ivf", "ivfpq"}:  # k-means on 64 points per list is enough and bounds the cost
            step = max(1, len(vectors) // (64 * base.nlist))
            index.train(np.ascontiguousarray(vectors[::step]))
        if len(ids):
            index.add_with_ids(vectors, ids.astype(np.int64))
        return cls(faiss.index_gpu_to_cpu(index) if on_gpu else index, chosen)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def search(
        self,
        query: np.ndarray,
        k: int,
        allowed: set[int] | None = None,
        nprobe: int = 64,
        ef_search: int = 128,
        excluded: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the `k` nearest chunks, restricted to `allowed` ids and without `excluded` ones.

        Scores are exact cosines for flat/HNSW/IVF-Flat and PQ approximations for IVF-PQ (re-rank those).
        """
        faiss = _faiss()

        if allowed is not None and excluded is not None and len(excluded):
            allowed = allowed - set(excluded.tolist())
        if self.ntotal == 0 or k <= 0 or (allowed is not None and not allowed):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = faiss.SearchParameters()
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=ef_search)
        elif self.kind in {"ivf", "ivfpq"}:
            params = faiss.SearchParametersIVF(nprobe=nprobe)
        if allowed is not None:
            params.sel = faiss.IDSelectorBatch(np.fromiter(allowed, dtype=np.int64))
        elif excluded is not None and len(excluded):
            inner = faiss.IDSelectorBatch(excluded.astype(np.int64))  # alive until the search returns
            params.sel = faiss.IDSelectorNot(inner)
        # One query is faster on one thread: OpenMP's spin-waiting costs more than it saves
        # (4.6x on the 2-core CI machine under load, benchmarks/search_scale.py).
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            scores, ids = self.index.search(
                query.reshape(1, -1).astype(np.float32), min(k, self.ntotal), params=params
            )
        finally:
            faiss.omp_set_num_threads(threads)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        faiss = _faiss()

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str, mmap: bool = True) -> VectorIndex:
        faiss = _faiss()

        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        if path.with_suffix(".ivfdata").exists():  # on-disk IVF lists (ingest.distributed), mmapped by FAISS
            flags = faiss.IO_FLAG_ONDISK_SAME_DIR  # found beside the index wherever it moved; MMAP crashes
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError:  # some index types cannot be memory-mapped
            index = faiss.read_index(str(path))
        return cls(index, kind)
