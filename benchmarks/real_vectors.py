"""Real MiniLM vectors for the recall benchmark, embedded once and cached outside the repository.

    python benchmarks/real_vectors.py [--corpus ../shared/corpus] [--cache ~/.cache/heprag-bench]

Base passages: every SciFact abstract sentence and title (5,183 biomedical abstracts), and every HEP
abstract (1,000 INSPIRE + 408 arXiv hep-th 2026) as a whole and sentence by sentence. Queries: the 809
SciFact claims and the 1,408 HEP titles, none of which is a base passage; 32,000 base passages by
default (HEP first). Sentences rather than 250-token
chunks because the embedder costs per token (≈ 50 short sentences/s vs ≈ 15 chunks/s on this 2-core box);
the vectors are real MiniLM embeddings of real scientific text either way. Embedding is resumable: every
slice is appended to a part file.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
CACHE = Path("~/.cache/heprag-bench").expanduser()


def texts(corpus: Path, limit: int = 32_000) -> tuple[list[str], list[str]]:
    """(base passages, queries), deduplicated, in a fixed order: HEP first, then SciFact up to `limit`."""
    base: list[str] = []
    queries = [json.loads(line)["text"] for line in (corpus / "scifact/queries_train.jsonl").open()]
    for name in ("inspire_magpie/hep_abstracts.jsonl", "arxiv_hepth_2026/hepth_2026.jsonl"):
        for line in (corpus / "abstracts" / name).open():
            record = json.loads(line)
            abstract = " ".join(record["abstract"].split())
            base.append(abstract)
            base.extend(s for s in SENTENCE.split(abstract) if len(s) > 20)
            queries.append(record["title"])
    for line in (corpus / "scifact/corpus.jsonl").open():
        record = json.loads(line)
        base.append(record["title"])
        base.extend(s for s in record["abstract"] if len(s) > 20)
    base = list(dict.fromkeys(base))[:limit]
    seen = set(base)
    return base, [q for q in dict.fromkeys(queries) if q not in seen]


def load_or_embed(corpus: Path, cache: Path = CACHE, slice_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(base vectors, query vectors), float32 and normalised, from the cache or embedded now."""
    base_path, query_path = cache / "real_minilm_base.npy", cache / "real_minilm_queries.npy"
    if base_path.exists() and query_path.exists():
        return np.load(base_path), np.load(query_path)
    from heprag.index.embedder import Embedder

    cache.mkdir(parents=True, exist_ok=True)
    base, queries = texts(corpus)
    all_texts = queries + base
    embedder = Embedder(device="cpu", batch_size=64)
    part = cache / "real_minilm.part.npy"
    done = np.load(part) if part.exists() else np.zeros((0, embedder.dim), dtype=np.float32)
    started, resumed = time.perf_counter(), len(done)
    for start in range(len(done), len(all_texts), slice_size):
        vectors = embedder._encode(all_texts[start : start + slice_size])
        done = np.concatenate([done, vectors.astype(np.float32)])
        np.save(part, done)
        rate = (len(done) - resumed) / max(time.perf_counter() - started, 1e-9)
        print(f"{len(done)}/{len(all_texts)} embedded ({rate:.0f}/s)", flush=True)
    np.save(query_path, done[: len(queries)])
    np.save(base_path, done[len(queries) :])
    part.unlink()
    return np.load(base_path), np.load(query_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).parents[1] / "../shared/corpus")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    base, queries = texts(args.corpus)
    print(f"{len(base)} base passages, {len(queries)} queries")
    vectors, query_vectors = load_or_embed(args.corpus, args.cache)
    print(f"cached: base {vectors.shape}, queries {query_vectors.shape} in {args.cache}")


if __name__ == "__main__":
    main()
