"""The offline default generator: the most relevant sentences of the top passages, each cited [n].

It cannot rephrase, so for a newcomer it does what an extractive system honestly can: it prefers
sentences that define or expand terms, puts the sentences without numbers (the picture) before those with
them, and precedes a sentence using an acronym or a defined term with what the term means, in a sentence
built from a definition found in the passages (`heprag.app.glossary`) and cited to the passage stating it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from heprag.app.generators.base import Audience, Generator
from heprag.app.glossary import GLOSSARY, GlossaryEntry, entries_from_chunk, expands, mentions
from heprag.app.grounding import extract_numbers
from heprag.index.embedder import Embedder
from heprag.index.keyword import tokenize
from heprag.index.types import Hit
from heprag.ingest.sentences import sentences

MIN_WORDS, MAX_WORDS = 5, 90
PAPER_REFS = re.compile(r"\s*\[\d+(?:\s*[–,-]\s*\d+)*\]")  # the paper's own "[10–20]" reference marks
# A sentence that defines or expands a term: "Large Hadron Collider (LHC)", "μ, defined as", "is the ratio".
DEFINITIONAL = re.compile(
    r"\([A-Za-z][A-Za-z0-9\-]*[A-Z][A-Za-z0-9\-]*s?\)|\bdefined as\b|\brefers? to\b"
    r"|\b(?:known|referred to) as\b|\bi\.e\."
    r"|\b(?:is|are) (?:the|a|an) (?:ratio|number|fraction|probability|measure|sum|product)\b",
)
NEWCOMER_BOOST = 1.15  # how much a definitional sentence gains in a newcomer answer
MAX_EXPLAINED = 4  # terms explained per newcomer answer
_PLAIN_TERM = re.compile(r"[A-Za-z][A-Za-z\- ]+(?: \S)?")  # words, perhaps a symbol: "signal strength μ"


def display_sentence(sentence: str) -> str:
    """A passage sentence without the paper's reference brackets (they would read as our [n] markers)."""
    return PAPER_REFS.sub("", sentence).strip()


def _term_weights(question: str, hits: list[Hit]) -> dict[str, float]:
    """IDF of each question term over the retrieved passages: a term every passage shares ("Higgs" in
    a Higgs corpus) weighs little, the distinguishing one ("muon") much."""
    texts = [set(tokenize(h.chunk.text)) for h in hits] or [set()]
    return {
        t: float(np.log((len(texts) + 1) / (sum(t in x for x in texts) + 0.5)))
        for t in set(tokenize(question))
    }


def _covered(weight: dict[str, float], terms: set[str]) -> float:
    total = sum(weight.values())
    return sum(w for t, w in weight.items() if t in terms) / total if total else 0.0


class ExtractiveGenerator(Generator):
    """Scores every sentence of the top passages by embedding similarity and by how much of the
    question's distinguishing terms the sentence and its passage cover.

    Deterministic, offline, and its sentences are verbatim passage text, so every number is grounded.
    """

    name = "extractive"

    def __init__(self, embedder: Embedder, max_sentences: int = 4, passages: int = 6) -> None:
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.passages = passages

    def select(
        self, question: str, hits: list[Hit], audience: Audience = "researcher"
    ) -> list[tuple[str, list[int]]]:
        """(sentence, [passage number]) pairs, best first; passage numbers are 1-based into `hits`."""
        hits = [h for h in hits if GLOSSARY not in h.retrievers]  # passages added only for a definition
        candidates: list[tuple[str, int]] = []
        seen: set[str] = set()
        for n, hit in enumerate(hits[: self.passages], start=1):
            for sentence in sentences(hit.chunk.text):
                words = len(sentence.split())
                key = " ".join(tokenize(sentence))
                if MIN_WORDS <= words <= MAX_WORDS and key not in seen:
                    seen.add(key)
                    candidates.append((sentence, n))
        if not candidates:
            return []
        query_vec = self.embedder.embed_query(question)
        vectors = self.embedder.embed_documents([s for s, _ in candidates])
        cosine = vectors @ query_vec
        weight = _term_weights(question, hits)
        chunk_terms = [set(tokenize(h.chunk.text)) for h in hits[: self.passages]]
        coverage = np.array([_covered(weight, set(tokenize(s))) for s, _ in candidates])
        context = np.array([_covered(weight, chunk_terms[n - 1]) for _, n in candidates])
        rank_prior = np.array([1.0 / (1 + 0.05 * (n - 1)) for _, n in candidates])
        scores = (0.5 * cosine + 0.3 * coverage + 0.2 * context) * rank_prior
        good = scores >= 0.75 * scores.max()
        if audience == "newcomer":  # the same good sentences, those that define a term first
            scores = scores * [NEWCOMER_BOOST if DEFINITIONAL.search(s) else 1.0 for s, _ in candidates]
        order = np.argsort(-scores)
        chosen = [candidates[i] for i in order if good[i]][: self.max_sentences]
        return [(display_sentence(sentence), [n]) for sentence, n in chosen]

    def generate(
        self,
        question: str,
        passages: list[Hit],
        audience: Audience = "researcher",
        *,
        expected_kind: str | None = None,
    ) -> str:
        return "".join(self.stream(question, passages, audience)).strip()

    def stream(
        self,
        question: str,
        passages: list[Hit],
        audience: Audience = "researcher",
        *,
        expected_kind: str | None = None,
    ) -> Iterator[str]:
        """One fragment per chosen sentence, its marker placed before the final punctuation."""
        return self.render(self.select(question, passages, audience), passages, audience)

    def render(
        self, chosen: list[tuple[str, list[int]]], passages: list[Hit], audience: Audience = "researcher"
    ) -> Iterator[str]:
        """`chosen` (sentence, [passage numbers]) as answer text; a newcomer gets the jargon explained."""
        if audience == "newcomer":
            chosen = explained(sorted(chosen, key=lambda c: bool(extract_numbers(c[0]))), passages)
        for sentence, numbers in chosen:
            marks = "".join(f"[{n}]" for n in numbers)
            body, end = (sentence[:-1], sentence[-1]) if sentence[-1:] in ".!?" else (sentence, ".")
            yield f"{body.rstrip()} {marks}{end} "


def definition_sentence(entry: GlossaryEntry) -> str | None:
    """'VBF is short for vector-boson fusion.' (None for a definition too garbled by PDF math to read)."""
    if entry.kind == "acronym":
        return f"{entry.term} is short for {entry.definition}."
    readable = _PLAIN_TERM.fullmatch(entry.term) and not re.search(r"\d", entry.definition)
    if not readable or len(entry.definition.split()) > 40:
        return None
    return f"The {entry.term} is defined as {entry.definition.rstrip(' ,;')}."


def explained(chosen: list[tuple[str, list[int]]], hits: list[Hit]) -> list[tuple[str, list[int]]]:
    """`chosen` with each term a sentence uses, and no earlier sentence explained, explained before it,
    cited to the passage defining it (one from the sentence's own paper first)."""
    defined: dict[str, list[tuple[GlossaryEntry, int]]] = {}
    for n, hit in enumerate(hits, start=1):
        for entry in entries_from_chunk(hit.chunk):
            defined.setdefault(entry.term, []).append((entry, n))
    out: list[tuple[str, list[int]]] = []
    done: set[str] = set()
    told = 0
    for sentence, numbers in chosen:
        doc_id = hits[numbers[0] - 1].chunk.doc_id if numbers else ""
        used = [(t, o) for t, o in defined.items() if t not in done and mentions(o[0][0], sentence)]
        for term, options in sorted(used, key=lambda u: sentence.find(u[0])):
            done.add(term)
            entry, n = min(options, key=lambda o: (hits[o[1] - 1].chunk.doc_id != doc_id, o[1]))
            text = definition_sentence(entry)
            if text and not expands(entry, sentence) and told < MAX_EXPLAINED:
                out.append((text, [n]))
                told += 1
        done.update(t for t, o in defined.items() if expands(o[0][0], sentence))
        out.append((sentence, numbers))
    return out
