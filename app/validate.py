"""The citation validator: every sentence must cite a passage it was given and ground its numbers there.

Findings become `Sentence.flags`: `uncited` (no valid [n]), `unknown-citation:n` (n was not a given
passage; the marker is removed), `ungrounded:<number>` (a number with unit/significance that none of the
sentence's cited passages contains). With `on_ungrounded="drop"` failing sentences are removed instead of
flagged. When no sentence survives (cited and grounded), the answer is a refusal listing the closest
passages.
"""

from __future__ import annotations

from typing import Literal

from heprag.app.answer import REFUSAL_PHRASE, Answer, Sentence
from heprag.app.citations import build_answer, parse_markers
from heprag.app.grounding import ungrounded_numbers
from heprag.app.refusal import refusal
from heprag.index.types import Hit

BLOCKING = ("uncited", "ungrounded:")


def is_valid(sentence: Sentence) -> bool:
    """Cites at least one given passage and every number is grounded in its cited passages."""
    return bool(sentence.citations) and not any(f.startswith(BLOCKING) for f in sentence.flags)


def says_not_found(text: str) -> bool:
    return REFUSAL_PHRASE in " ".join(text.lower().split())


def validate(
    question: str,
    text: str,
    hits: list[Hit],
    links: dict[str, dict[str, str]],
    backend: str,
    on_ungrounded: Literal["flag", "drop"] = "flag",
) -> Answer:
    """The validated Answer for generated `text` whose [n] markers point into `hits` (1-based)."""
    kept: list[tuple[str, list[int]]] = []
    flags: list[list[str]] = []
    for sentence, numbers in parse_markers(text):
        if says_not_found(sentence):
            kept.append((sentence, []))
            flags.append(["not-found"])
            continue
        given = [n for n in numbers if 1 <= n <= len(hits)]
        sources = [hits[n - 1].chunk.text for n in given]
        found = [f"ungrounded:{q}" for q in ungrounded_numbers(sentence, sources)] if given else []
        if on_ungrounded == "drop" and (found or not given):
            continue
        kept.append((sentence, numbers))
        flags.append(found)
    answer = build_answer(question, kept, hits, links, backend, flags)
    for s in answer.sentences:
        if "not-found" in s.flags:
            s.flags = ["not-found"]
    if not any(is_valid(s) for s in answer.sentences):
        reason = (
            "model-said-not-found"
            if any("not-found" in s.flags for s in answer.sentences)
            else "no-valid-sentence"
        )
        return refusal(question, hits, links, backend, reason)
    return answer
