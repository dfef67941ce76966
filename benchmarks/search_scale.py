"""FAISS index kinds at scale on synthetic 384-d vectors: build time, bytes/vector, recall@10, QPS.

    python benchmarks/search_scale.py [--sizes 100000,1000000] [--queries 1000] [--kinds flat,hnsw,ivf,ivfpq]

Vectors are clustered (a Gaussian mixture, normalised) so that IVF/PQ behave as on real embeddings
rather than on uniform noise. Recall@10 is measured against exact search; QPS single = one query
at a time, batched = all queries in one call. Uses heprag's own `VectorIndex.build` (the kinds and
parameters the product uses) and the search settings nprobe / efSearch given on the command line.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from heprag.index.vectors import VectorIndex

DIM = 384


def clustered_vectors(n: int, rng: np.random.Generator, clusters: int = 1000) -> np.ndarray:
    centres = rng.normal(size=(clusters, DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, clusters, n)] + 0.6 * rng.normal(size=(n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def measure(
    kind: str, base: np.ndarray, queries: np.ndarray, truth: np.ndarray, args: argparse.Namespace
) -> dict:
    import faiss

    ids = np.arange(len(base), dtype=np.int64)
    t0 = time.perf_counter()
    index = VectorIndex.build(ids, base, DIM, kind)  # type: ignore[arg-type]
    build = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.faiss"
        index.save(path)
        size = path.stat().st_size
    params = faiss.SearchParameters()
    if kind == "hnsw":
        params = faiss.SearchParametersHNSW(efSearch=args.ef_search)
    elif kind in {"ivf", "ivfpq"}:
        params = faiss.SearchParametersIVF(nprobe=args.nprobe)
    t0 = time.perf_counter()
    _, found = index.index.search(queries, 10, params=params)  # type: ignore[attr-defined]
    batched = len(queries) / (time.perf_counter() - t0)
    sample = queries[: min(200, len(queries))]
    t0 = time.perf_counter()
    for q in sample:
        index.search(q, 10, nprobe=args.nprobe, ef_search=args.ef_search)
    single = len(sample) / (time.perf_counter() - t0)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    return {
        "build_s": build,
        "bytes_per_vector": size / len(base),
        "recall10": recall,
        "qps_1": single,
        "qps_b": batched,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--kinds", default="flat,hnsw,ivf,ivfpq")
    parser.add_argument("--nprobe", type=int, default=16)
    parser.add_argument("--ef-search", type=int, default=128)
    args = parser.parse_args()
    import faiss

    rng = np.random.default_rng(0)
    threads = faiss.omp_get_max_threads()
    print(f"faiss {faiss.__version__}, {threads} threads, nprobe {args.nprobe}, efSearch {args.ef_search}")
    print("| vectors | kind | build (s) | bytes/vector | recall@10 | QPS single | QPS batched |")
    print("|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        base = clustered_vectors(n, rng)
        queries = clustered_vectors(args.queries, rng)
        exact = faiss.IndexFlatIP(DIM)
        exact.add(base)
        _, truth = exact.search(queries, 10)
        for kind in args.kinds.split(","):
            r = measure(kind, base, queries, truth, args)
            print(
                f"| {n:,} | {kind} | {r['build_s']:.1f} | {r['bytes_per_vector']:.0f} | {r['recall10']:.3f} "
                f"| {r['qps_1']:.0f} | {r['qps_b']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
