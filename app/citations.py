"""From generated text with [n] markers to an Answer: sentence split, renumbering, quotes, links."""

from __future__ import annotations

import re

from heprag.app.answer import Answer, Citation, Sentence, make_citation
from heprag.index.keyword import tokenize
from heprag.index.types import Hit
from heprag.ingest.sentences import sentences

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")


def parse_markers(text: str) -> list[tuple[str, list[int]]]:
    """Split text into sentences, each with the passage numbers its [n] / [n, m] markers cite."""
    out: list[tuple[str, list[int]]] = []
    for sentence in sentences(text.replace("\n", " ")):
        numbers = [int(n) for m in MARKER.finditer(sentence) for n in re.split(r"[,;]", m.group(1))]
        clean = MARKER.sub("", sentence).strip()
        if clean:
            out.append((clean, list(dict.fromkeys(numbers))))
    # a marker that starts the next sentence belongs to the previous one ("... 2.0σ. [1] Next")
    return out


def best_quote(sentence: str, chunk_text: str) -> str:
    """The sentence of the chunk that shares most tokens with `sentence` (the supporting quote)."""
    wanted = set(tokenize(sentence))
    candidates = sentences(chunk_text) or [chunk_text]
    return max(candidates, key=lambda c: (len(wanted & set(tokenize(c))), -abs(len(c) - len(sentence))))


def build_answer(
    question: str,
    cited: list[tuple[str, list[int]]],
    hits: list[Hit],
    links: dict[str, dict[str, str]],
    backend: str,
) -> Answer:
    """Renumber citations by first use (passage n -> citation m) and attach quotes and URLs."""
    renumber: dict[int, int] = {}
    citations: list[Citation] = []
    out_sentences: list[Sentence] = []
    for text, numbers in cited:
        flags: list[str] = []
        cites: list[int] = []
        for n in numbers:
            if not 1 <= n <= len(hits):
                flags.append(f"unknown-citation:{n}")
                continue
            if n not in renumber:
                renumber[n] = len(renumber) + 1
                hit = hits[n - 1]
                citations.append(
                    make_citation(
                        renumber[n], hit, links.get(hit.chunk.doc_id, {}), best_quote(text, hit.chunk.text)
                    )
                )
            cites.append(renumber[n])
        if not cites:
            flags.append("uncited")
        out_sentences.append(Sentence(text=text, citations=cites, flags=flags))
    answer_text = " ".join(s.text + "".join(f" [{n}]" for n in s.citations) for s in out_sentences)
    return Answer(
        question=question,
        answer=answer_text,
        sentences=out_sentences,
        citations=citations,
        hits=hits,
        backend=backend,
    )
