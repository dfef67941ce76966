"""BM25 keyword index (bm25s) with a tokenizer that keeps HEP tokens intact."""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

# Tokens: arXiv ids, decimal numbers, words with inner arrows/underscores/superscripts (h→μμ, p_t, fb-1).
TOKEN = re.compile(
    r"\d{4}\.\d{4,5}(?:v\d+)?"  # arXiv ids
    r"|\d+(?:\.\d+)?"  # numbers
    r"|[^\W\d_](?:[\w→⁺⁻∗*]|[-_^](?=\w))*",  # words, keeping H→μμ, p_T, fb-1, W+W-
    re.UNICODE,
)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "with",
        "which",
        "we",
        "our",
        "these",
        "those",
        "their",
        "there",
        "than",
        "then",
        "also",
        "can",
        "may",
        "such",
        "into",
        "using",
        "used",
        "been",
        "being",
        "not",
        "what",
        "how",
        "does",
        "did",
        "do",
        "why",
        "when",
        "where",
        "who",
        "whom",
        # number words: "two muons" asks about muons, not about the word "two"
        "one",
        "two",
        "three",
        "four",
        "five",
        "first",
        "second",
        "third",
    ]
)


def _bm25s() -> Any:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import
    return bm25s


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


GREEK_LATIN = re.compile(r"(?<=[\u0370-\u03ff])(?=[a-z])|(?<=[a-z]{3})(?=[\u0370-\u03ff])")


def normalise_text(text: str) -> str:
    """NFKC, lower case, combining marks (b̄ → b) dropped, minus signs folded to '-', '√s' spaced."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    text = GREEK_LATIN.sub(" ", text)  # PDF math glued to prose: 'h→μμsignal' -> 'h→μμ signal'
    return text.replace("−", "-").replace("⁻", "-").replace("–", "-").replace("√", " √ ")


# Final states written as symbols in papers and as words in questions: both map to a shared word token.
SYMBOL_WORDS = {
    "μμ": "muon", "μ+μ-": "muon", "dimuon": "muon", "γγ": "photon", "diphoton": "photon",
    "ττ": "tau", "ditau": "tau", "τ+τ-": "tau", "bb": "bottom", "bottom-antibottom": "bottom",
    "ee": "electron", "e+e-": "electron", "dielectron": "electron", "cc": "charm",
    "zγ": "photon", "ww∗": "ww", "zz∗": "zz", "tth": "top", "tt": "top",
    "mumu": "muon", "tautau": "tau", "gammagamma": "photon", "zz*": "zz", "ww*": "ww",
}  # fmt: skip


def tokenize(text: str) -> list[str]:
    """HEP-aware tokens: stopwords dropped, plain alphabetic words stemmed, the rest kept verbatim.

    Decay notation is also split and mapped to words, so 'H→μμ' matches a question about muons:
    'h→μμ' yields 'h→μμ', 'h', 'μμ' and 'muon'.
    """
    stem = _stemmer().stemWord
    out: list[str] = []
    for token in TOKEN.findall(normalise_text(text)):
        if token in STOPWORDS:
            continue
        out.append(stem(token) if token.isascii() and token.isalpha() else token)
        parts = [p for p in token.split("→") if p] if "→" in token else []
        out.extend(parts)
        out.extend(SYMBOL_WORDS[p] for p in [token, *parts] if p in SYMBOL_WORDS)
    return out


def lucene_idf(df: float, n: int) -> float:
    """bm25s' default (Lucene) IDF."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class KeywordIndex:
    """bm25s over chunk texts; `ids` (ascending) maps bm25s document positions to chunk row ids."""

    def __init__(self, retriever: object, ids: np.ndarray) -> None:
        self._retriever = retriever
        self.ids = ids

    @classmethod
    def build(cls, texts: Sequence[str], ids: Sequence[int]) -> KeywordIndex:
        retriever = _bm25s().BM25()
        if texts:
            retriever.index([tokenize(t) or ["∅"] for t in texts], show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64))

    def search(self, query: str, k: int, allowed: set[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, scores) of the best `k` chunks, optionally restricted to `allowed` ids."""
        return self.top([(t, 1.0) for t in tokenize(query)], k, allowed)

    def top(
        self,
        weighted_tokens: Sequence[tuple[str, float]],
        k: int,
        allowed: set[int] | None = None,
        excluded: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best `k` (chunk ids, scores) for tokens whose bm25s scores are scaled by a weight each.

        Scores are summed over each token's posting list only, and the top `k` is taken among the
        chunks touched, so a query costs what its posting lists hold, not the index size.
        """
        scores = getattr(self._retriever, "scores", None) or {}
        vocab = getattr(self._retriever, "vocab_dict", None) or {}
        empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(self.ids) == 0 or k <= 0 or "indptr" not in scores:
            return empty
        data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
        acc = np.zeros(len(self.ids), dtype=np.float32)
        touched = []
        for token, weight in weighted_tokens:
            i = vocab.get(token)
            if i is None:
                continue
            start, end = int(indptr[i]), int(indptr[i + 1])
            rows = np.asarray(indices[start:end])
            acc[rows] += np.asarray(data[start:end]) * np.float32(weight)  # rows are unique per token
            touched.append(rows)
        if not touched:
            return empty
        total = sum(len(t) for t in touched)
        candidates = np.unique(np.concatenate(touched)) if total < len(acc) // 8 else np.flatnonzero(acc)
        if allowed is not None:
            candidates = candidates[np.isin(self.ids[candidates], np.fromiter(allowed, dtype=np.int64))]
        if excluded is not None and len(excluded):
            candidates = candidates[~np.isin(self.ids[candidates], excluded)]
        candidates = candidates[acc[candidates] > 0]
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-acc[candidates], k - 1)[:k]]
        order = candidates[np.lexsort((candidates, -acc[candidates]))]
        return self.ids[order], acc[order]

    @property
    def size(self) -> int:
        """Chunks indexed (bm25s' N)."""
        return len(self.ids)

    def document_frequency(self, token: str) -> int:
        """How many indexed chunks contain `token` (a `tokenize` output); 0 when it is unknown."""
        vocab = getattr(self._retriever, "vocab_dict", None) or {}
        scores = getattr(self._retriever, "scores", None) or {}
        i = vocab.get(token)
        if i is None or "indptr" not in scores:
            return 0
        return int(scores["indptr"][i + 1] - scores["indptr"][i])

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if len(self.ids):
            self._retriever.save(str(directory), show_progress=False)  # type: ignore[attr-defined]
        np.save(directory / "ids.npy", self.ids)
        (directory / "tokenizer.json").write_text(json.dumps({"tokenizer": "heprag-hep-v2"}))

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> KeywordIndex:
        bm25s = _bm25s()
        ids = np.load(directory / "ids.npy")
        if len(ids) == 0:
            return cls(bm25s.BM25(), ids)
        retriever = bm25s.BM25.load(str(directory), mmap=mmap, show_progress=False)
        return cls(retriever, ids)
