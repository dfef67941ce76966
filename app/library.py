"""`Library`: the public Python API over one index — search, ask, ingest, documents.

from heprag.app import Library
lib = Library.open("~/heprag-index")
for hit in lib.search("H -> mu mu significance", k=5): print(hit.chunk.label)
print(lib.ask("What significance did ATLAS observe for H -> mu mu?").answer)
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from heprag.app.answer import Answer
from heprag.app.answering import Corpus, Planner
from heprag.app.events import AnswerEvent, FinalEvent, RetrievalEvent, TokenEvent
from heprag.app.generators import Audience, GenerationError, Generator, make_generator
from heprag.app.generators.extractive import ExtractiveGenerator
from heprag.app.glossary import with_definitions
from heprag.app.refusal import refusal, weak_retrieval
from heprag.app.settings import Settings, load_settings, make_embedder
from heprag.app.validate import validate
from heprag.index.embedder import Embedder
from heprag.index.errors import ConfigError
from heprag.index.filters import SearchFilters
from heprag.index.rerank import CrossEncoderReranker
from heprag.index.retrieval import HybridRetriever, Mode
from heprag.index.store import CorpusIndex
from heprag.index.types import Document, Hit
from heprag.ingest.chunking import ChunkSettings
from heprag.ingest.pipeline import Ingestor
from heprag.ingest.report import IngestReport
from heprag.ingest.sources.base import ParseLimits


class Library:
    """One index plus the embedder and generators configured by `Settings`; thread-safe for readers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._embedder: Embedder | None = None
        self._index: CorpusIndex | None = None
        self._lock = threading.Lock()
        self._generators: dict[str, Generator] = {}
        self._planner: Planner | None = None
        self._planner_index: CorpusIndex | None = None

    @classmethod
    def open(cls, index_dir: str | Path | None = None, settings: Settings | None = None) -> Library:
        settings = settings or load_settings(index_dir=Path(index_dir).expanduser() if index_dir else None)
        if index_dir is not None:
            settings.index.dir = Path(index_dir).expanduser()
        return cls(settings)

    # -- components ----------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    @property
    def index(self) -> CorpusIndex:
        """The live generation; reopened when an ingest has published a newer one."""
        with self._lock:
            if self._index is None or self._index.is_stale():
                old = self._index
                i = self.settings.index
                self._index = CorpusIndex.open(i.dir, self.embedder.model_id, i.nprobe, i.ef_search)
                if old is not None:
                    old.close()
            return self._index

    _reranker: CrossEncoderReranker | None = None  # built once, on the first search that needs it

    def retriever(self) -> HybridRetriever:
        r = self.settings.retrieval
        if r.rerank_model:
            with self._lock:
                had = self._reranker
                if had is None or (had.model_name, had.candidates) != (r.rerank_model, r.rerank_candidates):
                    device = self.settings.embedding.device
                    self._reranker = CrossEncoderReranker(r.rerank_model, r.rerank_candidates, device)
        weights = {"dense": r.dense_weight, "bm25": r.bm25_weight}
        return HybridRetriever(
            self.index, self.embedder, r.candidates, r.rrf_k, r.per_doc_cap or None, weights,
            r.diversity, r.mmr_lambda, self._reranker if r.rerank_model else None,
        )  # fmt: skip

    # -- reading -------------------------------------------------------------------------------
    def search(
        self, query: str, k: int | None = None, filters: SearchFilters | None = None, mode: Mode | None = None
    ) -> list[Hit]:
        return self.retriever().search(
            query, k or self.settings.retrieval.k, filters, mode or self.settings.retrieval.mode
        )

    def generator(self, backend: str | None = None) -> Generator:
        """The answer generator for `backend` (default `answer.backend`), built once per Library."""
        name = backend or self.settings.answer.backend
        with self._lock:
            if name not in self._generators:
                self._generators[name] = make_generator(self.settings, self.embedder, name)
            return self._generators[name]

    def ask(
        self,
        question: str,
        filters: SearchFilters | None = None,
        backend: str | None = None,
        audience: Audience = "researcher",
    ) -> Answer:
        """A cited, validated answer; refuses (and lists the closest passages) when retrieval is weak.

        `audience="newcomer"` explains the jargon on first use, from the passages that define it."""
        events = list(self.stream(question, filters, backend, audience))
        final = events[-1]
        assert isinstance(final, FinalEvent)
        return final.answer

    def ask_or_fallback(
        self,
        question: str,
        filters: SearchFilters | None = None,
        backend: str | None = None,
        audience: Audience = "researcher",
    ) -> tuple[Answer, str]:
        """`ask`, answered by the offline extractive generator when the LLM backend fails (endpoint down,
        extra not installed); the note says so and why ('' when the backend answered)."""
        name = backend or self.settings.answer.backend
        try:
            return self.ask(question, filters, backend, audience), ""
        except GenerationError as exc:
            if name == "extractive":
                raise
            note = f"the {name} backend failed ({exc}); answered with the offline extractive generator"
            return self.ask(question, filters, "extractive", audience), note

    def stream(
        self,
        question: str,
        filters: SearchFilters | None = None,
        backend: str | None = None,
        audience: Audience = "researcher",
    ) -> Iterator[AnswerEvent]:
        """Events for a chat: `retrieval` (the hits), `token`s of raw text, `final` (the validated Answer)."""
        t0 = time.perf_counter()
        retriever = self.retriever()
        hits = retriever.search(question, self.settings.retrieval.k, filters, self.settings.retrieval.mode)
        timings = {"retrieve": time.perf_counter() - t0}
        yield RetrievalEvent(hits=hits, seconds=round(timings["retrieve"], 4))
        links = self.links(h.chunk.doc_id for h in hits)
        a = self.settings.answer
        name = backend or a.backend
        weak = weak_retrieval(question, hits, a.refusal_threshold, retriever.best_cosine)
        plan = self.planner().plan(question, hits) if weak is None else None
        timings["plan"] = time.perf_counter() - t0 - timings["retrieve"]
        if weak is not None or plan is None or plan.refusal is not None:
            answer = refusal(
                question, hits, links, name, weak or (plan.refusal if plan else None) or "no-plan"
            )
        else:
            t1 = time.perf_counter()
            if audience == "newcomer":  # add the passages defining the jargon the retrieved ones use
                hits = with_definitions(hits, self.index)
                links = self.links(h.chunk.doc_id for h in hits)
            generator = self.generator(name)
            parts: list[str] = []
            stream = (
                generator.render(plan.sentences, hits, audience)
                if isinstance(generator, ExtractiveGenerator)
                else generator.stream(question, hits, audience, expected_kind=plan.question.kind)
            )
            for token in stream:
                parts.append(token)
                yield TokenEvent(text=token)
            t2 = time.perf_counter()
            timings["generate"] = t2 - t1
            answer = validate(question, "".join(parts), hits, links, generator.name, a.on_ungrounded)
            timings["validate"] = time.perf_counter() - t2
        answer.timings = {k: round(v, 4) for k, v in {**timings, "total": time.perf_counter() - t0}.items()}
        yield FinalEvent(answer=answer)

    def planner(self) -> Planner:
        """The answer planner over the live generation (rebuilt when a newer one is published)."""
        index = self.index
        with self._lock:
            if self._planner is None or self._planner_index is not index:
                chunks = index.meta.counts()["chunks"]
                corpus = Corpus(index.meta.get_document, index.keywords.document_frequency, chunks)
                self._planner = Planner(self.embedder, corpus)
                self._planner_index = index
            return self._planner

    def document(self, doc_id: str) -> Document | None:
        return self.index.meta.get_document(doc_id)

    def links(self, doc_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for doc_id in dict.fromkeys(doc_ids):
            doc = self.document(doc_id)
            out[doc_id] = doc.links if doc else {}
        return out

    def info(self) -> dict[str, Any]:
        index = self.index
        folders = [index.generation, *(seg.folder for seg in index.segments)]
        size = sum(p.stat().st_size for f in folders for p in f.rglob("*") if p.is_file())
        return {
            "index_dir": str(self.settings.index.dir),
            "generation": index.generation.name,
            "manifest": index.manifest.model_dump(),
            "counts": index.meta.counts(),
            "by_source_type": index.meta.facet_counts("source_type"),
            "by_collaboration": index.meta.facet_counts("collaboration"),
            "by_year": index.meta.facet_counts("year"),
            "disk_bytes": size,
            "segments": [
                {
                    "name": s.name,
                    "chunks": s.info.chunks,
                    "faiss_kind": s.info.faiss_kind,
                    "deleted": len(s.dead_docs),
                }
                for s in index.segments
            ],
        }

    # -- writing -------------------------------------------------------------------------------
    def ingestor(self, show_progress: bool = True) -> Ingestor:
        s = self.settings
        limits = ParseLimits(
            max_file_bytes=s.ingest.max_file_bytes,
            max_pages=s.ingest.max_pages,
            max_archive_members=s.ingest.max_archive_members,
            max_decompressed_bytes=s.ingest.max_decompressed_bytes,
        )
        chunking = ChunkSettings(s.chunking.max_tokens, s.chunking.overlap_sentences, s.chunking.min_tokens)
        return Ingestor(
            s.index.dir,
            self.embedder,
            chunking,
            limits,
            s.index.faiss_kind,
            show_progress,
            s.ingest.parse_timeout_s,
            s.ingest.parse_memory_mb,
        )

    def ingest(self, paths: Iterable[str | Path], show_progress: bool = False) -> IngestReport:
        ensure_index_dir(self.settings.index.dir)
        s = self.settings.ingest
        report = self.ingestor(show_progress).ingest_paths([Path(p) for p in paths], s.include, s.exclude)
        report.save(self.settings.index.dir)
        return report


def ensure_index_dir(index_dir: Path) -> None:
    """Create the index folder, or raise a `ConfigError` saying why it cannot be one (before any work)."""
    fix = "pass --index a folder you can write (it is created when missing)"
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=index_dir):
            pass
    except FileExistsError:
        raise ConfigError(f"index folder {index_dir} is a file, not a folder; {fix}") from None
    except NotADirectoryError:
        blocker = next((p for p in index_dir.parents if p.is_file()), index_dir.parent)
        raise ConfigError(f"cannot create the index folder {index_dir}: {blocker} is a file; {fix}") from None
    except OSError as exc:
        raise ConfigError(f"cannot use {index_dir} as the index folder ({exc.strerror}); {fix}") from None
