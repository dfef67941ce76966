"""The ingestion pipeline: discover -> parse -> chunk -> embed (cached) -> publish a new index generation."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from heprag.index.embedder import Embedder
from heprag.index.errors import HepragError
from heprag.index.faults import crash_point
from heprag.index.manifest import EmbeddingInfo
from heprag.index.segmented import SegmentedStore
from heprag.index.store import (
    IndexWriter,
    VectorBuilder,
    WriterStore,
    current_generation,
    open_segments,
    read_manifest,
)
from heprag.index.types import Chunk, Document
from heprag.index.vectors import IndexKind
from heprag.ingest.accounting import account_files
from heprag.ingest.chunking import ChunkSettings, chunk_document
from heprag.ingest.discover import DEFAULT_EXCLUDE, Found, discover
from heprag.ingest.identity import WEAK_PREFIXES, Representation, representations
from heprag.ingest.isolation import IsolatedParser
from heprag.ingest.merge import merge
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
        parse_timeout_s: float = 120.0,
        parse_memory_mb: int = 4096,
    ) -> None:
        self.parse_timeout_s = parse_timeout_s  # 0 parses in-process (no isolation)
        self.parse_memory_mb = parse_memory_mb
        self.index_dir = index_dir
        self.embedder = embedder
        self.chunking = chunking
        self.limits = limits
        self.faiss_kind = faiss_kind
        self.show_progress = show_progress

    def ingest_paths(
        self, paths: Iterable[Path], include: Iterable[str] = (), exclude: Iterable[str] = DEFAULT_EXCLUDE
    ) -> IngestReport:
        """Ingest files and folders; every file ends in the report as added, merged, unchanged,
        superseded, conflict, skipped or failed (with the reason)."""
        report = IngestReport()
        started = time.perf_counter()
        files = list(discover([Path(p) for p in paths], include, exclude))
        reps: list[Representation] = []
        isolated = (
            IsolatedParser(self.limits, self.parse_timeout_s, self.parse_memory_mb)
            if self.parse_timeout_s
            else None
        )
        with _progress(self.show_progress) as bar, isolated or nullcontext():
            task = bar.add_task("Parsing", total=len(files)) if bar else None
            for found in files:
                report.files_seen += 1
                reps += self._read(found, report, isolated, len(reps))
                if bar:
                    bar.advance(task)
        merged = merge(reps)
        report.conflicts = merged.conflicts
        report.seconds["parse"] = round(time.perf_counter() - started, 3)
        crash_point("after-parse")
        self.ingest_documents(merged.documents, report)
        account_files(report, [str(f.path.resolve()) for f in files], merged.placed)
        return report

    def _read(
        self, found: Found, report: IngestReport, isolated: IsolatedParser | None, order: int
    ) -> list[Representation]:
        if found.skipped or found.parser is None:
            if found.unsupported:
                report.unsupported.append(str(found.path))
            report.skipped.append(FileFailure(path=str(found.path), reason=found.skipped or "no parser"))
            return []
        docs = self._parse(found.path, found.parser, report, isolated)
        return representations(found, docs, order) if docs else []

    def _parse(
        self, path: Path, parser: Any, report: IngestReport, isolated: IsolatedParser | None
    ) -> list[Document]:
        try:
            docs = isolated.parse(path) if isolated else list(parser.parse(path, self.limits))
        except HepragError as exc:
            log.info("skipped %s: %s", path, exc)  # the report lists it; callers show it once
            report.failed.append(FileFailure(path=str(path), reason=str(exc)))
            return []
        except Exception as exc:  # a parser bug must not abort the batch
            log.exception("unexpected error parsing %s", path)
            report.failed.append(
                FileFailure(path=str(path), reason=f"unexpected {type(exc).__name__}: {exc}")
            )
            return []
        report.files_parsed += 1
        report.warnings += [FileFailure(path=str(path), reason=w) for doc in docs for w in doc.warnings]
        return docs

    def ingest_documents(
        self, documents: Iterable[Document], report: IngestReport | None = None
    ) -> IngestReport:
        """Chunk, embed and publish the documents that are new or changed."""
        report = report or IngestReport()
        state = current_state(self.index_dir)
        todo = select_changed(documents, state, self.chunking.key(), report)
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

    def _embed(self, chunks: list[Chunk]) -> np.ndarray:
        with _progress(self.show_progress) as bar:
            task = bar.add_task("Embedding", total=len(chunks)) if bar else None

            def advance(done: int, total: int) -> None:
                if done < total:
                    crash_point("mid-embedding")
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
        state: Mapping[str, tuple[str, str]],
        report: IngestReport,
    ) -> None:
        def items() -> Iterator[tuple[Document, list[Chunk], np.ndarray]]:
            offset = 0
            for doc_id, doc in todo.items():
                chunks = chunked[doc_id]
                yield doc, chunks, vectors[offset : offset + len(chunks)]
                offset += len(chunks)

        publish(
            self.index_dir,
            embedding_info(self.embedder),
            self.chunking,
            items(),
            state,
            report,
            self.faiss_kind,
        )


class DocumentStates(Mapping[str, tuple[str, str]]):
    """doc_id -> (content hash, chunk settings) of the live generation, looked up one id at a time.

    Incremental ingestion asks only about the documents it is given, so its cost does not grow with the
    index; iterating reads every document (for reports and tests).
    """

    def __init__(self, index_dir: Path) -> None:
        gen = current_generation(index_dir) if index_dir.exists() else None
        self._store = SegmentedStore(open_segments(index_dir, read_manifest(gen))) if gen else None

    def __getitem__(self, doc_id: str) -> tuple[str, str]:
        found = self._store.state_of(doc_id) if self._store else None
        if found is None:
            raise KeyError(doc_id)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.document_state() if self._store else {})

    def __len__(self) -> int:
        return self._store.counts()["documents"] if self._store else 0


def current_state(index_dir: Path) -> Mapping[str, tuple[str, str]]:
    """doc_id -> (content hash, chunk settings) of the live generation (empty when there is none)."""
    return DocumentStates(index_dir)


class DocumentKey(Protocol):
    @property
    def doc_id(self) -> str: ...
    @property
    def content_hash(self) -> str: ...


KeyT = TypeVar("KeyT", bound=DocumentKey)


def select_changed(
    documents: Iterable[KeyT], state: Mapping[str, tuple[str, str]], settings_key: str, report: IngestReport
) -> dict[str, KeyT]:
    """The documents that are new or changed (a later duplicate id wins); unchanged ones go to the report.

    Anything with `doc_id` and `content_hash` will do: Documents, or just their keys (distributed path).
    """
    todo: dict[str, KeyT] = {}
    for doc in documents:
        if state.get(doc.doc_id) == (doc.content_hash, settings_key):
            report.unchanged.append(doc.doc_id)
        else:
            todo[doc.doc_id] = doc
    return todo


def embedding_info(embedder: Embedder) -> EmbeddingInfo:
    return EmbeddingInfo(
        model=embedder.model_name,
        model_id=embedder.model_id,
        dim=embedder.dim,
        max_tokens=embedder.max_tokens,
    )


def publish(
    index_dir: Path,
    info: EmbeddingInfo,
    chunking: ChunkSettings,
    items: Iterable[tuple[Document, list[Chunk], np.ndarray]],
    state: Mapping[str, tuple[str, str]],
    report: IngestReport,
    faiss_kind: IndexKind = "auto",
    build_vectors: VectorBuilder | None = None,
) -> None:
    """Write (document, chunks, vectors) into the next generation and publish it atomically.

    Older arXiv versions and earlier contents of a file are superseded; `build_vectors` replaces the FAISS
    build (the distributed path streams IVF / IVF-PQ for very large corpora).
    """
    settings: dict[str, int | str | float] = {**chunking.__dict__, "tokenizer": info.model}
    writer = IndexWriter(index_dir, info, settings)
    try:
        for doc, chunks, part in items:
            doc_id = doc.doc_id
            if not chunks:  # nothing searchable: say so instead of counting it as added
                known = doc_id in writer.meta.ids_with_prefix(doc_id)
                kept = "; the version already indexed is kept" if known else ""
                reason = f"{doc_id} yields no passages (only headings, references or boilerplate?){kept}"
                report.skipped.append(FileFailure(path=doc.path or doc_id, reason=reason))
                continue
            versions = _versions(doc_id, writer.meta)
            if _superseded_by_newer(doc_id, versions):
                report.unchanged.append(doc_id)
                continue
            for older in _older_versions(doc_id, versions):
                writer.meta.delete(older)
                report.removed.append(older)
            writer.meta.upsert(doc, chunks, part, chunking.key())
            (report.updated if doc_id in state else report.added).append(doc_id)
            report.chunks_written += len(chunks)
        report.generation = writer.publish(faiss_kind, build_vectors).name
    except BaseException:
        writer.abort()
        raise


def _versions(doc_id: str, store: WriterStore) -> list[tuple[int, str]]:
    """(version, id) of the other arXiv versions of `doc_id` in the index (a prefix look-up); for a path
    id, the same file's other contents as version -1 (older than any)."""
    if "@" in doc_id and doc_id.startswith(WEAK_PREFIXES):
        family = doc_id.rsplit("@", 1)[0] + "@"
        return [(-1, other) for other in store.ids_with_prefix(family) if other != doc_id]
    match = ARXIV_DOC.match(doc_id)
    if not match:
        return []
    prefix = f"arXiv:{match.group('base')}v"
    versions = [other[len(prefix) :] for other in store.ids_with_prefix(prefix) if other != doc_id]
    return [(int(v), prefix + v) for v in versions if v.isdigit()]


def _older_versions(doc_id: str, versions: list[tuple[int, str]]) -> list[str]:
    """Older arXiv versions; for a path id ('tex:a/main@1f2e3d4c'), the same file's earlier contents
    (listed by `_versions` with version -1)."""
    match = ARXIV_DOC.match(doc_id)
    version = int(match.group("version")) if match else 0
    return [other for v, other in versions if v < version]


def _superseded_by_newer(doc_id: str, versions: list[tuple[int, str]]) -> bool:
    match = ARXIV_DOC.match(doc_id)
    version = int(match.group("version")) if match else 0
    return any(v > version for v, _ in versions)
