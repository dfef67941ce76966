"""Distributed ingestion on Ray Data: the single-process pipeline's pieces, run as cluster stages.

    files --parse (CPU tasks)--> documents/*.parquet --incremental skip--> chunk (CPU tasks)
          --> chunks/*.parquet --embed (GPU actors, or CPU actors)--> vectors/*.parquet
          --> publish through IndexWriter (same manifest, content hashing, atomic generation)

Each stage is materialised as Parquet shards in a work folder before the next starts, so a stage gets
the whole cluster (no actor pool starving the tasks upstream) and its output can be inspected. The
folder must be reachable by every node (a shared file system) when the cluster has several.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute

from heprag.index.embedder import Embedder
from heprag.index.types import Chunk, Document
from heprag.index.vectors import IndexKind
from heprag.ingest.chunking import ChunkSettings
from heprag.ingest.discover import discover
from heprag.ingest.distributed.cluster import cluster_cpus, cluster_gpus, connect, import_ray
from heprag.ingest.distributed.ivf_build import SizedVectors
from heprag.ingest.distributed.stages import (
    EmbedActor,
    chunk_batch,
    chunk_from_row,
    document_rows,
    parse_file,
)
from heprag.ingest.pipeline import current_state, embedding_info, publish, select_changed
from heprag.ingest.report import FileFailure, IngestReport
from heprag.ingest.sources.base import ParseLimits

log = logging.getLogger(__name__)
DocKey = tuple[int, int]  # (file index in discovery order, document index within the file)
IO_CPUS = 0.25  # CPU share of a Parquet read or write task
KEY_COLUMNS = ["file_idx", "doc_idx", "doc_id", "content_hash", "path", "error"]


@dataclass(frozen=True)
class RayOptions:
    """How the job uses the cluster."""

    address: str | None = None  # None/"local": start a local cluster; "auto"; "ray://host:10001"
    num_cpus: int | None = None  # CPUs of a local cluster started here (None = all)
    workers: int = 0  # embedding actors without GPUs (0 = one per cluster CPU); with GPUs: one per GPU
    embed_batch_rows: int = 512  # chunks handed to an embedding actor at a time
    stream_above: int = 2_000_000  # vectors from which FAISS IVF-PQ is trained once and merged on disk
    work_dir: Path | None = None  # Parquet shards (default: <index>/.ray-work), removed after publishing
    keep_shards: bool = False


@dataclass(frozen=True)
class _Key:
    doc_id: str
    content_hash: str
    file_idx: int
    doc_idx: int


class RayIngestor:
    """The distributed twin of `Ingestor`: same inputs, same report, same published index."""

    def __init__(
        self,
        index_dir: Path,
        embedder: Embedder,
        chunking: ChunkSettings = ChunkSettings(),
        limits: ParseLimits = ParseLimits(),
        faiss_kind: IndexKind = "auto",
        options: RayOptions = RayOptions(),
        show_progress: bool = False,
    ) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self.chunking = chunking
        self.limits = limits
        self.faiss_kind = faiss_kind
        self.options = options
        self.show_progress = show_progress
        self.work = options.work_dir or index_dir / ".ray-work"

    # -- entry points --------------------------------------------------------------------------
    def ingest_paths(
        self, paths: Iterable[Path], include: Iterable[str] = (), exclude: Iterable[str] = ()
    ) -> IngestReport:
        report = IngestReport()
        rows: list[dict[str, Any]] = []
        for found in discover([Path(p) for p in paths], include, exclude):
            report.files_seen += 1
            if found.skipped or found.parser is None:
                if found.unsupported:
                    report.unsupported.append(str(found.path))
                report.skipped.append(FileFailure(path=str(found.path), reason=found.skipped or "no parser"))
            else:
                rows.append({"file_idx": len(rows), "path": str(found.path), "root": str(found.root)})
        return self._run(report, lambda ray: self._parse(ray, rows))

    def ingest_documents(
        self, documents: Iterable[Document], report: IngestReport | None = None
    ) -> IngestReport:
        rows = document_rows(list(documents))
        return self._run(report or IngestReport(), lambda ray: ray.data.from_items(rows) if rows else None)

    # -- stages --------------------------------------------------------------------------------
    def _run(self, report: IngestReport, make_documents: Any) -> IngestReport:
        started_cluster = connect(self.options.address, self.options.num_cpus)
        ray = import_ray()
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = self.show_progress
        shutil.rmtree(self.work, ignore_errors=True)
        try:
            t0 = time.perf_counter()
            documents = make_documents(ray)
            if documents is None:
                return report
            documents.write_parquet(str(self.work / "documents"))
            todo = self._select(ray, report)
            report.seconds["parse"] = round(time.perf_counter() - t0, 3)
            if todo:
                self._chunk_embed_publish(ray, todo, report)
            report.seconds["total"] = round(sum(report.seconds.values()), 3)
            return report
        finally:
            if not self.options.keep_shards:
                shutil.rmtree(self.work, ignore_errors=True)
            if started_cluster:
                ray.shutdown()

    def _parse(self, ray: Any, rows: list[dict[str, Any]]) -> Any:
        if not rows:
            return None
        files = ray.data.from_items(rows, override_num_blocks=min(len(rows), 10_000))
        return files.flat_map(parse_file, fn_kwargs={"limits": self.limits})

    def _select(self, ray: Any, report: IngestReport) -> set[DocKey]:
        """Failures into the report, unchanged documents skipped: the (file, doc) keys left to index."""
        table = ray.data.read_parquet(str(self.work / "documents"), columns=KEY_COLUMNS).to_arrow_refs()
        keys: list[_Key] = []
        parsed: set[int] = set()
        for ref in table:
            for row in ray.get(ref).to_pylist():
                if row["error"]:
                    report.failed.append(FileFailure(path=row["path"], reason=row["error"]))
                else:
                    parsed.add(row["file_idx"])
                    keys.append(_Key(row["doc_id"], row["content_hash"], row["file_idx"], row["doc_idx"]))
        keys.sort(key=lambda k: (k.file_idx, k.doc_idx))
        report.files_parsed = len(parsed) if report.files_seen else 0
        todo = select_changed(keys, current_state(self.index_dir), self.chunking.key(), report)
        return {(k.file_idx, k.doc_idx) for k in todo.values()}

    def _chunk_embed_publish(self, ray: Any, keep: set[DocKey], report: IngestReport) -> None:
        t0 = time.perf_counter()
        wanted = self._wanted_documents(ray, keep)
        wanted.map_batches(
            chunk_batch,
            fn_kwargs={"model": self.embedder.model_name, "settings": self.chunking},
            batch_size=8,
            batch_format="numpy",
        ).write_parquet(str(self.work / "chunks"))
        report.seconds["chunk"] = round(time.perf_counter() - t0, 3)
        if _has_shards(self.work / "chunks"):
            self._embed(ray, report)
        self._publish(ray, keep, report)

    def _embed(self, ray: Any, report: IngestReport) -> None:
        t0 = time.perf_counter()
        # materialised first: the actor pool must not hold the cores the Parquet listing/reading tasks need
        chunks = ray.data.read_parquet(str(self.work / "chunks")).materialize()
        gpus = cluster_gpus()
        actors = gpus or self.options.workers or cluster_cpus()
        # at least one block per actor, else actors idle (a small run is often one Parquet file); this
        # is materialised too, as the all-to-all repartition needs whole cores that the actors would hold
        blocks = max(actors, -(-chunks.count() // self.options.embed_batch_rows))
        chunks = chunks.repartition(blocks).materialize()
        # CPU actors take one core each but leave room for the read/write tasks around them
        actor_cpus = 1.0 if gpus else min(1.0, (cluster_cpus() - IO_CPUS * 2) / actors)
        cache = self.embedder.cache
        chunks.map_batches(
            EmbedActor,
            fn_constructor_kwargs={
                "model": self.embedder.model_name,
                "device": "cuda" if gpus else "cpu",
                "batch_size": self.embedder.batch_size,
                "cache_dir": str(cache.path.parent) if cache else None,
                "document_prompt": self.embedder.document_prompt,
                "backend": self.embedder.backend,
                "backend_dir": str(self.embedder.backend_dir),
                "threads": 0 if gpus else 1,
            },
            batch_size=self.options.embed_batch_rows,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_gpus=1 if gpus else 0,
            num_cpus=actor_cpus,
        ).write_parquet(str(self.work / "vectors"), ray_remote_args={"num_cpus": IO_CPUS})
        report.seconds["embed"] = round(time.perf_counter() - t0, 3)
        log.info("embedded on %d %s actors", actors, "GPU" if gpus else "CPU")

    def _publish(self, ray: Any, keep: set[DocKey], report: IngestReport) -> None:
        """Stream the sorted documents and their chunks + vectors into the next generation."""
        t0 = time.perf_counter()
        info = embedding_info(self.embedder)
        vectors = (
            ray.data.read_parquet(str(self.work / "vectors")) if _has_shards(self.work / "vectors") else None
        )
        computed: list[int] = []
        groups = _chunk_groups(vectors, info.dim, computed)
        items = _join(self._documents_in_order(ray, keep), groups, info.dim)
        builder = SizedVectors(info.dim, self.options.stream_above, self.faiss_kind)
        state = current_state(self.index_dir)
        publish(self.index_dir, info, self.chunking, items, state, report, self.faiss_kind, builder)
        report.chunks_embedded = sum(computed)
        report.seconds["write"] = round(time.perf_counter() - t0, 3)

    def _wanted_documents(self, ray: Any, keep: set[DocKey]) -> Any:
        documents = ray.data.read_parquet(str(self.work / "documents"))
        return documents.filter(lambda row: (row["file_idx"], row["doc_idx"]) in keep)

    def _documents_in_order(self, ray: Any, keep: set[DocKey]) -> Iterator[tuple[DocKey, Document]]:
        ordered = self._wanted_documents(ray, keep).sort(["file_idx", "doc_idx"])
        for batch in ordered.iter_batches(batch_format="pyarrow", batch_size=256):
            for row in batch.select(["file_idx", "doc_idx", "doc_json"]).to_pylist():
                yield (row["file_idx"], row["doc_idx"]), Document.model_validate_json(row["doc_json"])


def _has_shards(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.parquet"))


def _chunk_groups(
    vectors: Any, dim: int, computed: list[int]
) -> Iterator[tuple[DocKey, list[Chunk], np.ndarray]]:
    """Chunks with their vectors, grouped per document, in (file, doc, ordinal) order.

    `computed` collects, per batch, how many vectors were embedded rather than read from the cache.
    """
    key: DocKey | None = None
    chunks: list[Chunk] = []
    parts: list[np.ndarray] = []
    if vectors is None:
        return
    for batch in vectors.sort(["file_idx", "doc_idx", "ordinal"]).iter_batches(batch_format="pyarrow"):
        matrix = batch.column("vector").combine_chunks().flatten().to_numpy().reshape(-1, dim)
        rows = batch.select(["file_idx", "doc_idx", "chunk_json", "text"]).to_pylist()
        computed.append(int(pa.compute.sum(batch.column("embedded")).as_py() or 0))
        for row, vector in zip(rows, matrix, strict=True):
            row_key = (row["file_idx"], row["doc_idx"])
            if key is not None and row_key != key:
                yield key, chunks, np.stack(parts)
                chunks, parts = [], []
            key = row_key
            chunks.append(chunk_from_row(row["chunk_json"], row["text"]))
            parts.append(vector)
    if key is not None:
        yield key, chunks, np.stack(parts)


def _join(
    documents: Iterator[tuple[DocKey, Document]],
    groups: Iterator[tuple[DocKey, list[Chunk], np.ndarray]],
    dim: int,
) -> Iterator[tuple[Document, list[Chunk], np.ndarray]]:
    """Merge-join of two streams sorted by (file, doc): a document without chunks gets none."""
    pending = next(groups, None)
    for key, doc in documents:
        while pending is not None and pending[0] < key:
            pending = next(groups, None)
        if pending is not None and pending[0] == key:
            yield doc, pending[1], pending[2]
            pending = next(groups, None)
        else:
            yield doc, [], np.zeros((0, dim), dtype=np.float32)
