"""The citation validator: every sentence must cite a passage it was given and ground its numbers there.

Findings become `Sentence.flags`: `uncited` (no valid [n]), `unknown-citation:n` (n was not a given
passage; the marker is removed), `ungrounded:<number>` (a number with unit/significance that none of the
sentence's cited passages contains). With `on_ungrounded="drop"` failing sentences are removed instead of
flagged. When no sentence survives (cited and grounded), the answer is a refusal listing the closest
passages.

Before that, `heprag.app.echoes.screen` separates heprag citations from copied text: a sentence echoing
the prompt is flagged `prompt-echo` (blocking), a paper's own reference brackets copied with its text
(`[1][2][3][4][5][6]`, `Refs. [12–15]`) are `copied-reference:…` and cite nothing. Output carrying prompt
markup (`<<SYS>>`, `<passage …>`) is the model printing its prompt back: refused as `prompt-echo`.
These checks apply to model output (`openai`, `llamacpp`, tests' `test`), not to the extractive backend.
"""

from __future__ import annotations

from typing import Literal

from heprag.app.answer import REFUSAL_PHRASE, Answer, Sentence
from heprag.app.citations import build_answer
from heprag.app.echoes import has_prompt_markup, screen
from heprag.app.grounding import ungrounded_numbers
from heprag.app.refusal import refusal
from heprag.index.types import Hit

BLOCKING = ("uncited", "ungrounded:", "prompt-echo")
# Backends whose text heprag composes itself from passage sentences (their markers are its own): the echo
# and copied-reference checks are for model output.
WRITTEN_BY_HEPRAG = frozenset({"extractive"})


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
    checks = backend not in WRITTEN_BY_HEPRAG
    if checks and has_prompt_markup(text):
        return refusal(question, hits, links, backend, "prompt-echo")
    kept: list[tuple[str, list[int]]] = []
    flags: list[list[str]] = []
    for s in screen(text, hits, checks):
        if says_not_found(s.text) and not s.echo:
            kept.append((s.text, []))
            flags.append(["not-found"])
            continue
        given = [n for n in s.numbers if 1 <= n <= len(hits)]
        sources = [hits[n - 1].chunk.text for n in given]
        found = [f"ungrounded:{q}" for q in ungrounded_numbers(s.text, sources)] if given else []
        if on_ungrounded == "drop" and (found or not given or s.echo):
            continue
        kept.append((s.text, s.numbers))
        flags.append(s.flags + found)
    answer = build_answer(question, kept, hits, links, backend, flags)
    for sentence in answer.sentences:
        if "not-found" in sentence.flags:
            sentence.flags = ["not-found"]
    if not any(is_valid(s) for s in answer.sentences):
        reason = (
            "model-said-not-found"
            if any("not-found" in s.flags for s in answer.sentences)
            else "no-valid-sentence"
        )
        return refusal(question, hits, links, backend, reason)
    return answer
