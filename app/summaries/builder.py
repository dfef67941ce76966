"""Topic → Report: select, summarise (map), synthesise (reduce), key numbers, then validate it all.

Every sentence and every key-number cell goes through `citations.build_answer` in reading order — the
same numbering, quotes and `uncited` / `unknown-citation` flags as chat answers — and then through
number grounding against the passages it cites. The report keeps the flags and counts them in `tallies`.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from heprag.app.answer import Sentence
from heprag.app.citations import build_answer
from heprag.app.grounding import ungrounded_numbers
from heprag.app.library import Library
from heprag.app.summaries import digest, headlines, key_numbers
from heprag.app.summaries.cache import SummaryCache, cache_key
from heprag.app.summaries.model import (
    Cell,
    DocumentSummary,
    KeyNumber,
    Report,
    SelectedDocument,
    Tallies,
    ThemeGroup,
    TopicRequest,
)
from heprag.app.summaries.references import links, reading_order
from heprag.app.summaries.selection import select_documents
from heprag.app.summaries.timeline import timeline_png
from heprag.index.segmented import SegmentedStore
from heprag.index.store import CorpusIndex, current_generation
from heprag.index.types import Hit

# Most informative first: what the key-numbers table shows when a document has more than it can hold.
PRIORITY = [
    "signal strength μ", "observed significance", "expected significance", "upper limit",
    "cross section", "branching fraction", "coupling modifier", "measured value", "mass",
]  # fmt: skip
Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _key_rows(
    selected: SelectedDocument,
    passages: list[Hit],
    limit: int,
    headline: list[tuple[str, str]] | None = None,
) -> list[tuple[KeyNumber, dict]]:
    """Up to `limit` rows for one document, each cell naming the chunk it came from; the values of its
    `headline` results (quantity, value) first, then by PRIORITY."""
    found: dict[tuple[str, str], tuple[str, str, str]] = {}
    for hit in passages:
        own = selected.doc.collaboration or ""
        for quantity, value, context in key_numbers.measurements(hit.chunk):
            if key_numbers.experiment_of(context, own) != own:
                continue  # another experiment's result quoted by this paper: not its key number
            same = [k for k in found if k[1] == value]  # one row per value: the most specific label wins
            if same and PRIORITY.index(quantity) >= min(PRIORITY.index(k[0]) for k in same):
                continue
            for k in same:
                del found[k]
            found[(quantity, value)] = (hit.chunk.chunk_id, context, quantity)
    energies = [(h.chunk.chunk_id, key_numbers.sqrt_s(h.chunk)) for h in passages]
    lumis = [(h.chunk.chunk_id, key_numbers.luminosity(h.chunk)) for h in passages]

    def near(options: list[tuple[str, str | None]], chunk_id: str) -> tuple[str, str] | None:
        same = [(c, v) for c, v in options if v and c == chunk_id]
        other = [(c, v) for c, v in options if v]
        return (same or other)[0] if same or other else None

    ordered = sorted(
        found.items(),
        key=lambda kv: (
            (headline or []).index(kv[0]) if kv[0] in (headline or []) else 99,
            PRIORITY.index(kv[0][0]) if kv[0][0] in PRIORITY else 99,
        ),
    )
    rows: list[tuple[KeyNumber, dict]] = []
    for (quantity, value), (chunk_id, context, _) in ordered[:limit]:
        sources = {"value": chunk_id}
        row = KeyNumber(
            doc_id=selected.doc.doc_id, quantity=quantity, value=Cell(value=value),
            experiment=selected.doc.collaboration or "", context=context,
        )  # fmt: skip
        for field, options in (("sqrt_s", energies), ("luminosity", lumis)):
            pick = near(options, chunk_id)
            if pick:
                setattr(row, field, Cell(value=pick[1]))
                sources[field] = pick[0]
        rows.append((row, sources))
    return rows


def build_report(
    library: Library,
    request: TopicRequest,
    timeline_path: Path | None = None,
    progress: Progress | None = None,
) -> Report:
    """The whole report for one topic; `timeline_path` is where the PNG goes (None: no plot)."""
    s = library.settings.summaries
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    index_dir = library.settings.index.dir
    cache = SummaryCache.for_index(index_dir, s.cache)
    generation = current_generation(index_dir)
    # the selection depends only on the index generation, the request and the settings: a re-run reuses
    # it and never loads the embedding model or the FAISS/BM25 indexes
    select_key = cache_key(
        "selection/v2", generation.name if generation else "",
        request.model_dump(mode="json", exclude={"name"}), s.model_dump(mode="json"),
        library.settings.retrieval.model_dump(mode="json"),
    )  # fmt: skip
    stored = cache.get("selections", select_key) if generation is not None else None
    if stored is not None and generation is not None:
        selection = [SelectedDocument.model_validate(x) for x in stored["selection"]]
        missing = list(stored["missing"])
        meta = CorpusIndex(library.settings.index.dir, generation).meta
    else:
        index = library.index
        selection, missing = select_documents(
            index, library.embedder, request, max_documents=s.max_documents, search_k=s.search_k,
            passages_per_document=s.passages_per_document, mmr_lambda=s.mmr_lambda,
            min_cosine=s.min_cosine, min_relevance=s.min_relevance, rrf_k=library.settings.retrieval.rrf_k,
            retriever=library.retriever(),
        )  # fmt: skip
        cache.put(
            "selections", select_key,
            {"selection": [x.model_dump(mode="json") for x in selection], "missing": missing},
        )  # fmt: skip
        meta = index.meta
    timings["select"] = time.perf_counter() - t0

    t = time.perf_counter()
    # what each document is about decides whether it is on topic (cheap: recomputed, never cached)
    about = _about(meta, selection)
    weights = headlines.topic_weights(request.topic, about)
    listed = {s.doc.doc_id for s in selection if s.reason.startswith("listed in --papers")}
    headlines.mark_on_topic(weights, selection, about, listed)
    heads = {sel.doc.doc_id: headlines.headline_chunks(meta, sel.doc) for sel in selection}
    passages = {
        sel.doc.doc_id: digest.document_passages(
            sel, [Hit(chunk=c, score=0.0, rank=0) for c in heads[sel.doc.doc_id]]
        )
        for sel in selection
    }
    results = {
        sel.doc.doc_id: headlines.headline_sentences(
            weights, heads[sel.doc.doc_id], sel.doc.collaboration or ""
        )
        for sel in selection
    }
    if stored is not None:
        meta.close()
    summarizer = digest.make_summarizer(library.settings, lambda: library.embedder)
    done = [0]

    def tick(_doc_id: str, _cached: bool) -> None:
        done[0] += 1
        if progress:
            progress("summaries", done[0], len(selection))

    mapped = digest.map_documents(request.topic, selection, passages, summarizer, cache, tick)
    summaries = {
        d: _with_results(results[d][: s.synthesis_per_document], cited, s.sentences_per_document + 1)
        for d, (cited, _) in mapped.items()
    }
    timings["map"] = time.perf_counter() - t

    t = time.perf_counter()
    on_topic = [sel for sel in selection if sel.on_topic]
    groups = digest.group_by_experiment(on_topic)
    synthesis = digest.reduce_groups(
        request.topic, groups, summaries, passages, summarizer, s.synthesis_per_document
    )
    synthesis = _lead_with_results(
        groups, synthesis, results, passages, s.synthesis_per_document, replace=not summarizer.llm
    )
    timings["reduce"] = time.perf_counter() - t

    t = time.perf_counter()
    rows = [
        r
        for sel in on_topic
        for r in _key_rows(
            sel,
            passages[sel.doc.doc_id],
            s.key_numbers_per_document,
            [v for h in results[sel.doc.doc_id][: s.synthesis_per_document] for v in h.values],
        )
    ]
    report = Report(
        topic=request.topic, backend=summarizer.name, index_dir=str(library.settings.index.dir),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), selection=selection,
        missing_papers=missing, cache_hits=sum(1 for _, hit in mapped.values() if hit),
    )  # fmt: skip
    cached = {d for d, (_, hit) in mapped.items() if hit}
    _assemble(report, groups, synthesis, summaries, rows, passages, cached)
    timings["validate"] = time.perf_counter() - t

    t = time.perf_counter()
    report.reading_list = reading_order(selection)
    if timeline_path is not None:
        report.timeline_png = _timeline(selection, request.topic, timeline_path, cache)
    timings["timeline"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    report.timings = {k: round(v, 3) for k, v in timings.items()}
    return report


def _assemble(
    report: Report,
    groups: dict[str, list[SelectedDocument]],
    synthesis: dict[str, list[digest.Cited]],
    summaries: dict[str, list[digest.Cited]],
    rows: list[tuple[KeyNumber, dict]],
    passages: dict[str, list[Hit]],
    cached: set[str],
) -> None:
    """Number every citation in reading order, validate every sentence and cell, fill `report`."""
    book: dict[str, Hit] = {h.chunk.chunk_id: h for hits in passages.values() for h in hits}
    order = list(book)
    position = {chunk_id: n for n, chunk_id in enumerate(order, start=1)}
    hits = [book[c] for c in order]
    themes = [(theme, synthesis.get(theme, [])) for theme in groups]
    documents = [(sel.doc.doc_id, summaries.get(sel.doc.doc_id, [])) for sel in report.selection]
    cited: list[tuple[str, list[int]]] = []
    for _, sentences in [*themes, *documents]:
        cited += [(text, [position[i] for i in ids if i in position]) for text, ids in sentences]
    cells: list[tuple[Cell, str]] = []
    for row, sources in rows:
        for field, chunk_id in sources.items():
            cells.append((getattr(row, field), chunk_id))
    cited += [(cell.value, [position[chunk_id]]) for cell, chunk_id in cells]
    doc_links = {sel.doc.doc_id: links(sel.doc) for sel in report.selection}
    answer = build_answer(report.topic, cited, hits, doc_links, report.backend)
    report.citations = answer.citations
    chunk_of = {c.n: c.chunk_id for c in answer.citations}
    tallies = Tallies()
    stream = iter(answer.sentences)
    for sentence in answer.sentences[: len(cited) - len(cells)]:
        cited_text = [book[chunk_of[n]].chunk.text for n in sentence.citations]
        sentence.flags += [f"ungrounded:{q}" for q in ungrounded_numbers(sentence.text, cited_text)]
        tallies.sentences += 1
        tallies.sentences_valid += not sentence.flags
        tallies.flags += [f"{flag}: {sentence.text[:80]}" for flag in sentence.flags]
    for theme, sents in themes:
        docs = [sel.doc.doc_id for sel in groups[theme]]
        report.synthesis.append(ThemeGroup(theme=theme, doc_ids=docs, sentences=_take(stream, len(sents))))
    for doc_id, sents in documents:
        report.summaries.append(
            DocumentSummary(doc_id=doc_id, sentences=_take(stream, len(sents)), cached=doc_id in cached)
        )
    for (cell, chunk_id), sentence in zip(cells, stream, strict=True):
        cell.citation = sentence.citations[0] if sentence.citations else None
        cell.found = key_numbers.found_in_passage(cell.value, book[chunk_id].chunk.text)
        tallies.key_values += 1
        tallies.key_values_found += cell.found
        if not cell.found:
            tallies.flags.append(f"key number not in its passage: {cell.value} ({chunk_id})")
    report.key_numbers = [row for row, _ in rows]
    report.tallies = tallies


def _about(meta: SegmentedStore, selection: list[SelectedDocument]) -> dict[str, str]:
    """What each document says it is: its title and the first sentence of its abstract."""
    return {
        sel.doc.doc_id: sel.doc.title
        + ". "
        + headlines.first_sentence(headlines.headline_chunks(meta, sel.doc))
        for sel in selection
    }


def _with_results(
    found: list[headlines.Headline], cited: list[digest.Cited], limit: int
) -> list[digest.Cited]:
    """A document's summary: its headline results first, then the summarizer's sentences."""
    out: list[digest.Cited] = [(h.text, [h.chunk_id]) for h in found]
    keys = {digest.sentence_key(h.text) for h in found}
    out += [(text, ids) for text, ids in cited if digest.sentence_key(text) not in keys]
    return out[:limit]


def _lead_with_results(
    groups: dict[str, list[SelectedDocument]],
    synthesis: dict[str, list[digest.Cited]],
    results: dict[str, list[headlines.Headline]],
    passages: dict[str, list[Hit]],
    per_doc: int,
    replace: bool,
) -> dict[str, list[digest.Cited]]:
    """Each theme's synthesis opening with its documents' headline results (composed line + result
    sentences, oldest document first); `replace` drops the digest sentences of documents that have them."""
    doc_of = {h.chunk.chunk_id: d for d, hits in passages.items() for h in hits}
    out: dict[str, list[digest.Cited]] = {}
    for theme, docs in groups.items():
        lead: list[digest.Cited] = []
        for sel in docs:
            found = results[sel.doc.doc_id]
            composed = headlines.compose(sel.doc, found)
            lead += [composed] if composed else []
            lead += [(h.text, [h.chunk_id]) for h in found[:per_doc]]
        stated = {d for d in (sel.doc.doc_id for sel in docs) if results[d]} if replace else set()
        keys = {digest.sentence_key(text) for text, _ in lead}
        rest = [
            (text, ids) for text, ids in synthesis.get(theme, [])
            if digest.sentence_key(text) not in keys and not (ids and {doc_of.get(i) for i in ids} <= stated)
        ]  # fmt: skip
        out[theme] = lead + rest
    return out


def _take(stream: Iterator[Sentence], count: int) -> list[Sentence]:
    return [next(stream) for _ in range(count)]


def _timeline(selection: list[SelectedDocument], topic: str, path: Path, cache: SummaryCache) -> str | None:
    """The timeline PNG at `path`; an identical plot is copied from the cache instead of redrawn."""
    docs = [sel.doc for sel in selection]
    key = cache_key("timeline/v1", topic, [(d.doc_id, str(d.date), d.collaboration) for d in docs])
    stored = cache.root / "timelines" / f"{key}.png"
    if cache.enabled and stored.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stored, path)
        return str(path)
    png = timeline_png(docs, path, f"Documents on “{topic}”")
    if png is not None and cache.enabled:
        stored.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, stored)
    return str(png) if png else None
