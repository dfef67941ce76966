"""Answer evaluation over `Library.ask`: correctness, faithfulness, citation precision/recall, numbers.

Per question (definitions follow RAGAS and ALCE, with a support judge from `evals/judges.py`):
- correctness: the reference answer or one of its aliases appears, normalised, in the answer (or all its
  quantities do); failing that, a long reference (> `SHORT_ANSWER_WORDS` words) is judged: do the answer's
  sentences support it?;
- faithfulness (RAGAS): answer sentences supported by the passages the answer cites ÷ all its sentences;
- citation recall (ALCE): sentences supported by the union of their own citations ÷ all sentences
  (an uncited sentence counts as unsupported);
- citation precision (ALCE): citations that are relevant ÷ all citations, where a citation of a supported
  sentence is relevant when it supports the sentence alone or the others fail without it;
- number grounding: quantities of the answer found in its cited passages ÷ all its quantities;
- refusal: unanswerable questions should be refused, answerable ones not;
- gold document: the gold `doc` among the retrieved passages / among the cited ones.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from heprag.app.answer import Answer, Sentence
from heprag.app.grounding import extract_numbers, normalise, ungrounded_numbers
from heprag.app.library import Library
from heprag.evals.datasets import QAItem
from heprag.evals.judges import Judge, Verdict

SHORT_ANSWER_WORDS = 8
METRICS = (
    "correctness", "faithfulness", "citation_precision", "citation_recall", "number_grounding",
    "refusal_accuracy", "false_refusal", "gold_doc_retrieved", "gold_doc_cited",
)  # fmt: skip


@dataclass
class SentenceVerdict:
    text: str
    citations: list[int]
    supported_by_citations: bool
    supported_by_answer_sources: bool
    reason: str


@dataclass
class QAResult:
    """The scores of one question; `None` where a metric does not apply (e.g. faithfulness of a refusal)."""

    id: str
    question: str
    kind: str
    answer: str
    refused: bool
    scores: dict[str, float | None]
    sentences: list[SentenceVerdict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    correctness_reason: str = ""


def normalise_answer(text: str) -> str:
    """Lower case, physics-normalised (σ, ±, units), punctuation dropped, markers [n] removed."""
    text = normalise(re.sub(r"\[\d+(?:\s*[,;]\s*\d+)*\]", " ", text))
    text = re.sub(r"(?<=[a-z])- (?=[a-z])", "", text)  # PDF hyphenation: "stan- dard" -> "standard"
    text = re.sub(r"\s*(?:standard deviations?|sigma\b|s\.d\.)", "σ", text)
    text = re.sub(r"(\d)\s+(σ|%)", r"\1\2", text)
    # observed (expected): "5.4 (5.5)σ" -> "5.4σ (5.5σ)"
    text = re.sub(r"(\d+(?:\.\d+)?)\s*\((\d+(?:\.\d+)?)\)\s*(σ|%)", r"\1\3 (\2\3)", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    text = re.sub(r"[^\w.±σ%+\-]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def short_answer_match(answer: str, references: Sequence[str]) -> bool:
    """A normalised reference occurs in the answer on token boundaries, or all its quantities do.

    The quantity test (number grounding) accepts '670 fb' in '670 ± 90 (stat.) +110 −100 (syst.) fb'.
    """
    haystack = f" {normalise_answer(answer)} "
    for reference in references:
        ref = normalise_answer(reference)
        if ref and re.search(rf"(?<![\w.]){re.escape(ref)}(?![\w]|\.\d)", haystack):
            return True
        if extract_numbers(reference) and not ungrounded_numbers(reference, [answer]):
            return True
    return False


def same_doc(a: str | None, b: str | None) -> bool:
    """Equal doc ids, ignoring an arXiv version suffix ('arXiv:2007.07830v2' ~ '2007.07830')."""
    if not a or not b:
        return False

    def base(x: str) -> str:
        return re.sub(r"v\d+$", "", x.removeprefix("arXiv:").strip().lower())

    return base(a) == base(b)


def cited_passages(answer: Answer) -> dict[int, str]:
    """Citation number -> full text of the cited chunk (the quote when the chunk is not among the hits)."""
    chunks = {h.chunk.chunk_id: h.chunk.text for h in answer.hits}
    return {c.n: chunks.get(c.chunk_id, c.quote) for c in answer.citations}


def _sentence_scores(
    sentence: Sentence, passages: dict[int, str], all_cited: list[str], judge: Judge
) -> tuple[SentenceVerdict, int, int]:
    """The sentence's verdicts and (relevant citations, citations) for citation precision."""
    own = [passages[n] for n in sentence.citations if n in passages]
    union = judge.support(sentence.text, own) if own else Verdict(False, 0.0, "uncited", "none")
    context = union if set(own) == set(all_cited) else judge.support(sentence.text, all_cited)
    relevant = 0
    if union.supported:
        for i, passage in enumerate(own):
            others = own[:i] + own[i + 1 :]
            alone = judge.support(sentence.text, [passage]).supported
            if alone or not others or not judge.support(sentence.text, others).supported:
                relevant += 1
    verdict = SentenceVerdict(
        sentence.text, sentence.citations, union.supported, context.supported, union.reason
    )
    return verdict, relevant, len(own)


def score_answer(item: QAItem, answer: Answer, judge: Judge) -> QAResult:
    """Every metric of one answered question."""
    scores: dict[str, float | None] = dict.fromkeys(METRICS)
    retrieved = [h.chunk.doc_id for h in answer.hits]
    cited = [c.doc_id for c in answer.citations]
    result = QAResult(item.id, item.question, item.kind, answer.answer, answer.refused, scores)
    result.timings = dict(answer.timings)
    if item.kind == "unanswerable":
        scores["refusal_accuracy"] = float(answer.refused)
        return result
    scores["false_refusal"] = float(answer.refused)
    if item.doc:
        scores["gold_doc_retrieved"] = float(any(same_doc(item.doc, d) for d in retrieved))
        scores["gold_doc_cited"] = float(not answer.refused and any(same_doc(item.doc, d) for d in cited))
    if answer.refused:
        scores["correctness"] = 0.0
        result.correctness_reason = "refused"
        return result
    references = [item.answer, *item.answer_aliases]
    if short_answer_match(answer.answer, references):
        scores["correctness"] = 1.0
        result.correctness_reason = "the answer or an alias matches"
    elif len(item.answer.split()) <= SHORT_ANSWER_WORDS:
        scores["correctness"] = 0.0
        result.correctness_reason = "neither the answer nor an alias found"
    else:
        correct = judge.support(item.answer, [s.text for s in answer.sentences])
        scores["correctness"] = float(correct.supported)
        result.correctness_reason = correct.reason
    passages = cited_passages(answer)
    all_cited = list(dict.fromkeys(passages.values()))
    relevant = total_cites = 0
    for sentence in answer.sentences:
        verdict, rel, n = _sentence_scores(sentence, passages, all_cited, judge)
        result.sentences.append(verdict)
        relevant, total_cites = relevant + rel, total_cites + n
    if result.sentences:
        n_sent = len(result.sentences)
        scores["faithfulness"] = sum(v.supported_by_answer_sources for v in result.sentences) / n_sent
        scores["citation_recall"] = sum(v.supported_by_citations for v in result.sentences) / n_sent
    scores["citation_precision"] = relevant / total_cites if total_cites else None
    quantities = [q for s in answer.sentences for q in extract_numbers(s.text)]
    if quantities:
        missing = sum(
            len(ungrounded_numbers(s.text, [passages[n] for n in s.citations if n in passages]))
            for s in answer.sentences
        )
        scores["number_grounding"] = 1 - missing / len(quantities)
    return result


def evaluate_answers(
    library: Library,
    items: Sequence[QAItem],
    judge: Judge,
    backend: str | None = None,
    on_item: Callable[[QAResult], None] | None = None,
) -> list[QAResult]:
    """Ask every question through `library` and score the answers."""
    results = []
    for item in items:
        answer = library.ask(item.question, backend=backend) if backend else library.ask(item.question)
        t0 = time.perf_counter()
        result = score_answer(item, answer, judge)
        result.timings["judge"] = round(time.perf_counter() - t0, 4)
        results.append(result)
        if on_item:
            on_item(result)
    return results


def aggregate(results: Sequence[QAResult]) -> dict[str, dict[str, float]]:
    """Mean and count of each metric over the questions where it applies; latency percentiles per stage."""
    out: dict[str, dict[str, float]] = {}
    for metric in METRICS:
        values = [v for r in results if (v := r.scores.get(metric)) is not None]
        if values:
            out[metric] = {"mean": sum(values) / len(values), "n": len(values)}
    stages = sorted({s for r in results for s in r.timings})
    for stage in stages:
        values = sorted(r.timings[stage] for r in results if stage in r.timings)
        out[f"latency_{stage}_s"] = {
            "mean": statistics.fmean(values),
            "p50": values[len(values) // 2],
            "p95": values[min(len(values) - 1, int(len(values) * 0.95))],
            "n": len(values),
        }
    return out
