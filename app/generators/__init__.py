"""Answer generators: one `Generator` interface, backends chosen by `answer.backend`."""

from __future__ import annotations

from heprag.app.generators.base import GenerationError, Generator
from heprag.app.generators.factory import BACKENDS, make_generator
from heprag.app.generators.prompt import PROMPT_VERSION, build_messages

__all__ = ["BACKENDS", "PROMPT_VERSION", "GenerationError", "Generator", "build_messages", "make_generator"]
