"""A fast deterministic embedder for ingestion tests: hashed word counts, L2-normalised (no model)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import numpy as np

WORD = re.compile(r"\w+")


class HashEmbedder:
    """Duck-types `heprag.index.embedder.Embedder`; texts sharing words get close vectors."""

    model_name = "test-hash-embedder"
    model_id = "test-hash-embedder|"
    dim = 64
    max_tokens = 256

    def __init__(self) -> None:
        self.embedded_count = 0

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(WORD.findall(t)) for t in texts]

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in WORD.findall(text.lower()):
            vec[
                int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little") % self.dim
            ] += 1
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_documents(
        self, texts: Sequence[str], on_progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        self.embedded_count += len(texts)
        if on_progress:
            on_progress(len(texts), len(texts))
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)
