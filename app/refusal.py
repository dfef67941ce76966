"""When to refuse instead of answering, and what a refusal looks like (closest passages, nothing invented).

Two signals, both calibrated on `evals/data/hep_qa.jsonl` by `benchmarks/answer_quality.py`:
- the best passage's cosine to the question (`answer.refusal_threshold`);
- unknown terms: a word of the question (letters and hyphens, 3+ characters) that occurs in no indexed
  chunk at all, e.g. "JUNO", "IceCube", "LHCb" asked of a Higgs-paper index (`answer.refuse_unknown_terms`).
"""

from __future__ import annotations

import re

from heprag.app.answer import REFUSAL_PHRASE, Answer, Sentence
from heprag.app.citations import build_answer
from heprag.index.keyword import KeywordIndex, tokenize
from heprag.index.types import Hit

CLOSEST = 3
_WORD = re.compile(r"^[^\W\d_][^\W\d_-]*(?:-[^\W\d_]+)*$")


def unknown_terms(question: str, keywords: KeywordIndex) -> list[str]:
    """Word tokens of `question` (stemmed as indexed) that no indexed chunk contains."""
    words = [t for t in dict.fromkeys(tokenize(question)) if len(t) >= 3 and _WORD.match(t)]
    return [t for t in words if keywords.document_frequency(t) == 0]


def weak_retrieval(
    question: str,
    hits: list[Hit],
    keywords: KeywordIndex,
    threshold: float,
    check_terms: bool = True,
    best_cosine: float | None = None,
) -> str | None:
    """The reason to refuse before generating (`no-hits`, `low-similarity:…`, `unknown-terms:…`) or None.

    `best_cosine` is the closest passage in the whole (filtered) index, when the retriever knows it;
    otherwise the best cosine among the hits.
    """
    if not hits:
        return "no-hits"
    best = max((h.dense_score or 0.0 for h in hits), default=0.0)
    if best_cosine is not None:
        best = max(best, best_cosine)
    if best < threshold:
        return f"low-similarity:{best:.3f}<{threshold}"
    unknown = unknown_terms(question, keywords) if check_terms else []
    return f"unknown-terms:{','.join(unknown)}" if unknown else None


def refusal(
    question: str, hits: list[Hit], links: dict[str, dict[str, str]], backend: str, reason: str
) -> Answer:
    """Says the answer was not found and lists the closest passages as citations, inventing nothing."""
    closest = build_answer(
        question, [(h.chunk.text[:200], [i]) for i, h in enumerate(hits[:CLOSEST], 1)], hits, links, backend
    )
    text = f"The answer was {REFUSAL_PHRASE}."
    return Answer(
        question=question,
        answer=text,
        sentences=[Sentence(text=text, flags=[f"refusal:{reason}"])],
        citations=closest.citations,
        hits=hits,
        refused=True,
        backend=backend,
    )
