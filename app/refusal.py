"""When to refuse instead of answering, and what a refusal looks like (closest passages, nothing invented).

Here only the retrieval-level signal: nothing in the index is close to the question (the best passage's
cosine below `answer.refusal_threshold`). Whether the passages state what is asked is decided by the answer
plan (`heprag.app.answering.plan`).
"""

from __future__ import annotations

from heprag.app.answer import REFUSAL_PHRASE, Answer, Sentence
from heprag.app.citations import build_answer
from heprag.index.types import Hit

CLOSEST = 3


def weak_retrieval(
    question: str, hits: list[Hit], threshold: float, best_cosine: float | None = None
) -> str | None:
    """`no-hits` or `low-similarity:…` when nothing in the index is close to the question, else None.

    `best_cosine` is the closest passage in the whole (filtered) index, when the retriever knows it;
    otherwise the best cosine among the hits. Whether the passages *state* the answer is the answer
    plan's decision (`heprag.app.answering`).
    """
    if not hits:
        return "no-hits"
    best = max((h.dense_score or 0.0 for h in hits), default=0.0)
    if best_cosine is not None:
        best = max(best, best_cosine)
    return f"low-similarity:{best:.3f}<{threshold}" if best < threshold else None


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
