"""The offline default generator: the most relevant sentences of the top passages, each cited [n]."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from heprag.app.generators.base import Generator
from heprag.index.embedder import Embedder
from heprag.index.keyword import tokenize
from heprag.index.types import Hit
from heprag.ingest.sentences import sentences

MIN_WORDS, MAX_WORDS = 5, 90
PAPER_REFS = re.compile(r"\s*\[\d+(?:\s*[–,-]\s*\d+)*\]")  # the paper's own "[10–20]" reference marks


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

    def select(self, question: str, hits: list[Hit]) -> list[tuple[str, list[int]]]:
        """(sentence, [passage number]) pairs, best first; passage numbers are 1-based into `hits`."""
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
        order = np.argsort(-scores)
        best = scores[order[0]]
        chosen = [candidates[i] for i in order[: self.max_sentences] if scores[i] >= 0.75 * best]
        return [(display_sentence(sentence), [n]) for sentence, n in chosen]

    def generate(self, question: str, passages: list[Hit]) -> str:
        return "".join(self.stream(question, passages)).strip()

    def stream(self, question: str, passages: list[Hit]) -> Iterator[str]:
        """One fragment per chosen sentence, its marker placed before the final punctuation."""
        for sentence, numbers in self.select(question, passages):
            marks = "".join(f"[{n}]" for n in numbers)
            body, end = (sentence[:-1], sentence[-1]) if sentence[-1:] in ".!?" else (sentence, ".")
            yield f"{body.rstrip()} {marks}{end} "
