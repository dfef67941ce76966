"""The chat page: history, streamed answers, sources, newcomer extras, uploads. Layout only; the logic
lives in the sibling modules. `streamlit_app.py` calls `main()`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import streamlit as st

from heprag.app.answer import Answer
from heprag.app.chat.engine import ChatEngine, no_index_message, user_message
from heprag.app.chat.export import bibtex_for, conversation_markdown
from heprag.app.chat.feedback import FeedbackStore
from heprag.app.chat.followups import suggest_followups
from heprag.app.chat.panels import (
    Turn,
    glossary_line,
    render_answer,
    render_feedback,
    render_followups,
    render_newcomer,
)
from heprag.app.chat.reading import corpus_citation_counts, reading_list
from heprag.app.chat.render import escape_markdown
from heprag.app.chat.sidebar import SidebarChoices, render_sidebar
from heprag.app.chat.upload import (
    fetch_and_ingest,
    ingest_files,
    parse_arxiv_ids,
    report_summary,
    save_uploads,
)
from heprag.app.generators import Audience
from heprag.app.glossary import GlossaryEntry, build_glossary, search_glossary, terms_in
from heprag.app.library import Library
from heprag.app.settings import load_settings
from heprag.index.errors import HepragError
from heprag.index.filters import SearchFilters
from heprag.index.types import Chunk, Document

EnvKey = tuple[tuple[str, str], ...]


@dataclass
class CorpusData:
    """What the sidebar, glossary and reading list need from one index generation."""

    documents: list[Document] = field(default_factory=list)
    glossary: list[GlossaryEntry] = field(default_factory=list)
    cited_in_corpus: dict[str, int] = field(default_factory=dict)


def _env_key() -> EnvKey:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("HEPRAG_")))


@st.cache_resource(show_spinner="Loading the index and the embedding model…")
def get_library(env_key: EnvKey) -> Library:
    """One Library per settings (HEPRAG_* environment), shared by the sessions of this server."""
    return Library(load_settings())


@st.cache_resource(show_spinner="Building the glossary…")
def corpus_data(env_key: EnvKey, generation: str, _library: Library) -> CorpusData:
    meta = _library.index.meta
    documents = list(meta.documents())
    ids, _ = meta.all_texts()
    glossary = build_glossary(meta.chunks_by_ids(ids).values())
    return CorpusData(documents, glossary, corpus_citation_counts(documents))


def _chunk_lookup(library: Library) -> Callable[[str], Chunk | None]:
    def lookup(chunk_id: str) -> Chunk | None:
        found = library.index.meta.chunk_by_chunk_id(chunk_id)
        return found[1] if found else None

    return lookup


def _add_documents(choices: SidebarChoices, library: Library) -> None:
    """Index uploads or arXiv ids with a progress bar; the next run sees the new generation."""
    folder = library.settings.index.dir / "uploads"
    if not (choices.index_uploads or choices.fetch_arxiv):
        return
    bar = st.sidebar.progress(0.0, text="Saving uploads")
    try:
        if choices.index_uploads:
            paths = save_uploads([(f.name, f.getvalue()) for f in choices.uploads], folder)
            report = ingest_files(library, paths, lambda x, text: bar.progress(x, text=text))
        else:
            ids = parse_arxiv_ids(choices.arxiv_text)
            if not ids:
                st.session_state["add_message"] = ("error", "No arXiv id recognised (e.g. 2007.07830).")
                return
            report = fetch_and_ingest(library, ids, folder / "arxiv", lambda x, t: bar.progress(x, text=t))
    except HepragError as exc:
        st.session_state["add_message"] = ("error", str(exc))
        return
    failed = "; ".join(f"{f.path}: {f.reason}" for f in report.failed)
    level = "success" if report.documents_indexed else "error"
    st.session_state["add_message"] = (
        level,
        report_summary(report) + (f". Failed: {failed}" if failed else ""),
    )
    st.rerun()


def _reply(
    engine: ChatEngine, question: str, filters: SearchFilters, backend: str, audience: Audience
) -> tuple[Answer, list[str]]:
    """Stream one reply into the current container; returns the final Answer and the notices."""
    notices: list[str] = []
    final: list[Answer] = []
    placeholder = st.empty()

    def tokens() -> Iterator[str]:
        for event in engine.respond(question, filters, backend, audience):
            if event.kind == "token":
                yield escape_markdown(event.text)
            elif event.kind == "notice":
                notices.append(event.text)
            elif event.kind == "final" and event.answer is not None:
                final.append(event.answer)

    with placeholder.container():
        st.write_stream(tokens())
    placeholder.empty()
    return final[-1], notices


def _conversation_tools(turns: list[Turn], library: Library) -> None:
    if not turns:
        return
    answers = [t.answer for t in turns]
    with st.sidebar:
        st.subheader("Conversation")
        st.download_button(
            "Export as markdown",
            conversation_markdown(answers, library.document),
            file_name="heprag-conversation.md",
            mime="text/markdown",
            key="export",
        )
        cited = [library.document(c.doc_id) for a in answers if not a.refused for c in a.citations]
        bib = bibtex_for(cited)
        if bib:
            with st.expander("Copy BibTeX"):
                st.code(bib, language="bibtex")


def _glossary_tab(data: CorpusData) -> None:
    query = st.text_input(
        "Search the glossary", key="glossary_query", placeholder="e.g. LHC, signal strength"
    )
    found = search_glossary(data.glossary, query)
    st.caption(f"{len(found)} of {len(data.glossary)} terms found in the indexed text")
    for entry in found[:200]:
        st.markdown(glossary_line(entry))


def _start_here_tab(library: Library, data: CorpusData, filters: SearchFilters) -> None:
    topic = st.text_input("Topic", key="reading_topic", placeholder="e.g. Higgs boson decay to bottom quarks")
    if not topic.strip():
        st.caption("Type a topic to get the most central documents of the index for it.")
        return
    hits = library.search(topic, k=30, filters=filters)
    items = reading_list(topic, hits, library.document, data.cited_in_corpus)
    if not items:
        st.warning("No document matches this topic with the current filters.")
    render_newcomer(Turn(answer=Answer(question=topic, answer=""), reading=items))


def main() -> None:
    st.set_page_config(page_title="heprag chat", page_icon="⚛️", layout="wide")
    key = _env_key()
    library = get_library(key)
    index_dir = library.settings.index.dir
    problem = no_index_message(index_dir)
    info, data = None, CorpusData()
    if problem is None:
        try:
            info = library.info()
            data = corpus_data(key, info["generation"], library)
        except HepragError as exc:
            problem = user_message(exc, index_dir)
    s = library.settings
    choices = render_sidebar(info, data.documents, s.answer.backend, s.llm.model)
    message = st.session_state.pop("add_message", None)
    if message:
        getattr(st.sidebar, message[0])(message[1])
    _add_documents(choices, library)

    turns: list[Turn] = st.session_state.setdefault("turns", [])
    engine = ChatEngine(library)
    store = FeedbackStore.for_index(index_dir)
    st.title("heprag")
    st.caption(
        "Cited answers from high-energy-physics papers and logbooks. Every sentence cites its passage [n]."
    )
    chat_tab, glossary_tab, reading_tab = st.tabs(
        [":material/chat: Chat", ":material/menu_book: Glossary", ":material/explore: Start here"]
    )
    typed = st.chat_input("Ask about the indexed papers and logbooks", key="question")
    question = typed or st.session_state.pop("pending", None)
    with chat_tab:
        if problem:
            st.error(problem)
        for i, turn in enumerate(turns):
            with st.chat_message("user"):
                st.text(turn.answer.question)
            with st.chat_message("assistant"):
                _render_turn(turn, library, store, f"t{i}", choices.newcomer)
        if question and problem:
            st.error("Cannot answer yet: " + problem)
        elif question:
            with st.chat_message("user"):
                st.text(question)
            with st.chat_message("assistant"):
                try:
                    audience: Audience = "newcomer" if choices.newcomer else "researcher"
                    answer, notices = _reply(engine, question, choices.filters, choices.backend, audience)
                except HepragError as exc:
                    st.error(user_message(exc, index_dir))
                else:
                    turn = _new_turn(answer, notices, library, data, choices.filters)
                    turns.append(turn)
                    _render_turn(turn, library, store, f"t{len(turns) - 1}", choices.newcomer)
    with glossary_tab:
        _glossary_tab(data)
    with reading_tab:
        if problem is None:
            _start_here_tab(library, data, choices.filters)
    _conversation_tools(turns, library)


def _new_turn(
    answer: Answer, notices: list[str], library: Library, data: CorpusData, filters: SearchFilters
) -> Turn:
    turn = Turn(answer=answer, notices=notices, followups=suggest_followups(answer, data.glossary))
    if not answer.refused:
        text = answer.answer + " " + " ".join(c.quote for c in answer.citations)
        turn.terms = terms_in(text, data.glossary)[:8]
        hits = library.search(answer.question, k=30, filters=filters)
        turn.reading = reading_list(answer.question, hits, library.document, data.cited_in_corpus, n=3)
    return turn


def _render_turn(turn: Turn, library: Library, store: FeedbackStore, key: str, newcomer: bool) -> None:
    render_answer(turn, library.document, _chunk_lookup(library))
    if newcomer:
        render_newcomer(turn)
    clicked = render_followups(turn, key)
    if clicked:
        st.session_state["pending"] = clicked
        st.rerun()
    render_feedback(turn, store, key)
