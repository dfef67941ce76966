"""Answer generators: one `Generator` interface, backends chosen by `answer.backend`."""

from __future__ import annotations

from heprag.app.generators.base import AUDIENCES, Audience, GenerationError, Generator
from heprag.app.generators.factory import BACKENDS, make_generator
from heprag.app.generators.prompt import PROMPT_VERSION, PROMPT_VERSIONS, build_messages

__all__ = [
    "AUDIENCES", "BACKENDS", "PROMPT_VERSION", "PROMPT_VERSIONS", "Audience", "GenerationError", "Generator",
    "build_messages", "make_generator",
]  # fmt: skip
