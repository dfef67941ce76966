"""Candidate answer sentences: whole sentences of the retrieved passages, junk never among them.

Whole: a piece cut after an abbreviation ("Refs.", "Oct.", "e.g.") or before a dangling uncertainty
("+110") is joined to its neighbour; PDF line-end hyphenation ("Stand- ard") is undone.
Junk: title pages and author lists, dedications, running headers and TOC lines, reference lists,
README/LICENSE files of a data folder — none of them ever becomes evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from heprag.index.types import Hit
from heprag.ingest.sentences import sentences

MIN_WORDS, MAX_WORDS = 5, 80
PAPER_REFS = re.compile(r"\s*\[\d+(?:\s*[–,-]\s*\d+)*\](?:\s*\[\d+(?:\s*[–,-]\s*\d+)*\])*")
_ENDS_CUT = re.compile(
    r"(?:\b(?:refs?|figs?|eqs?|secs?|tabs?|e\.g|i\.e|et al|cf|vs|approx|no|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.|[+±=×−-]|\(|\b(?:and|or|of|the|to|by))\s*$",
    re.IGNORECASE,
)
_STARTS_CUT = re.compile(r"^\s*(?:[a-z]|[,;:)\]]|[+−-]\s*\d|±|\(stat|\(syst)")
_HYPHENATED = re.compile(r"(?<=[a-z])- (?=[a-z]{2,})(?!(?:and|or|to|as)\b)")
JUNK_TEXT = re.compile(
    r"did not live to see|dedicated to|in memory of|we thank|acknowledge|©|copyright|"
    r"creativecommons|licen[cs]e|all rights reserved|e-mail|@\w|arxiv:\d{4}\.\d{4,5}v\d+ \[",
    re.IGNORECASE,
)
_TOC_OR_HEADER = re.compile(r"(?:\.\s*){4,}|^\d+(?:\.\d+)*\s+[A-Z][^.!?]{0,80}\s\d{1,3}$")
_JUNK_SECTION = re.compile(r"references|bibliography|acknowledg|contents|author|dedicat", re.IGNORECASE)
_JUNK_FILE = re.compile(r"^(?:readme|license|licence|copying|template|changelog)", re.IGNORECASE)
_INITIALS = re.compile(r"\b[A-Z]\.(?:\s?[A-Z]\.)*\s?[A-Z][a-z]+")


@dataclass
class Candidate:
    """One whole sentence of passage `n` (1-based into the hits)."""

    text: str
    n: int
    hit: Hit


def dehyphenate(text: str) -> str:
    return _HYPHENATED.sub("", text)


def display(sentence: str) -> str:
    """A passage sentence as shown: no paper reference brackets (they would read as our [n])."""
    text = dehyphenate(PAPER_REFS.sub("", sentence))
    text = re.sub(r"\s+([.,;:])", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def whole_sentences(text: str) -> list[str]:
    """The splitter's sentences with cut pieces joined back to their neighbours."""
    out: list[str] = []
    for piece in sentences(text):
        piece = " ".join(piece.split())
        if out and (_ENDS_CUT.search(out[-1]) or _STARTS_CUT.match(piece)):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def is_junk_passage(hit: Hit) -> bool:
    """Reference lists, acknowledgements, TOCs, author lists, README/LICENSE/template files."""
    chunk = hit.chunk
    if any(_JUNK_SECTION.search(s) for s in chunk.section[-1:]):
        return True
    name = PurePath(chunk.doc_id.split(":", 1)[-1]).name
    return bool(_JUNK_FILE.match(name))


def is_junk_sentence(sentence: str) -> bool:
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return True
    if JUNK_TEXT.search(sentence) or _TOC_OR_HEADER.search(sentence):
        return True
    if len(_INITIALS.findall(sentence)) >= 3:  # author list
        return True
    if len(re.findall(r"[+−-]?\d[\d.]*", sentence)) > 0.4 * len(words):  # table rows
        return True
    alpha = [w for w in words if w[:1].isalpha()]
    lower = [w for w in alpha if w[:1].islower()]
    if len(alpha) >= 4 and len(lower) < 0.35 * len(alpha):  # headers, name lists
        return True
    long = [w for w in alpha if len(w) >= 4]
    return len(long) >= 4 and sum(w[:1].isupper() for w in long) >= 0.8 * len(long)  # Title Case


def candidates(hits: list[Hit], passages: int) -> list[Candidate]:
    """Whole, non-junk, distinct sentences of the first `passages` hits."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for n, hit in enumerate(hits[:passages], start=1):
        if is_junk_passage(hit):
            continue
        for sentence in whole_sentences(hit.chunk.text):
            key = re.sub(r"\W+", " ", sentence.lower()).strip()
            if key in seen or is_junk_sentence(sentence):
                continue
            seen.add(key)
            out.append(Candidate(sentence, n, hit))
    return out
