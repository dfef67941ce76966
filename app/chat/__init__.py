"""The Streamlit researcher chat and newcomer onboarding (`heprag chat`).

The Streamlit layout is in `page`/`panels`/`sidebar`; everything testable without a browser — markdown
escaping, sources, glossary, reading list, follow-ups, export, feedback, uploads — is plain functions.
"""

from __future__ import annotations

from heprag.app.chat.engine import ChatEngine, ChatEvent, no_index_message, user_message
from heprag.app.chat.export import bibtex_for, conversation_markdown
from heprag.app.chat.feedback import FeedbackStore
from heprag.app.chat.followups import suggest_followups
from heprag.app.chat.reading import ReadingItem, corpus_citation_counts, reading_list
from heprag.app.chat.render import answer_markdown, escape_markdown, highlighted_passage
from heprag.app.chat.sources import SourceView, source_view
from heprag.app.glossary import GlossaryEntry, build_glossary, search_glossary, terms_in

__all__ = [
    "ChatEngine", "ChatEvent", "FeedbackStore", "GlossaryEntry", "ReadingItem", "SourceView",
    "answer_markdown", "bibtex_for", "build_glossary", "conversation_markdown", "corpus_citation_counts",
    "escape_markdown", "highlighted_passage", "no_index_message", "reading_list", "search_glossary",
    "source_view", "suggest_followups", "terms_in", "user_message",
]  # fmt: skip
