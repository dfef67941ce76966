"""Answer quality on the 8 Higgs PDFs: citations, number grounding, gold paper, refusals (regression set).

Nothing is calibrated here any more: the answer plan's rules were tuned on the tune half of the shared
dev set and are reported on its other half (`heprag eval answers --dataset ../shared/qa/hep_qa_dev.jsonl`).

Builds (once, cached) an index of `../shared/corpus/pdfs/higgs/` with the real `Library`, runs the QA set
`evals/data/hep_qa.jsonl` with the chosen backend (extractive by default) and prints:

the answer figures: % answer sentences with a valid citation, % numbers grounded in their cited
   passages, gold paper cited (answerable), refused (unanswerable), false refusals, latency.

    python benchmarks/answer_quality.py [--index-dir ~/.cache/heprag-bench/higgs8] [--threshold X]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from pathlib import Path

from heprag.app.answer import Answer
from heprag.app.grounding import extract_numbers, normalise, ungrounded_numbers
from heprag.app.library import Library
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
    if args.threshold is not None:
        library.settings.answer.refusal_threshold = args.threshold

    print(f"\nRunning {len(items)} questions, backend {args.backend}, "
          f"threshold {library.settings.answer.refusal_threshold}")  # fmt: skip
    figures = evaluate(library, items, args.backend)
    figures["threshold_used"] = library.settings.answer.refusal_threshold
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
