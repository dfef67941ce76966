"""From generated text with [n] markers to an Answer: sentence split, renumbering, quotes, links."""

from __future__ import annotations

import re

from heprag.app.answer import Answer, Citation, Sentence, make_citation
from heprag.app.answering.evidence import whole_sentences
from heprag.index.keyword import tokenize
from heprag.index.types import Hit
from heprag.ingest.sentences import sentences

_REF = r"\d+(?:\s*[-–]\s*\d+)?"
MARKER = re.compile(rf"\s*\[({_REF}(?:\s*[,;]\s*{_REF})*)\]")
_MARKERS_AFTER_STOP = re.compile(rf"([.!?])((?:\s*\[{_REF}(?:\s*[,;]\s*{_REF})*\])+)")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
MAX_RANGE = 20


def _numbers(group: str) -> list[int]:
    """'1, 3-5' → [1, 3, 4, 5] (a range longer than MAX_RANGE keeps only its ends)."""
    out: list[int] = []
    for part in re.split(r"[,;]", group):
        ends = [int(x) for x in re.split(r"[-–]", part)]
        lo, hi = ends[0], ends[-1]
        out.extend(range(lo, hi + 1) if 0 <= hi - lo <= MAX_RANGE else ends)
    return out


def _lines_to_prose(text: str) -> str:
    """Bullets lose their markers; a line break ends a sentence only after punctuation or a marker."""
    lines = [_BULLET.sub("", line).strip() for line in text.splitlines()]
    out = ""
    for line in filter(None, lines):
        out += ("\n" if out.endswith((".", "!", "?", "]", ":")) else " ") + line if out else line
    return out


def numbers_of(text: str) -> list[int]:
    """The passage numbers of every [n] / [n, m] / [n-m] marker in `text`, in order, each once."""
    return list(dict.fromkeys(n for m in MARKER.finditer(text) for n in _numbers(m.group(1))))


def split_marked(text: str) -> list[str]:
    """Generated text → raw sentences, markers still in them; a marker after a final stop moves before it."""
    return whole_sentences(_MARKERS_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), _lines_to_prose(text)))


def parse_markers(text: str) -> list[tuple[str, list[int]]]:
    """Split text into sentences, each with the passage numbers its [n] / [n, m] / [n-m] markers cite.

    A marker placed after the sentence's final stop ("... 2.0σ. [1] Next") belongs to that sentence.
    """
    out: list[tuple[str, list[int]]] = []
    for sentence in split_marked(text):
        numbers = numbers_of(sentence)
        clean = MARKER.sub("", sentence).strip()
        if clean and clean not in ".!?":
            out.append((clean, numbers))
        elif numbers and out:  # a stray marker on its own: it cites the sentence before
            out[-1] = (out[-1][0], list(dict.fromkeys(out[-1][1] + numbers)))
    return out


def render_sentence(text: str, citations: list[int]) -> str:
    """'The excess is 2.0σ.' + [1, 2] → 'The excess is 2.0σ [1][2].' (markers before the final stop)."""
    marks = "".join(f"[{n}]" for n in citations)
    if not marks:
        return text
    if text[-1:] in ".!?":
        return f"{text[:-1].rstrip()} {marks}{text[-1]}"
    return f"{text} {marks}"


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
    extra_flags: list[list[str]] | None = None,
) -> Answer:
    """Renumber citations by first use (passage n -> citation m) and attach quotes and URLs.

    `extra_flags[i]` are findings of a validator for sentence i (e.g. 'ungrounded:3.0σ'), kept in order.
    """
    renumber: dict[int, int] = {}
    citations: list[Citation] = []
    out_sentences: list[Sentence] = []
    for i, (text, numbers) in enumerate(cited):
        flags: list[str] = list(extra_flags[i]) if extra_flags else []
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
        out_sentences.append(Sentence(text=text, citations=sorted(cites), flags=flags))
    answer_text = " ".join(render_sentence(s.text, s.citations) for s in out_sentences)
    return Answer(
        question=question,
        answer=answer_text,
        sentences=out_sentences,
        citations=citations,
        hits=hits,
        backend=backend,
    )
