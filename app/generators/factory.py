"""`make_generator`: the backend named by `answer.backend` (or an explicit override)."""

from __future__ import annotations

from heprag.app.generators.base import Generator
from heprag.app.settings import Settings
from heprag.index.embedder import Embedder
from heprag.index.errors import ConfigError

BACKENDS = ("extractive", "openai", "llamacpp")


def make_generator(settings: Settings, embedder: Embedder, backend: str | None = None) -> Generator:
    """A generator for `backend` (default: `settings.answer.backend`); optional extras load lazily."""
    name = backend or settings.answer.backend
    n = settings.answer.max_sentences
    if name == "extractive":
        from heprag.app.generators.extractive import ExtractiveGenerator

        return ExtractiveGenerator(embedder, max_sentences=n)
    if name == "openai":
        from heprag.app.generators.openai_backend import OpenAIGenerator

        return OpenAIGenerator(settings.llm, max_sentences=n)
    if name == "llamacpp":
        from heprag.app.generators.llamacpp_backend import LlamaCppGenerator

        return LlamaCppGenerator(settings.llm, max_sentences=n)
    raise ConfigError(f"unknown answer backend {name!r}; choose one of {', '.join(BACKENDS)}")
