"""Map step (a cited summary per document) and reduce step (a synthesis per experiment).

Offline, the extractive generator picks each document's sentences most relevant to the topic and the
synthesis is an ordered, cited digest of them (by experiment, then date). With an LLM backend (the
generator factory of `heprag.app.generators`), both steps are generated, calls run in parallel with a
bound, and every output sentence still cites passages by number.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Protocol

from heprag.app.citations import parse_markers
from heprag.app.echoes import has_prompt_markup, screen
from heprag.app.extractive import ExtractiveGenerator
from heprag.app.settings import Settings
from heprag.app.summaries.cache import SummaryCache, cache_key
from heprag.app.summaries.model import SelectedDocument
from heprag.index.embedder import Embedder
from heprag.index.errors import ConfigError
from heprag.index.types import Hit

log = logging.getLogger(__name__)
# A summary sentence with the chunk ids it cites (stable across runs, unlike passage numbers).
Cited = tuple[str, list[str]]


class Generator(Protocol):
    name: str

    def select(self, question: str, hits: list[Hit]) -> list[tuple[str, list[int]]]: ...


class Summarizer:
    """Wraps a generator: `identity` (backend + its settings) goes into every cache key."""

    def __init__(
        self, make: Callable[[], Any], identity: str, parallel: int, llm: bool, name: str, limit: int = 5
    ) -> None:
        self._make = make
        self._generator: Any = None
        self._lock = threading.Lock()
        self.limit = limit
        self.identity = identity
        self.parallel = parallel
        self.llm = llm
        self.name = name

    @property
    def generator(self) -> Any:
        """Built on first use: a fully cached report never loads the embedding model or an LLM."""
        with self._lock:
            if self._generator is None:
                self._generator = self._make()
            return self._generator

    def cite(self, question: str, hits: list[Hit]) -> list[Cited]:
        """The generator's sentences, citations mapped from passage numbers to chunk ids."""
        if hasattr(self.generator, "select"):
            pairs = self.generator.select(question, hits)
        else:  # a generator that returns text with [n] markers: an LLM, screened like chat answers
            result = self.generator.generate(question, hits)
            text = result if isinstance(result, str) else result.answer
            if not self.llm:
                pairs = parse_markers(text)
            elif has_prompt_markup(text):  # the model printed its prompt back: nothing of it is kept
                log.warning("the %s summary printed its prompt back; dropped", self.name)
                pairs = []
            else:  # prompt echoes dropped; the papers' copied reference brackets cite nothing
                pairs = [(s.text, s.numbers) for s in screen(text, hits) if not s.echo]
        out: list[Cited] = []
        seen: set[str] = set()
        for text, numbers in pairs:
            key = _key(text)
            if key in seen or (not self.llm and not _is_prose(text)):
                continue
            seen.add(key)
            ids = [hits[n - 1].chunk.chunk_id for n in numbers if 1 <= n <= len(hits)]
            out.append((text, ids))  # an out-of-range number leaves it uncited: the validator flags it
        return out[: self.limit]

    def summary_question(self, topic: str, selected: SelectedDocument) -> str:
        if not self.llm:
            return topic  # the extractive scorer ranks sentences by similarity to this text
        return (
            f"Summarise, in at most five sentences, what the paper '{selected.doc.title}' reports about: "
            f"{topic}. Give its measured values with uncertainties, the data set and the conclusion."
        )


def make_summarizer(settings: Settings, embedder: Callable[[], Embedder]) -> Summarizer:
    """The generator chosen by `answer.backend`: extractive offline, else the issue-#4 factory."""
    s = settings.summaries
    backend = settings.answer.backend
    if backend == "extractive":
        # ask for more than needed: fragments and captions are filtered out afterwards
        n = s.sentences_per_document
        identity = f"extractive/v2|{settings.embedding.model}|{n}|{s.passages_per_document}"
        return Summarizer(
            lambda: ExtractiveGenerator(embedder(), 2 * n, passages=s.passages_per_document + 3),
            identity, parallel=1, llm=False, name="extractive", limit=n,
        )  # fmt: skip
    try:
        from heprag.app.generators import make_generator
    except ImportError as exc:
        raise ConfigError(
            f"answer.backend = {backend!r} needs heprag.app.generators, which this installation lacks; "
            "set answer.backend = 'extractive' (offline) or install heprag[llm]"
        ) from exc
    llm = settings.llm
    identity = f"{backend}|{llm.model}|{llm.base_url}|{llm.temperature}|{llm.gguf_path}"
    return Summarizer(
        lambda: make_generator(settings, embedder()), identity, parallel=s.parallel, llm=True, name=backend,
        limit=s.sentences_per_document + 2,
    )  # fmt: skip


def sentence_key(text: str) -> str:
    """Comparison key of a sentence (public name of `_key`)."""
    return _key(text)


def _key(text: str) -> str:
    """Comparison key: PDF hyphenation ('devia- tions') and spacing ignored."""
    return " ".join(re.sub(r"(\w)- (\w)", r"\1\2", text).lower().split())


def _is_prose(text: str) -> bool:
    """A whole sentence of running text: capitalised, ended, not a figure/table caption."""
    return (
        bool(re.match(r"[A-Z0-9√]", text))
        and text.rstrip().endswith((".", "!", "?"))
        and not re.match(r"(Fig(ure)?s?\.?|Table)\s*\d", text)
    )


def document_passages(selected: SelectedDocument, abstract: list[Hit]) -> list[Hit]:
    """What a document's summary is written from: its abstract, then its best passages for the topic."""
    seen: set[str] = set()
    out: list[Hit] = []
    for hit in [*abstract, *selected.hits]:
        if hit.chunk.chunk_id not in seen:
            seen.add(hit.chunk.chunk_id)
            out.append(hit)
    return out


def map_documents(
    topic: str,
    selection: list[SelectedDocument],
    passages: dict[str, list[Hit]],
    summarizer: Summarizer,
    cache: SummaryCache,
    on_done: Callable[[str, bool], None] | None = None,
) -> dict[str, tuple[list[Cited], bool]]:
    """doc_id → (cited summary sentences, served from cache); LLM calls run `parallel` at a time."""
    results: dict[str, tuple[list[Cited], bool]] = {}
    todo: list[tuple[SelectedDocument, str]] = []
    for selected in selection:
        doc = selected.doc
        hits = passages[doc.doc_id]
        key = cache_key(
            "summary/v1", doc.content_hash, topic.strip().lower(), summarizer.identity,
            [h.chunk.chunk_id for h in hits],
        )  # fmt: skip
        cached = cache.get("documents", key)
        if cached is not None:
            results[doc.doc_id] = ([(t, list(ids)) for t, ids in cached], True)
            if on_done:
                on_done(doc.doc_id, True)
        else:
            todo.append((selected, key))

    def work(selected: SelectedDocument) -> list[Cited]:
        return summarizer.cite(summarizer.summary_question(topic, selected), passages[selected.doc.doc_id])

    with ThreadPoolExecutor(max_workers=max(1, summarizer.parallel)) as pool:
        futures = {pool.submit(work, selected): (selected, key) for selected, key in todo}
        for future in as_completed(futures):
            selected, key = futures[future]
            doc_id = selected.doc.doc_id
            try:
                cited = future.result()
            except Exception as exc:  # one failing document never sinks the report
                log.warning("summary of %s failed: %s", doc_id, exc)
                cited = []
            else:
                cache.put("documents", key, cited)
            results[doc_id] = (cited, False)
            if on_done:
                on_done(doc_id, False)
    return results


def group_by_experiment(selection: list[SelectedDocument]) -> dict[str, list[SelectedDocument]]:
    """Experiment/collaboration → its documents, oldest first; the most relevant group comes first."""
    groups: dict[str, list[SelectedDocument]] = defaultdict(list)
    for selected in selection:
        groups[selected.doc.collaboration or "Other"].append(selected)
    for docs in groups.values():
        docs.sort(key=lambda s: (s.doc.date is None, str(s.doc.date or ""), s.doc.doc_id))
    best = {theme: max(s.relevance for s in docs) for theme, docs in groups.items()}
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] == "Other", -best[kv[0]], kv[0])))


def reduce_groups(
    topic: str,
    groups: dict[str, list[SelectedDocument]],
    summaries: dict[str, list[Cited]],
    passages: dict[str, list[Hit]],
    summarizer: Summarizer,
    per_document: int = 2,
) -> dict[str, list[Cited]]:
    """theme → synthesis sentences. Offline: each document's best sentences, in date order."""
    if not summarizer.llm:
        return {theme: _digest(docs, summaries, per_document) for theme, docs in groups.items()}

    def work(theme: str, docs: list[SelectedDocument]) -> list[Cited]:
        by_id = {h.chunk.chunk_id: h for s in docs for h in passages[s.doc.doc_id]}
        cited_ids = dict.fromkeys(i for s in docs for _, ids in summaries.get(s.doc.doc_id, []) for i in ids)
        hits = [by_id[i] for i in cited_ids if i in by_id] or [h for s in docs for h in s.hits[:2]]
        question = (
            f"Synthesise what the {theme} results report about: {topic}. Compare the measurements "
            "(values, uncertainties, data sets) across papers in chronological order."
        )
        return summarizer.cite(question, hits)

    with ThreadPoolExecutor(max_workers=max(1, summarizer.parallel)) as pool:
        futures = {theme: pool.submit(work, theme, docs) for theme, docs in groups.items()}
        out: dict[str, list[Cited]] = {}
        for theme, future in futures.items():
            try:
                out[theme] = future.result()
            except Exception as exc:
                log.warning("synthesis for %s failed (%s); using the per-document digest", theme, exc)
                out[theme] = [
                    c for s in groups[theme] for c in summaries.get(s.doc.doc_id, [])[:per_document]
                ]
    return out


def _digest(
    docs: list[SelectedDocument], summaries: dict[str, list[Cited]], per_document: int
) -> list[Cited]:
    """Each document's best sentences, in the documents' order, without repeating a sentence."""
    seen: set[str] = set()
    out: list[Cited] = []
    for selected in docs:
        for text, ids in summaries.get(selected.doc.doc_id, [])[:per_document]:
            if _key(text) not in seen:
                seen.add(_key(text))
                out.append((text, ids))
    return out
