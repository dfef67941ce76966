"""heprag.app: answers with citations, settings, CLI, chat, MCP server and batch summaries."""

from heprag.app.answer import Answer, Citation, Sentence
from heprag.app.library import Library
from heprag.app.settings import Settings, load_settings

__all__ = ["Answer", "Citation", "Library", "Sentence", "Settings", "load_settings"]
