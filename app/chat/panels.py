"""Streamlit rendering of one chat turn: answer, validator marks, sources panel, newcomer extras, feedback.

All document text goes through `escape_markdown` / `st.text`; no HTML is ever allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import streamlit as st

from heprag.app.answer import Answer, Citation
from heprag.app.chat.feedback import FeedbackStore, Vote
from heprag.app.chat.reading import ReadingItem
from heprag.app.chat.render import answer_markdown, escape_markdown, flagged_count, highlighted_passage
from heprag.app.chat.sources import source_view
from heprag.app.glossary import GlossaryEntry
from heprag.index.types import Chunk, Document


@dataclass
class Turn:
    """One question and its reply, as kept in the session history."""

    answer: Answer
    notices: list[str] = field(default_factory=list)
    followups: list[str] = field(default_factory=list)
    terms: list[GlossaryEntry] = field(default_factory=list)
    reading: list[ReadingItem] = field(default_factory=list)
    vote: str | None = None


def safe_link(caption: str, url: str) -> str:
    """A markdown link only for http(s) URLs, with characters that could end the link percent-encoded."""
    if not url.startswith(("https://", "http://")):
        return escape_markdown(caption)
    return f"[{escape_markdown(caption)}]({quote(url, safe=':/?#=&%.-_~+')})"


def _chunk_of(citation: Citation, answer: Answer, lookup: Callable[[str], Chunk | None]) -> Chunk | None:
    for hit in answer.hits:
        if hit.chunk.chunk_id == citation.chunk_id:
            return hit.chunk
    return lookup(citation.chunk_id)


def render_source(
    citation: Citation, doc: Document | None, chunk: Chunk | None, expanded: bool = False
) -> None:
    """One citation as an expander: fields, links and the quote highlighted within its passage."""
    view = source_view(citation, doc)
    with st.expander(view.heading(), expanded=expanded):
        if view.title:
            st.markdown(f"**{escape_markdown(view.title)}**")
        if view.kind == "logbook":
            details = [f"logbook {view.logbook}", f"entry {view.entry_id}", view.time, view.author]
        else:
            details = [view.collaboration, view.version]
            details += [f"p. {view.page}" if view.page else "", view.section]
        st.caption(escape_markdown(" · ".join(d for d in details if d)))
        if view.links:
            st.markdown(" · ".join(safe_link(caption, url) for caption, url in view.links.items()))
        text = chunk.text if chunk else citation.quote
        st.markdown(highlighted_passage(text, citation.quote_start, citation.quote_end, citation.quote))


def render_answer(
    turn: Turn,
    document: Callable[[str], Document | None],
    chunk: Callable[[str], Chunk | None],
) -> None:
    """The answer text with inline [n], validator marks, and the sources (or closest passages)."""
    answer = turn.answer
    for notice in turn.notices:
        st.info(notice, icon="ℹ️")
    if answer.refused:
        st.warning(
            "Not found in the indexed literature: no passage supports an answer. "
            "The closest passages are below; try rephrasing or widening the filters."
        )
    elif not answer.citations and not answer.sentences:
        st.warning("No passages matched. Clear the sidebar filters or add documents.")
    else:
        st.markdown(answer_markdown(answer))
        flagged = flagged_count(answer)
        if flagged:
            st.caption(
                f"⚠ {flagged} sentence(s) flagged by the validator (unsupported or ungrounded number)."
            )
    if answer.citations:
        st.markdown("**Closest passages**" if answer.refused else "**Sources**")
        for c in answer.citations:
            render_source(c, document(c.doc_id), _chunk_of(c, answer, chunk))


def glossary_line(entry: GlossaryEntry) -> str:
    """'**LHC** — Large Hadron Collider _(ATLAS 2007.07830v2 §1, p. 2)_', escaped."""
    where = entry.label + (f", p. {entry.page}" if entry.page and "p." not in entry.label else "")
    return (
        f"**{escape_markdown(entry.term)}** — {escape_markdown(entry.definition)} "
        f"_\\({escape_markdown(where)}\\)_"
    )


def render_newcomer(turn: Turn) -> None:
    """Glossary terms used in the answer and a 'start here' list, each cited."""
    if turn.terms:
        st.markdown("**Terms in this answer**")
        for entry in turn.terms:
            st.markdown("- " + glossary_line(entry))
    if turn.reading:
        st.markdown("**Start here**")
        for item in turn.reading:
            title = safe_link(item.title, item.url) if item.url else escape_markdown(item.title)
            st.markdown(f"1. {title} — “{escape_markdown(item.why)}” _\\({escape_markdown(item.label)}\\)_")


def render_followups(turn: Turn, key: str) -> str | None:
    """Follow-up question buttons; returns the one clicked."""
    if not turn.followups:
        return None
    st.caption("Suggested follow-ups")
    clicked = None
    for j, question in enumerate(turn.followups):
        if st.button(question, key=f"{key}-follow-{j}"):
            clicked = question
    return clicked


def render_feedback(turn: Turn, store: FeedbackStore, key: str) -> None:
    """👍/👎 with an optional comment, stored once per answer."""
    if turn.vote:
        st.caption(f"Thanks for the feedback ({'helpful' if turn.vote == 'up' else 'not helpful'}).")
        return
    comment = st.text_input(
        "Comment (optional)",
        key=f"{key}-comment",
        label_visibility="collapsed",
        placeholder="Optional comment on this answer",
    )
    up, down, _ = st.columns([2, 2, 6])
    votes: tuple[tuple[Any, Vote, str, str], ...] = (
        (up, "up", "Helpful", ":material/thumb_up:"),
        (down, "down", "Not helpful", ":material/thumb_down:"),
    )
    for column, vote, label, icon in votes:
        if column.button(label, icon=icon, key=f"{key}-{vote}"):
            store.add(turn.answer, vote, comment)
            turn.vote = vote
            st.rerun()
