"""Any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, a gateway, OpenAI itself).

The HTTP client, retries with backoff, timeouts and SSE streaming are the `openai` package's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from heprag.app.generators.base import Audience, GenerationError, Generator
from heprag.app.generators.prompt import build_messages
from heprag.app.settings import LLMSettings
from heprag.index.types import Hit


class OpenAIGenerator(Generator):
    """Chat completions at temperature `llm.temperature` (0 by default) with the versioned prompt."""

    name = "openai"

    def __init__(self, llm: LLMSettings, max_sentences: int = 4, client: Any = None) -> None:
        self.llm = llm
        self.max_sentences = max_sentences
        self.client = client or self._client(llm)

    @staticmethod
    def _client(llm: LLMSettings) -> Any:
        try:
            from openai import OpenAI
        except ImportError as exc:
            raise GenerationError(
                "the openai backend needs the `openai` package: pip install 'heprag[llm]'"
            ) from exc
        key = llm.api_key.get_secret_value() or os.environ.get("OPENAI_API_KEY") or "unused"
        return OpenAI(base_url=llm.base_url, api_key=key, timeout=llm.timeout_s, max_retries=llm.max_retries)

    def _create(
        self,
        question: str,
        passages: list[Hit],
        stream: bool,
        audience: Audience,
        expected_kind: str | None = None,
    ) -> Any:
        import openai

        try:
            return self.client.chat.completions.create(
                model=self.llm.model,
                messages=build_messages(question, passages, self.max_sentences, audience, expected_kind),
                temperature=self.llm.temperature,
                max_tokens=self.llm.max_tokens,
                stream=stream,
            )
        except openai.APIConnectionError as exc:
            raise GenerationError(
                f"cannot reach the chat endpoint {self.llm.base_url} ({exc}); start the server or set "
                "llm.base_url / HEPRAG_LLM__BASE_URL"
            ) from exc
        except openai.APIStatusError as exc:
            raise GenerationError(
                f"chat endpoint {self.llm.base_url} answered HTTP {exc.status_code} for model "
                f"{self.llm.model!r}: {exc.message}; check llm.model and llm.api_key (HEPRAG_LLM__API_KEY)"
            ) from exc

    def generate(
        self,
        question: str,
        passages: list[Hit],
        audience: Audience = "researcher",
        *,
        expected_kind: str | None = None,
    ) -> str:
        response = self._create(question, passages, False, audience, expected_kind)
        return response.choices[0].message.content or "" if response.choices else ""

    def stream(
        self,
        question: str,
        passages: list[Hit],
        audience: Audience = "researcher",
        *,
        expected_kind: str | None = None,
    ) -> Iterator[str]:
        import openai

        try:
            for chunk in self._create(question, passages, True, audience, expected_kind):
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.APIError as exc:  # the connection dropped or the server sent an error mid-stream
            raise GenerationError(
                f"the stream from {self.llm.base_url} broke off ({exc}); retry, or check the server's log"
            ) from exc
