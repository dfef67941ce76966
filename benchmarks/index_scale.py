"""Adding 1,000 documents to, and searching, segmented indexes of 10^5, 10^6 (10^7) passages.

    nice -n 10 python benchmarks/index_scale.py [--sizes 100000,1000000] [--work DIR] [--queries 100]

Synthetic passages (40 words drawn from a Zipf-like distribution over 50,000 consonant words that the BM25
tokenizer keeps verbatim) and a fast deterministic embedder (every word has a fixed random 384-d vector, a
passage's vector is the normalised mean of its words'), so the embedding model is not what is measured.
The base corpus is written in bulk as one segment: SQLite rows with their vectors, FAISS chosen by size
as `heprag ingest` chooses it, and BM25 arrays computed with numpy exactly as bm25s computes them (checked
against bm25s on 2,000 passages at start). Then 1,000 documents of 10 passages are added through
`heprag.ingest.pipeline.publish`, the path `heprag ingest` takes after embedding, and a fresh reader
process measures hybrid search (dense + BM25 + RRF + chunk fetch): p50/p95 over `--queries` queries of 3
words, its RSS, and dense recall@10 against exact search. Wall times on a shared 2-core box depend on the
other jobs, so the CPU time of the process (`time.process_time`) is printed beside them. Bytes written
are the process's write_bytes from /proc/self/io: what reached the disk (fsync makes it immediate).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from heprag.index.keyword import KeywordIndex, _bm25s, tokenize
from heprag.index.manifest import EmbeddingInfo
from heprag.index.store import CorpusIndex, IndexWriter
from heprag.index.types import Chunk, Document
from heprag.index.vectors import VectorIndex

DIM, WORDS, LENGTH, PER_DOC = 384, 50_000, 40, 10
INFO = EmbeddingInfo(model="synthetic", model_id="synthetic-hash-384", dim=DIM, max_tokens=256)
CHUNKING: dict[str, int | str | float] = {"max_tokens": 256, "tokenizer": "synthetic"}
LETTERS = np.array(list("bcdfghjklmnpqrtvwxz"))  # no vowels, no s/y: the stemmer leaves the words alone


class Synthetic:
    """The vocabulary, its word vectors, and passage generation; deterministic for a seed."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        words: dict[str, None] = {}
        while len(words) < WORDS:
            words["".join(rng.choice(LETTERS, int(rng.integers(4, 8))))] = None
        self.words = np.array(list(words), dtype=object)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.vectors = rng.normal(size=(WORDS, DIM)).astype(np.float32)
        weights = 1.0 / (np.arange(WORDS) + 20.0) ** 1.05
        self.cdf = np.cumsum(weights / weights.sum())

    def tokens(self, n: int, seed: int) -> np.ndarray:
        draws = np.random.default_rng(seed).random((n, LENGTH))
        return np.minimum(np.searchsorted(self.cdf, draws), WORDS - 1).astype(np.int32)

    def texts(self, tokens: np.ndarray) -> list[str]:
        return [" ".join(row) for row in self.words[tokens]]

    def embed(self, tokens: np.ndarray) -> np.ndarray:
        out = np.empty((len(tokens), DIM), dtype=np.float32)
        for start in range(0, len(tokens), 4096):
            part = self.vectors[tokens[start : start + 4096]].sum(axis=1)
            out[start : start + 4096] = part / np.linalg.norm(part, axis=1, keepdims=True)
        return out

    def embed_query(self, text: str) -> np.ndarray:  # the Embedder interface HybridRetriever uses
        ids = [self.index[w] for w in text.split() if w in self.index]
        return self.embed(np.asarray([ids], dtype=np.int32))[0]


def bulk_bm25(tokens: np.ndarray, ids: np.ndarray, words: np.ndarray) -> KeywordIndex:
    """bm25s' Lucene BM25 (k1 1.5, b 0.75) for fixed-length passages of word ids, built with numpy."""
    n, length = tokens.shape
    flat = np.sort(tokens, axis=1).ravel()
    row = np.repeat(np.arange(n, dtype=np.int64), length)
    new = np.ones(len(flat), dtype=bool)
    new[1:] = (flat[1:] != flat[:-1]) | (row[1:] != row[:-1])
    starts = np.flatnonzero(new)
    term, doc = flat[starts], row[starts]
    tf = np.diff(np.append(starts, len(flat))).astype(np.float32)
    del flat, row, new, starts
    df = np.bincount(term, minlength=len(words)).astype(np.float64)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    k1, b = 1.5, 0.75  # every passage has the same length, so dl / avgdl = 1
    score = idf[term] * (tf / (k1 * ((1 - b) + b) + tf))
    order = np.argsort(term, kind="stable")
    retriever = _bm25s().BM25()
    retriever.scores = {
        "data": score[order].astype(np.float32),
        "indices": doc[order].astype(np.int32),
        "indptr": np.concatenate([[0], np.cumsum(df.astype(np.int64))]).astype(np.int64),
        "num_docs": n,
    }
    retriever.vocab_dict = {str(w): i for i, w in enumerate(words)}
    retriever.nonoccurrence_array = None  # Lucene BM25 has none
    return KeywordIndex(retriever, ids)


def check_bulk_bm25(syn: Synthetic) -> None:
    tokens = syn.tokens(2000, seed=99)
    ids = np.arange(2000, dtype=np.int64)
    ours, theirs = bulk_bm25(tokens, ids, syn.words), KeywordIndex.build(syn.texts(tokens), ids)
    for query in syn.texts(syn.tokens(20, seed=98)[:, :3]):
        a, b = ours.search(query, 10), theirs.search(query, 10)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-4)


def _document_row(d: int) -> tuple[object, ...]:
    body = json.dumps({"doc_id": f"base:{d}", "title": f"base {d}", "content_hash": f"h{d}"})
    return (f"base:{d}", f"h{d}", "s", "synthetic", "paper", 2026, None, "[]", f"base {d}", body)


def _chunk_row(row: int, text: str, vector: np.ndarray) -> tuple[object, ...]:
    doc_id, ordinal = f"base:{(row - 1) // PER_DOC}", (row - 1) % PER_DOC
    body = json.dumps({"chunk_id": f"{doc_id}#{ordinal}", "doc_id": doc_id, "ordinal": ordinal})
    return (row, f"{doc_id}#{ordinal}", doc_id, ordinal, text, body, vector.tobytes())


def build_base(index: Path, n: int, syn: Synthetic) -> dict[str, float]:
    """One bulk segment of `n` passages (documents of PER_DOC passages)."""
    started = time.perf_counter()
    writer = IndexWriter(index, INFO, CHUNKING)
    db = writer.store.db
    db.execute("PRAGMA synchronous=OFF")
    all_ids, all_vectors, all_tokens = [], [], []
    for start in range(0, n, 100_000):
        count = min(100_000, n - start)
        tokens = syn.tokens(count, seed=start)
        vectors = syn.embed(tokens)
        texts = syn.texts(tokens)
        rows = np.arange(start + 1, start + count + 1, dtype=np.int64)
        docs = sorted({(start + i) // PER_DOC for i in range(count)})
        db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)", [_document_row(d) for d in docs])
        db.executemany(
            "INSERT INTO chunks (id, chunk_id, doc_id, ordinal, text, body, vector) VALUES (?,?,?,?,?,?,?)",
            [_chunk_row(r, t, v) for r, t, v in zip(rows.tolist(), texts, vectors, strict=True)],
        )
        db.commit()
        all_ids.append(rows)
        all_vectors.append(vectors)
        all_tokens.append(tokens)
    writer.store.next_row = n + 1
    ids, vectors, tokens = np.concatenate(all_ids), np.concatenate(all_vectors), np.concatenate(all_tokens)
    del all_vectors, all_tokens
    rows_s = time.perf_counter() - started
    t0 = time.perf_counter()
    vector_index = VectorIndex.build(ids, vectors, DIM)
    faiss_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    keywords = bulk_bm25(tokens, ids, syn.words)
    bm25_s = time.perf_counter() - t0
    del vectors, tokens
    writer.publish(build_vectors=lambda meta, folder: vector_index, keywords=keywords)
    return {"base_s": time.perf_counter() - started, "rows_s": rows_s, "faiss_s": faiss_s, "bm25_s": bm25_s}


def write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def add_documents(index: Path, first_doc: int, docs: int, syn: Synthetic) -> dict[str, float]:
    """Add `docs` new documents through the ingest pipeline's publish step."""
    from heprag.ingest.chunking import ChunkSettings
    from heprag.ingest.pipeline import current_state, publish
    from heprag.ingest.report import IngestReport

    tokens = syn.tokens(docs * PER_DOC, seed=10_000_000 + first_doc)
    vectors, texts = syn.embed(tokens), syn.texts(tokens)

    def items() -> Iterator[tuple[Document, list[Chunk], np.ndarray]]:
        for d in range(docs):
            doc_id = f"new:{first_doc + d}"
            part = slice(d * PER_DOC, (d + 1) * PER_DOC)
            doc = Document(doc_id=doc_id, title=doc_id, content_hash=doc_id)
            chunks = [Chunk(chunk_id=f"{doc_id}#{i}", doc_id=doc_id, ordinal=i, text=t)
                      for i, t in enumerate(texts[part])]  # fmt: skip
            yield doc, chunks, vectors[part]

    before, t0, c0 = write_bytes(), time.perf_counter(), time.process_time()
    report = IngestReport()
    publish(index, INFO, ChunkSettings(), items(), current_state(index), report)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(report.added) == docs, report
    return {"add_s": seconds, "add_cpu_s": cpu, "add_bytes": write_bytes() - before}


def measure_search(index: Path, queries: int) -> dict[str, float]:
    """Run in a fresh process: hybrid search latency, RSS and dense recall@10 against exact search."""
    from heprag.index.retrieval import HybridRetriever

    syn = Synthetic()
    opened = CorpusIndex.open(index)
    retriever = HybridRetriever(opened, syn, candidates=50)  # type: ignore[arg-type]
    texts = syn.texts(syn.tokens(queries + 5, seed=7)[:, :3])
    for text in texts[:5]:
        retriever.search(text, 10)
    times, cpu = [], []
    for text in texts[5:]:
        t0, c0 = time.perf_counter(), time.process_time()
        hits = retriever.search(text, 10)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert hits
    status = Path("/proc/self/status").read_text()
    rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) * 1024
    recall = dense_recall(opened, syn, texts[5:25])
    return {
        "search_p50_ms": 1000 * float(np.percentile(times, 50)),
        "search_p95_ms": 1000 * float(np.percentile(times, 95)),
        "search_cpu_p50_ms": 1000 * float(np.percentile(cpu, 50)),
        "rss_bytes": rss,
        "dense_recall10": recall,
        "faiss_kind": opened.vectors.kind,  # type: ignore[dict-item]
        "segments": len(opened.segments),
    }


def dense_recall(opened: CorpusIndex, syn: Synthetic, texts: list[str]) -> float:
    """Recall@10 of the shipped dense search against brute force over every stored vector."""
    exact: list[set[int]] = [set() for _ in texts]
    queries = np.stack([syn.embed_query(t) for t in texts])
    best = [np.zeros(0, dtype=np.int64) for _ in texts]
    best_s = [np.zeros(0, dtype=np.float32) for _ in texts]
    for seg in opened.segments:
        last = 0
        while True:
            rows = seg.meta.db.execute(
                "SELECT id, vector FROM chunks WHERE id > ? ORDER BY id LIMIT 200000", (last,)
            ).fetchall()
            if not rows:
                break
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64)
            vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(-1, DIM)
            scores = queries @ vectors.T
            for q in range(len(texts)):
                cand_ids, cand_s = np.concatenate([best[q], ids]), np.concatenate([best_s[q], scores[q]])
                top = np.argsort(-cand_s)[:10]
                best[q], best_s[q] = cand_ids[top], cand_s[top]
            last = int(ids[-1])
    for q in range(len(texts)):
        exact[q] = set(best[q].tolist())
    found = [set(opened.vectors.search(queries[q], 10)[0].tolist()) for q in range(len(texts))]
    return sum(len(f & e) for f, e in zip(found, exact, strict=True)) / (10 * len(texts))


def disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_size(n: int, work: Path, queries: int) -> dict[str, float]:
    syn = Synthetic()
    index = work / f"idx-{n}"
    shutil.rmtree(index, ignore_errors=True)
    row: dict[str, float] = {"passages": n, **build_base(index, n, syn)}
    first = add_documents(index, 0, 1000, syn)
    second = add_documents(index, 1000, 1000, syn)  # a second batch: segments keep adding up
    row |= {"add_s": first["add_s"], "add_cpu_s": first["add_cpu_s"], "add_bytes": first["add_bytes"]}
    row |= {"add2_s": second["add_s"], "add2_bytes": second["add_bytes"]}
    done = subprocess.run(
        [sys.executable, __file__, "--search-only", str(index), "--queries", str(queries)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    row |= json.loads(done.stdout.strip().splitlines()[-1])
    row["disk_bytes"] = disk_bytes(index)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument(
        "--work", type=Path, default=None, help="where indexes are built (default: a temp dir)"
    )
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the indexes")
    parser.add_argument("--search-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.search_only:
        print(json.dumps(measure_search(args.search_only, args.queries)))
        return
    assert all(tokenize(w) == [w] for w in Synthetic().words[:2000])
    check_bulk_bm25(Synthetic())
    work = args.work or Path(tempfile.mkdtemp(prefix="heprag-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, work dir {work}")
    header = (
        "| passages | base build s | add 1,000 docs: wall s (CPU s) | bytes written | 2nd add s "
        "| search p50 ms (CPU) | p95 ms | dense recall@10 | reader RSS MB | disk MB | FAISS (base) |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for n in (int(s) for s in args.sizes.split(",")):
        r = run_size(n, work, args.queries)
        print(
            f"| {n:,} | {r['base_s']:.0f} | {r['add_s']:.1f} ({r['add_cpu_s']:.1f}) "
            f"| {r['add_bytes'] / 1e6:.1f} MB "
            f"| {r['add2_s']:.1f} | {r['search_p50_ms']:.1f} ({r['search_cpu_p50_ms']:.1f}) "
            f"| {r['search_p95_ms']:.1f} | {r['dense_recall10']:.3f} "
            f"| {r['rss_bytes'] / 1e6:.0f} | {r['disk_bytes'] / 1e6:.0f} | {r['faiss_kind']} |",
            flush=True,
        )
        print("<!-- " + json.dumps(r) + " -->", flush=True)
        if not args.keep:
            shutil.rmtree(work / f"idx-{n}", ignore_errors=True)


if __name__ == "__main__":
    main()
