"""Answer quality on the 8 Higgs PDFs (issue #4): citations, number grounding, gold paper, refusals.

Builds (once, cached) an index of `../shared/corpus/pdfs/higgs/` with the real `Library`, runs the QA set
`evals/data/hep_qa.jsonl` with the chosen backend (extractive by default) and prints:

1. the refusal-threshold calibration: best-passage cosine of answerable vs unanswerable questions, the
   threshold maximising balanced accuracy (midpoint of the widest gap among ties) and its leave-one-out
   accuracy (the threshold refitted without each question, then applied to it);
2. the answer figures: % answer sentences with a valid citation, % numbers grounded in their cited
   passages, gold paper cited (answerable), refused (unanswerable), false refusals, latency.

    python benchmarks/answer_quality.py [--index-dir ~/.cache/heprag-bench/higgs8] [--threshold X]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import statistics
import time
from pathlib import Path

import numpy as np

from heprag.app.answer import Answer
from heprag.app.grounding import extract_numbers, normalise, ungrounded_numbers
from heprag.app.library import Library
from heprag.app.refusal import unknown_terms
from heprag.app.settings import load_settings
from heprag.app.validate import is_valid
from heprag.evals.datasets import QAItem, load_qa

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "pdfs" / "higgs"


def open_index(index_dir: Path, corpus: Path) -> Library:
    """The Library over `index_dir`, ingesting the Higgs PDFs first when the index does not exist."""
    library = Library(load_settings(index_dir=index_dir))
    if not (index_dir / "CURRENT").exists():
        t0 = time.perf_counter()
        report = library.ingest([corpus], show_progress=True)
        print(f"built {index_dir}: {len(report.added)} PDFs, {report.chunks_written} chunks "
              f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip
    return library


def best_threshold(pos: list[float], neg: list[float]) -> tuple[float, float]:
    """(threshold, balanced accuracy): answer when cosine >= threshold; ties broken by the widest gap."""
    if not pos or not neg:  # one class only: keep every example of it on its side
        return (round(min(pos) - 1e-4, 4), 1.0) if pos else (round(max(neg) + 1e-4, 4), 1.0)
    values = sorted(set(pos) | set(neg))
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in itertools.pairwise(values)] + [values[-1] + 1e-6]
    p, n = np.array(pos), np.array(neg)

    def score(t: float) -> tuple[float, float]:
        bal = ((p >= t).mean() + (n < t).mean()) / 2
        gap = min([abs(v - t) for v in values])
        return float(bal), gap

    best = max(cuts, key=score)
    return round(float(best), 4), score(best)[0]


def loo_accuracy(pos: list[float], neg: list[float]) -> float:
    """Leave-one-out accuracy of the threshold choice (each question judged by a threshold fit without it)."""
    right = 0
    for i, v in enumerate(pos):
        right += v >= best_threshold(pos[:i] + pos[i + 1 :], neg)[0]
    for i, v in enumerate(neg):
        right += v < best_threshold(pos, neg[:i] + neg[i + 1 :])[0]
    return right / (len(pos) + len(neg))


def describe(values: list[float]) -> str:
    return (f"min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}  "
            f"(n={len(values)})")  # fmt: skip


def sentence_sources(answer: Answer, citations: list[int]) -> list[str]:
    ids = {c.chunk_id for c in answer.citations if c.n in citations}
    return [h.chunk.text for h in answer.hits if h.chunk.chunk_id in ids]


def evaluate(library: Library, items: list[QAItem], backend: str) -> dict[str, float]:
    sentences = valid = numbers = grounded = gold = found = refused_ok = false_refusals = 0
    latencies: list[float] = []
    answerable = [i for i in items if i.kind == "answerable"]
    for item in items:
        answer = library.ask(item.question, backend=backend)
        latencies.append(answer.timings.get("total", 0.0))
        if item.kind == "unanswerable":
            refused_ok += answer.refused
            print(f"  {'refused ' if answer.refused else 'ANSWERED'} {item.id}: {answer.answer[:110]}")
            continue
        if answer.refused:
            false_refusals += 1
            print(f"  REFUSED  {item.id}")
            continue
        for s in answer.sentences:
            sentences += 1
            valid += is_valid(s)
            quantities = extract_numbers(s.text)
            numbers += len(quantities)
            grounded += len(quantities) - len(
                ungrounded_numbers(s.text, sentence_sources(answer, s.citations))
            )
        cited_gold = any(c.doc_id == item.doc for c in answer.citations)
        gold += cited_gold
        keys = [normalise(k) for k in [item.answer, *item.answer_aliases] if k]
        has_value = any(k in normalise(answer.answer) for k in keys)
        found += has_value
        print(f"  {'gold    ' if cited_gold else 'NO GOLD '} {'value' if has_value else '-    '} {item.id}")
    n_ans, n_un = len(answerable), len(items) - len(answerable)
    return {
        "sentences": sentences,
        "valid_citation_pct": 100 * valid / max(sentences, 1),
        "numbers": numbers,
        "numbers_grounded_pct": 100 * grounded / max(numbers, 1),
        "gold_cited_pct": 100 * gold / max(n_ans, 1),
        "answer_value_in_text_pct": 100 * found / max(n_ans, 1),
        "unanswerable_refused_pct": 100 * refused_ok / max(n_un, 1),
        "answerable_refused_pct": 100 * false_refusals / max(n_ans, 1),
        "median_latency_s": statistics.median(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path.home() / ".cache" / "heprag-bench" / "higgs8")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--qa", type=Path, default=REPO / "evals" / "data" / "hep_qa.jsonl")
    parser.add_argument("--backend", default="extractive")
    parser.add_argument("--threshold", type=float, help="Refusal threshold (default: the setting)")
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.corpus.exists():
        raise SystemExit(f"corpus not found at {args.corpus}; pass --corpus ../shared/corpus/pdfs/higgs")

    library = open_index(args.index_dir.expanduser(), args.corpus)
    items = load_qa(args.qa)
    keywords = library.index.keywords
    best = {i.id: max((h.dense_score or 0.0 for h in library.search(i.question)), default=0.0) for i in items}
    unknown = {i.id: unknown_terms(i.question, keywords) for i in items}
    print("\nRefusal calibration")
    for kind in ("answerable", "unanswerable"):
        caught = [f"{i.id} ({','.join(unknown[i.id])})" for i in items if i.kind == kind and unknown[i.id]]
        total = sum(i.kind == kind for i in items)
        print(f"  unknown-term rule refuses {len(caught)}/{total} {kind}: {'; '.join(caught) or '-'}")
    pos = [best[i.id] for i in items if i.kind == "answerable"]
    neg = [best[i.id] for i in items if i.kind == "unanswerable"]
    print("  best-passage cosine (dense, over the hybrid top-k), all questions:")
    print(f"    answerable    {describe(pos)}")
    print(f"    unanswerable  {describe(neg)}")
    threshold, balanced = best_threshold(pos, neg)
    print(f"    cosine alone: best threshold {threshold}, balanced accuracy {balanced:.3f}, "
          f"leave-one-out accuracy {loo_accuracy(pos, neg):.3f}")  # fmt: skip
    rest_pos = [best[i.id] for i in items if i.kind == "answerable" and not unknown[i.id]]
    rest_neg = [best[i.id] for i in items if i.kind == "unanswerable" and not unknown[i.id]] or [0.0]
    threshold, balanced = best_threshold(rest_pos, rest_neg)
    loo = loo_accuracy(rest_pos, rest_neg)
    print(
        f"    after the unknown-term rule: unanswerable left {[round(v, 3) for v in sorted(rest_neg)]}; "
        f"best threshold {threshold}, balanced accuracy {balanced:.3f}, leave-one-out {loo:.3f}"
    )
    print(f"  setting answer.refusal_threshold = {library.settings.answer.refusal_threshold}")
    if args.threshold is not None:
        library.settings.answer.refusal_threshold = args.threshold

    print(f"\nRunning {len(items)} questions, backend {args.backend}, "
          f"threshold {library.settings.answer.refusal_threshold}")  # fmt: skip
    figures = evaluate(library, items, args.backend)
    figures |= {
        "calibrated_threshold": threshold,
        "threshold_used": library.settings.answer.refusal_threshold,
    }
    rows = [
        ("answer sentences with a valid citation", f"{figures['valid_citation_pct']:.1f} %", ">= 95 %"),
        ("numbers grounded in their cited passages",
         f"{figures['numbers_grounded_pct']:.1f} % of {figures['numbers']}", "100 %"),
        ("gold paper cited (answerable)", f"{figures['gold_cited_pct']:.1f} %", ">= 80 %"),
        ("unanswerable questions refused", f"{figures['unanswerable_refused_pct']:.1f} %", ">= 80 %"),
        ("answerable questions refused", f"{figures['answerable_refused_pct']:.1f} %", "low"),
        ("reference value in the answer text", f"{figures['answer_value_in_text_pct']:.1f} %", "(info)"),
        ("median latency per question", f"{figures['median_latency_s']:.2f} s", "(info)"),
    ]  # fmt: skip
    print(f"\n{'figure':44} {'measured':>22}  target")
    for name, value, target in rows:
        print(f"{name:44} {value:>22}  {target}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
