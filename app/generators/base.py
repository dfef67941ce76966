"""The `Generator` interface every answer backend implements, and its error."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from heprag.index.errors import HepragError
from heprag.index.types import Hit


class GenerationError(HepragError):
    """A generator backend failed (endpoint unreachable, model file missing, optional extra absent)."""


class Generator(ABC):
    """Writes an answer with [n] markers, n being the 1-based position of a passage in `passages`."""

    name: str = ""

    @abstractmethod
    def generate(self, question: str, passages: list[Hit]) -> str:
        """The whole answer text, every sentence followed by its [n] markers."""

    def stream(self, question: str, passages: list[Hit]) -> Iterator[str]:
        """The answer as text fragments (tokens); the default yields `generate` in one piece."""
        yield self.generate(question, passages)
