"""BM25 keyword index (bm25s) with a tokenizer that keeps HEP tokens intact."""

from __future__ import annotations

import json
import logging
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


class KeywordIndex:
    """bm25s over chunk texts; `ids` maps bm25s document positions to chunk row ids."""

    def __init__(self, retriever: object, ids: np.ndarray) -> None:
        self._retriever = retriever
        self.ids = ids
        self._position = {int(i): p for p, i in enumerate(ids)}

    @classmethod
    def build(cls, texts: Sequence[str], ids: Sequence[int]) -> KeywordIndex:
        retriever = _bm25s().BM25()
        if texts:
            retriever.index([tokenize(t) or ["∅"] for t in texts], show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64))

    def search(self, query: str, k: int, allowed: set[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, scores) of the best `k` chunks, optionally restricted to `allowed` ids."""
        tokens = tokenize(query)
        if len(self.ids) == 0 or not tokens:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        mask = None
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=np.float32)
            for chunk_id in allowed:
                if (pos := self._position.get(chunk_id)) is not None:
                    mask[pos] = 1.0
        k = min(k, len(self.ids))
        scores_all = self._retriever.get_scores(tokens)  # type: ignore[attr-defined]
        if mask is not None:
            scores_all = scores_all * mask
        order = np.argsort(-scores_all, kind="stable")[:k]
        keep = order[scores_all[order] > 0]
        return self.ids[keep], scores_all[keep].astype(np.float32)

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
