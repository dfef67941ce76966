"""The chat's answer engine: streams `Library` events, falls back to the extractive generator when an LLM
backend fails, and turns errors into sentences a user can act on."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from heprag.app.answer import Answer
from heprag.app.events import FinalEvent, RetrievalEvent, TokenEvent
from heprag.app.generators import Audience
from heprag.app.library import Library
from heprag.index.errors import (
    ConfigError,
    HepragError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
)
from heprag.index.filters import SearchFilters
from heprag.index.store import current_generation
from heprag.index.types import Hit

log = logging.getLogger(__name__)
EventKind = Literal["notice", "retrieval", "token", "final"]
_FATAL = (IndexMissingError, IndexMismatchError, IndexCorruptError, ConfigError)


@dataclass
class ChatEvent:
    """One step of a reply: a notice for the user, the retrieved hits, a text token or the final Answer."""

    kind: EventKind
    text: str = ""
    hits: list[Hit] = field(default_factory=list)
    answer: Answer | None = None


def no_index_message(index_dir: Path) -> str | None:
    """Why there is nothing to ask yet, with the fix; None when an index exists."""
    try:
        if current_generation(index_dir) is not None:
            return None
    except IndexCorruptError as exc:
        return f"The index is damaged: {exc}."
    return (
        f"No index yet at `{index_dir}`. Build one with `heprag --index {index_dir} ingest PATH/TO/PDFS` "
        "(or `make run CORPUS=...`), or add documents with **Add documents** in the sidebar."
    )


def user_message(exc: BaseException, index_dir: Path) -> str:
    """An error in words a user can act on."""
    if isinstance(exc, IndexMissingError):
        return no_index_message(index_dir) or str(exc)
    if isinstance(exc, HepragError):
        return str(exc)
    return f"Unexpected {type(exc).__name__}: {exc}. The details are in the server log."


class ChatEngine:
    """Answers questions for the chat page; one per `Library` (the page keeps both per session)."""

    def __init__(self, library: Library) -> None:
        self.library = library

    @property
    def configured_backend(self) -> str:
        return self.library.settings.answer.backend

    def _events(
        self, question: str, filters: SearchFilters | None, backend: str, audience: Audience
    ) -> Iterator[ChatEvent]:
        for event in self.library.stream(question, filters, backend, audience):
            if isinstance(event, RetrievalEvent):
                yield ChatEvent("retrieval", hits=event.hits)
            elif isinstance(event, TokenEvent):
                yield ChatEvent("token", text=event.text)
            elif isinstance(event, FinalEvent):
                yield ChatEvent("final", answer=event.answer)

    def respond(
        self,
        question: str,
        filters: SearchFilters | None = None,
        backend: str | None = None,
        audience: Audience = "researcher",
    ) -> Iterator[ChatEvent]:
        """Events of one reply, for `audience` (the newcomer toggle). An LLM backend that fails (endpoint
        down, bad model) is replaced by the offline extractive generator, with a notice saying so; index
        errors propagate."""
        wanted = backend or self.configured_backend
        try:
            final = yield from self._until_final(self._events(question, filters, wanted, audience))
        except _FATAL:
            raise
        except Exception as exc:
            if wanted == "extractive":
                raise
            log.warning("backend %s failed, falling back to extractive: %s", wanted, exc)
            yield ChatEvent(
                "notice",
                text=f"The {wanted} backend is unreachable or failed ({exc}). "
                "Answered with the offline extractive generator instead.",
            )
            final = yield from self._until_final(self._events(question, filters, "extractive", audience))
            return
        if final is not None and wanted != "extractive" and final.backend == "extractive":
            yield ChatEvent(
                "notice", text=f"The {wanted} backend was not used; this answer is extractive (offline)."
            )

    @staticmethod
    def _until_final(events: Iterator[ChatEvent]) -> Generator[ChatEvent, None, Answer | None]:
        final: Answer | None = None
        for event in events:
            if event.kind == "final":
                final = event.answer
            yield event
        return final
