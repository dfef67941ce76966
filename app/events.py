"""Streaming answer events for the chat: retrieval done, tokens, then the final validated Answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from heprag.app.answer import Answer
from heprag.index.types import Hit


class RetrievalEvent(BaseModel):
    """The passages the generator will see, numbered [1..n] in this order."""

    type: Literal["retrieval"] = "retrieval"
    hits: list[Hit]
    seconds: float


class TokenEvent(BaseModel):
    """A fragment of the raw generated text (before validation; markers are passage numbers)."""

    type: Literal["token"] = "token"
    text: str


class FinalEvent(BaseModel):
    """The validated Answer: citations renumbered, flags set, or a refusal."""

    type: Literal["final"] = "final"
    answer: Answer


AnswerEvent = Annotated[RetrievalEvent | TokenEvent | FinalEvent, Field(discriminator="type")]
