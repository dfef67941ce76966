"""The sidebar: index statistics, newcomer toggle, search filters, backend choice, adding documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from heprag.app.chat.upload import UPLOAD_TYPES
from heprag.index.filters import SearchFilters
from heprag.index.types import Document

BACKENDS = ["extractive", "openai", "llamacpp"]


@dataclass
class SidebarChoices:
    filters: SearchFilters
    backend: str
    newcomer: bool
    uploads: list[Any]
    index_uploads: bool
    arxiv_text: str
    fetch_arxiv: bool


def _year_filter(years: list[int]) -> tuple[int | None, int | None]:
    if not years:
        return None, None
    low, high = min(years), max(years)
    if low == high:
        st.caption(f"Year: {low} (all documents)")
        return None, None
    chosen = st.slider("Year range", low, high, (low, high), key="years")
    return (chosen[0] if chosen[0] > low else None), (chosen[1] if chosen[1] < high else None)


def render_sidebar(
    info: dict[str, Any] | None, documents: list[Document], default_backend: str, model: str
) -> SidebarChoices:
    """Lay out the sidebar and return what the user chose."""
    with st.sidebar:
        st.header("heprag")
        newcomer = st.toggle(
            "Newcomer mode",
            key="newcomer",
            help="Answers that explain acronyms and jargon on first use (still cited), with the glossary "
            "terms, a reading list and follow-ups",
        )
        if info is not None:
            counts = info["counts"]
            st.caption(
                f"{counts['documents']} documents · {counts['chunks']} passages · {info['generation']} · "
                f"{info['manifest']['embedding']['model']}"
            )
        st.subheader("Filters")
        year_min, year_max = _year_filter(sorted({d.year for d in documents if d.year}))
        categories = st.multiselect(
            "arXiv category", sorted({c for d in documents for c in d.categories}), key="categories"
        )
        collaborations = st.multiselect(
            "Collaboration / experiment",
            sorted({d.collaboration for d in documents if d.collaboration}),
            key="collaborations",
        )
        source_types = st.multiselect(
            "Source type",
            sorted({d.source_type for d in documents} | {"paper", "logbook"}),
            key="source_types",
        )
        titles = {d.doc_id: f"{d.short_name} — {d.title[:60]}" for d in documents}
        doc_ids = st.multiselect(
            "Documents", list(titles), format_func=lambda i: titles.get(i, i), key="doc_ids"
        )
        st.subheader("Answer generator")
        index = BACKENDS.index(default_backend) if default_backend in BACKENDS else 0
        backend = st.selectbox("Backend", BACKENDS, index=index, key="backend")
        if backend != "extractive":
            st.caption(f"Model: {model} (from settings `llm.model`)")
        with st.expander("Add documents"):
            uploads = st.file_uploader(
                "PDF / TeX / logbook files", type=UPLOAD_TYPES, accept_multiple_files=True, key="uploads"
            )
            index_uploads = st.button("Index uploaded files", key="index_uploads", disabled=not uploads)
            arxiv_text = st.text_input("arXiv ids", placeholder="2007.07830, 1207.7214", key="arxiv_ids")
            fetch = st.button(
                "Fetch from arXiv and index", key="fetch_arxiv", disabled=not arxiv_text.strip()
            )
    filters = SearchFilters(
        year_min=year_min,
        year_max=year_max,
        categories=categories,
        collaborations=collaborations,
        source_types=source_types,
        doc_ids=doc_ids,
    )
    return SidebarChoices(filters, backend, newcomer, list(uploads or []), index_uploads, arxiv_text, fetch)
