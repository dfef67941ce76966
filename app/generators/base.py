"""The `Generator` interface every answer backend implements, and its error."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Literal

from heprag.index.errors import HepragError
from heprag.index.types import Hit

Audience = Literal["researcher", "newcomer"]
AUDIENCES: tuple[Audience, ...] = ("researcher", "newcomer")


class GenerationError(HepragError):
    """A generator backend failed (endpoint unreachable, model file missing, optional extra absent)."""


class Generator(ABC):
    """Writes an answer with [n] markers, n being the 1-based position of a passage in `passages`.

    `audience="newcomer"` asks for an answer a first-year graduate student can follow: jargon explained
    on first use, and still cited. The passages then end with those added only because they define the
    jargon of the others (`Hit.retrievers == ["glossary"]`, see `heprag.app.glossary.with_definitions`).
    """

    name: str = ""

    @abstractmethod
    def generate(
        self,
        question: str,
        passages: list[Hit],
        audience: Audience = "researcher",
        *,
        expected_kind: str | None = None,
    ) -> str:
        """The whole answer text, every sentence followed by its [n] markers.

        `expected_kind` is what the question analysis says is asked (value, definition, comparison…)."""

    def stream(
        self,
        question: str,
        passages: list[Hit],
        audience: Audience = "researcher",
        *,
        expected_kind: str | None = None,
    ) -> Iterator[str]:
        """The answer as text fragments (tokens); the default yields `generate` in one piece."""
        yield self.generate(question, passages, audience, expected_kind=expected_kind)
