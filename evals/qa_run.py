"""Run a QA set through a `Library` and score it with the shared rule (`qa_scoring`), per split and group."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from rich.table import Table

from heprag.app.answer import Answer
from heprag.app.library import Library
from heprag.evals.datasets import QAItem
from heprag.evals.qa_scoring import QuestionScore, fragment_reason, gold_matches, is_correct, summarise


def doc_descriptors(library: Library) -> Callable[[str], list[str]]:
    """doc_id -> what identifies that document: its id, source paths, links and record ids (cached)."""
    cache: dict[str, list[str]] = {}

    def describe(doc_id: str) -> list[str]:
        if doc_id not in cache:
            doc = library.document(doc_id)
            found = [doc_id]
            if doc is not None:
                found += [doc.path or "", *doc.links.values()]
                for source in doc.sources:  # every input file (and record) it was built from
                    found += [source.path, source.abs_path]
                    found += [f"{p}#{source.record}" for p in (source.path, source.abs_path) if source.record]
                found += [str(v) for v in doc.extra.values() if isinstance(v, str | int)]
            cache[doc_id] = [f for f in found if f]
        return cache[doc_id]

    return describe


def score_question(item: QAItem, answer: Answer, describe: Callable[[str], list[str]]) -> QuestionScore:
    def has_gold(doc_ids: Sequence[str]) -> bool | None:
        if not item.doc:
            return None
        return any(gold_matches(item.doc, describe(d)) for d in dict.fromkeys(doc_ids))

    sentences = [] if answer.refused else [s.text for s in answer.sentences]
    return QuestionScore(
        id=item.id,
        source_type=item.source_type or ("none" if not item.answerable else "?"),
        kind=item.kind,
        answerable=item.answerable,
        refused=answer.refused,
        correct=is_correct(answer.answer, answer.refused, item.answer, item.answer_aliases),
        gold_cited=(False if item.doc else None)
        if answer.refused
        else has_gold([c.doc_id for c in answer.citations]),
        gold_retrieved=has_gold([h.chunk.doc_id for h in answer.hits]),
        fragments=[f"{r}: {s}" for s in sentences if (r := fragment_reason(s))],
        seconds=answer.timings.get("total", 0.0),
    )


def run_qa(
    library: Library,
    items: Sequence[QAItem],
    backend: str | None = None,
    on_item: Callable[[QAItem, Answer, QuestionScore], None] | None = None,
) -> list[QuestionScore]:
    """Ask every question (once, warm) and score it."""
    describe = doc_descriptors(library)
    scores = []
    for item in items:
        t0 = time.perf_counter()
        answer = library.ask(item.question, backend=backend)
        answer.timings.setdefault("total", time.perf_counter() - t0)
        score = score_question(item, answer, describe)
        scores.append(score)
        if on_item:
            on_item(item, answer, score)
    return scores


def qa_tables(halves: Mapping[str, Sequence[QuestionScore]]) -> list[Table]:
    """A headline table (one column per half) and, per half, the figures by source type and by kind."""
    headline = Table(title="QA: the shared scoring rule (report half = the figures to quote)")
    rows = {name: summarise(scores) for name, scores in halves.items()}
    headline.add_column("metric")
    for name in rows:
        headline.add_column(name, justify="right")
    for metric in next(iter(rows.values()), {}):
        headline.add_row(metric, *(_fmt(rows[name][metric]) for name in rows))
    tables = [headline]
    for name, scores in halves.items():
        for attr in ("source_type", "kind"):
            table = Table(title=f"{name} half by {attr}")
            for col in (attr, "n", "correct", "gold cited", "refused", "fragments"):
                table.add_column(col)
            groups: dict[str, list[QuestionScore]] = {}
            for s in scores:
                groups.setdefault(getattr(s, attr), []).append(s)
            for group, members in sorted(groups.items()):
                g = summarise(members)
                refused = (
                    g["unanswerable_refused"]
                    if group in ("none", "unanswerable")
                    else g["answerable_refused"]
                )
                table.add_row(
                    group,
                    str(g["n"]),
                    _fmt(g["correct"]),
                    _fmt(g["gold_cited"]),
                    _fmt(refused),
                    str(g["fragments"]),
                )
            tables.append(table)
    return tables


def _fmt(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    return "–" if value != value else f"{value:.3f}"
