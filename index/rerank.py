"""Cross-encoder reranking of the fused candidates (sentence-transformers `CrossEncoder`, local weights).

No cross-encoder ships with heprag and none can be downloaded offline: set `retrieval.rerank_model` to a
local copy of a trained one (e.g. `cross-encoder/ms-marco-MiniLM-L-6-v2`) to use it.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from heprag.index.embedder import Device, _quiet_transformers, pick_device, resolve_model_path
from heprag.index.errors import ConfigError
from heprag.index.types import Hit

log = logging.getLogger(__name__)


class CrossEncoderReranker:
    """Re-scores the top `candidates` hits by (query, passage) with a cross-encoder; loaded once, lazily."""

    def __init__(
        self, model: str, candidates: int = 30, device: Device = "auto", batch_size: int = 32
    ) -> None:
        self.model_name = model
        self.candidates = candidates
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The CrossEncoder, loaded on first use by exactly one thread."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        _quiet_transformers()
        path = resolve_model_path(self.model_name)
        try:
            from sentence_transformers import CrossEncoder

            model = CrossEncoder(path, device=pick_device(self.device))
        except Exception as exc:
            raise ConfigError(
                f"cannot load cross-encoder {self.model_name!r} ({exc}); set retrieval.rerank_model "
                "(HEPRAG_RETRIEVAL__RERANK_MODEL) to a local model directory, or to '' to turn reranking off"
            ) from exc
        log.info("cross-encoder %s loaded on %s", self.model_name, model.device)
        return model

    def scores(self, query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        pairs = [(query, t) for t in texts]
        raw = self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        return [float(s) for s in raw]

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """The top `candidates` hits by cross-encoder score (now their `score`, 'rerank' added to
        `retrievers`, `dense_score` kept), then the rest in their incoming order."""
        head, tail = hits[: self.candidates], hits[self.candidates :]
        scores = self.scores(query, [h.chunk.text for h in head])
        order = sorted(range(len(head)), key=lambda i: -scores[i])
        reranked = [
            head[i].model_copy(update={"score": scores[i], "retrievers": [*head[i].retrievers, "rerank"]})
            for i in order
        ]
        return reranked + tail
