"""The chat's answer engine: streams `Library` events, falls back to the extractive generator when an LLM
backend fails, and turns errors into sentences a user can act on."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from heprag.app.answer import Answer
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


def _event_parts(event: Any) -> tuple[str, Any]:
    """(kind, payload) of a Library.stream event: pydantic events with `type`, dicts or (kind, value)."""
    if isinstance(event, tuple):
        return str(event[0]), event[1]
    get = event.get if isinstance(event, dict) else lambda name, default=None: getattr(event, name, default)
    kind = str(get("type") or get("kind") or get("event") or "")
    payload = {"retrieval": get("hits"), "token": get("text"), "final": get("answer")}.get(kind)
    return kind, payload


class ChatEngine:
    """Answers questions for the chat page; one per `Library` (the page keeps both per session)."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._accepts_backend = "backend" in inspect.signature(library.ask).parameters

    @property
    def configured_backend(self) -> str:
        return self.library.settings.answer.backend

    def _events(self, question: str, filters: SearchFilters | None, backend: str) -> Iterator[ChatEvent]:
        kwargs: dict[str, Any] = {"backend": backend} if self._accepts_backend else {}
        if hasattr(self.library, "stream"):
            for event in self.library.stream(question, filters=filters, **kwargs):
                kind, payload = _event_parts(event)
                if kind == "retrieval":
                    yield ChatEvent("retrieval", hits=list(payload or []))
                elif kind == "token":
                    yield ChatEvent("token", text=str(payload or ""))
                elif kind == "final":
                    yield ChatEvent("final", answer=payload)
            return
        answer = self.library.ask(question, filters=filters, **kwargs)
        yield ChatEvent("retrieval", hits=answer.hits)
        for sentence in answer.sentences:
            yield ChatEvent("token", text=sentence.text + " ")
        yield ChatEvent("final", answer=answer)

    def respond(
        self, question: str, filters: SearchFilters | None = None, backend: str | None = None
    ) -> Iterator[ChatEvent]:
        """Events of one reply. An LLM backend that fails (endpoint down, bad model) is replaced by the
        offline extractive generator, with a notice saying so; index errors propagate."""
        wanted = backend or self.configured_backend
        try:
            final = yield from self._until_final(self._events(question, filters, wanted))
        except _FATAL:
            raise
        except Exception as exc:
            if wanted == "extractive" or not self._accepts_backend:
                raise
            log.warning("backend %s failed, falling back to extractive: %s", wanted, exc)
            yield ChatEvent(
                "notice",
                text=f"The {wanted} backend is unreachable or failed ({exc}). "
                "Answered with the offline extractive generator instead.",
            )
            final = yield from self._until_final(self._events(question, filters, "extractive"))
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
