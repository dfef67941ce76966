"""The ingestion pipeline: discover -> parse -> chunk -> embed (cached) -> publish a new index generation."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
from heprag.index.embedder import Embedder
from heprag.index.errors import HepragError
from heprag.index.manifest import EmbeddingInfo
from heprag.index.metadata import MetadataStore
from heprag.index.store import IndexWriter, current_generation
from heprag.index.types import Chunk, Document
from heprag.index.vectors import IndexKind
from heprag.ingest.chunking import ChunkSettings, chunk_document
from heprag.ingest.discover import discover
from heprag.ingest.report import FileFailure, IngestReport
from heprag.ingest.sources.base import ParseLimits

log = logging.getLogger(__name__)
ARXIV_DOC = re.compile(r"^arXiv:(?P<base>.+?)v(?P<version>\d+)$")


def _progress(enabled: bool) -> Any:
    if not enabled:
        return nullcontext(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
    )


class Ingestor:
    """Turns files or Documents into a published index generation; one bad document never stops a run."""

    def __init__(
        self,
        index_dir: Path,
        embedder: Embedder,
        chunking: ChunkSettings = ChunkSettings(),
        limits: ParseLimits = ParseLimits(),
        faiss_kind: IndexKind = "auto",
        show_progress: bool = True,
    ) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self.chunking = chunking
        self.limits = limits
        self.faiss_kind = faiss_kind
        self.show_progress = show_progress

    def ingest_paths(
        self, paths: Iterable[Path], include: Iterable[str] = (), exclude: Iterable[str] = ()
    ) -> IngestReport:
        report = IngestReport()
        started = time.perf_counter()
        files = list(discover([Path(p) for p in paths], include, exclude))
        documents: list[Document] = []
        with _progress(self.show_progress) as bar:
            task = bar.add_task("Parsing", total=len(files)) if bar else None
            for path, parser in files:
                report.files_seen += 1
                if parser is None:
                    report.unsupported.append(str(path))
                else:
                    documents.extend(self._parse(path, parser, report))
                if bar:
                    bar.advance(task)
        report.seconds["parse"] = round(time.perf_counter() - started, 3)
        return self.ingest_documents(documents, report)

    def _parse(self, path: Path, parser: Any, report: IngestReport) -> list[Document]:
        try:
            docs = list(parser.parse(path, self.limits))
        except HepragError as exc:
            log.warning("skipped %s: %s", path, exc)
            report.failed.append(FileFailure(path=str(path), reason=str(exc)))
            return []
        except Exception as exc:  # a parser bug must not abort the batch
            log.exception("unexpected error parsing %s", path)
            report.failed.append(
                FileFailure(path=str(path), reason=f"unexpected {type(exc).__name__}: {exc}")
            )
            return []
        report.files_parsed += 1
        return docs

    def ingest_documents(
        self, documents: Iterable[Document], report: IngestReport | None = None
    ) -> IngestReport:
        """Chunk, embed and publish the documents that are new or changed."""
        report = report or IngestReport()
        settings_key = self.chunking.key()
        state = self._current_state()
        todo: dict[str, Document] = {}
        for doc in documents:
            if state.get(doc.doc_id) == (doc.content_hash, settings_key):
                report.unchanged.append(doc.doc_id)
            else:
                todo[doc.doc_id] = doc  # a later duplicate id wins
        if not todo:
            report.seconds["total"] = report.seconds.get("parse", 0.0)
            return report
        t0 = time.perf_counter()
        chunked = {
            doc_id: chunk_document(doc, self.embedder.count_tokens, self.chunking)
            for doc_id, doc in todo.items()
        }
        all_chunks = [c for chunks in chunked.values() for c in chunks]
        report.seconds["chunk"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        vectors = self._embed(all_chunks)
        report.chunks_embedded = self.embedder.embedded_count
        report.seconds["embed"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        self._publish(todo, chunked, vectors, state, report)
        report.seconds["write"] = round(time.perf_counter() - t0, 3)
        report.seconds["total"] = round(sum(report.seconds.values()), 3)
        return report

    def _current_state(self) -> dict[str, tuple[str, str]]:
        gen = current_generation(self.index_dir) if self.index_dir.exists() else None
        if gen is None:
            return {}
        store = MetadataStore(gen / "metadata.sqlite", readonly=True)
        try:
            return store.document_state()
        finally:
            store.close()

    def _embed(self, chunks: list[Chunk]) -> np.ndarray:
        with _progress(self.show_progress) as bar:
            task = bar.add_task("Embedding", total=len(chunks)) if bar else None

            def advance(done: int, total: int) -> None:
                if bar:
                    bar.update(task, total=total, completed=done)

            vectors = self.embedder.embed_documents([c.text for c in chunks], on_progress=advance)
            if bar:
                bar.update(task, total=len(chunks), completed=len(chunks))
        return vectors

    def _publish(
        self,
        todo: dict[str, Document],
        chunked: dict[str, list[Chunk]],
        vectors: np.ndarray,
        state: dict[str, tuple[str, str]],
        report: IngestReport,
    ) -> None:
        info = EmbeddingInfo(
            model=self.embedder.model_name,
            model_id=self.embedder.model_id,
            dim=self.embedder.dim,
            max_tokens=self.embedder.max_tokens,
        )
        chunking: dict[str, int | str | float] = {
            **self.chunking.__dict__,
            "tokenizer": self.embedder.model_name,
        }
        writer = IndexWriter(self.index_dir, info, chunking)
        try:
            offset = 0
            existing = set(writer.meta.document_state())
            for doc_id, doc in todo.items():
                chunks = chunked[doc_id]
                part = vectors[offset : offset + len(chunks)]
                offset += len(chunks)
                if _superseded_by_newer(doc_id, existing):
                    report.unchanged.append(doc_id)
                    continue
                for older in _older_versions(doc_id, existing):
                    writer.meta.delete(older)
                    existing.discard(older)
                    report.removed.append(older)
                writer.meta.upsert(doc, chunks, part, self.chunking.key())
                (report.updated if doc_id in state else report.added).append(doc_id)
                existing.add(doc_id)
                report.chunks_written += len(chunks)
            report.generation = writer.publish(self.faiss_kind).name
        except BaseException:
            writer.abort()
            raise


def _versions(doc_id: str, existing: set[str]) -> list[tuple[int, str]]:
    match = ARXIV_DOC.match(doc_id)
    if not match:
        return []
    prefix = f"arXiv:{match.group('base')}v"
    versions = [other[len(prefix) :] for other in existing if other.startswith(prefix) and other != doc_id]
    return [(int(v), prefix + v) for v in versions if v.isdigit()]


def _older_versions(doc_id: str, existing: set[str]) -> list[str]:
    match = ARXIV_DOC.match(doc_id)
    version = int(match.group("version")) if match else 0
    return [other for v, other in _versions(doc_id, existing) if v < version]


def _superseded_by_newer(doc_id: str, existing: set[str]) -> bool:
    match = ARXIV_DOC.match(doc_id)
    version = int(match.group("version")) if match else 0
    return any(v > version for v, _ in _versions(doc_id, existing))
