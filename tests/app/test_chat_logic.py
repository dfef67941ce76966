"""The chat's plain-function logic: safe rendering, sources, glossary, reading list, export, feedback."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from heprag.app.answer import Answer, Citation, Sentence
from heprag.app.chat.command import streamlit_command
from heprag.app.chat.export import bibtex_for, conversation_markdown
from heprag.app.chat.feedback import FeedbackStore
from heprag.app.chat.followups import suggest_followups
from heprag.app.chat.reading import corpus_citation_counts, reading_list
from heprag.app.chat.render import answer_markdown, escape_markdown, highlighted_passage
from heprag.app.chat.sources import source_view
from heprag.app.chat.upload import parse_arxiv_ids, safe_name, save_uploads
from heprag.app.glossary import build_glossary, long_form, search_glossary, terms_in
from heprag.index.types import Document

QUESTION = "What significance did ATLAS observe for the Higgs boson decay to two muons?"
EVIL = '<script>alert("x")</script> **bold** [click](javascript:alert(1)) $x^2$ :red[boom]'


def test_escaped_document_text_contains_no_html_link_or_markup() -> None:
    out = escape_markdown(EVIL)
    assert "<script" not in out and "</script" not in out
    assert "&lt;script&gt;" in out
    for markup in (r"\*", r"\]\(", r"\[", r"\$", r":"):  # each occurrence is backslash-escaped
        assert not re.search(r"(?<!\\)" + markup, out), markup


def test_highlighted_passage_marks_the_quote_and_escapes_the_rest() -> None:
    text = f"Before. {EVIL} The signal is 2.0σ. After."
    quote = "The signal is 2.0σ."
    out = highlighted_passage(text, text.index(quote), text.index(quote) + len(quote))
    assert ":orange-background[The signal is 2\\.0σ\\.]" in out
    assert "<script" not in out and not re.search(r"(?<!\\)\]\(", out)
    # offsets missing: the quote is found by text; not found: the passage is shown unhighlighted
    assert ":orange-background[" in highlighted_passage(text, None, None, quote)
    assert ":orange-background[" not in highlighted_passage(text, None, None, "absent quote")


def test_flagged_sentences_are_marked_and_explained() -> None:
    answer = Answer(
        question="q",
        answer="A [1]. B.",
        sentences=[
            Sentence(text="It is 2.0σ.", citations=[1]),
            Sentence(text="It is 9.9σ.", citations=[1], flags=["ungrounded:9.9σ"]),
            Sentence(text="No source.", flags=["uncited"]),
        ],
    )
    md = answer_markdown(answer)
    assert "It is 2\\.0σ\\. \\[1\\]" in md
    assert ":red[⚠ It is 9\\.9σ\\. \\[1\\]]" in md and "number 9\\.9σ not found in the cited passage" in md
    assert ":red[⚠ No source\\.]" in md and "no citation" in md


def _citation(n: int = 1, page: int | None = 12) -> Citation:
    return Citation(
        n=n,
        chunk_id="arXiv:2007.07830v2#40",
        doc_id="arXiv:2007.07830v2",
        label="ATLAS 2007.07830v2 §5, p. 12",
        page=page,
        section="5 Results",
        quote="q",
    )


def _paper() -> Document:
    return Document(
        doc_id="arXiv:2007.07830v2",
        title="A search for the dimuon decay",
        collaboration="ATLAS",
        date=dt.date(2020, 12, 15),
        links={"abs": "https://arxiv.org/abs/2007.07830v2", "pdf": "https://arxiv.org/pdf/2007.07830v2",
               "inspire": "https://inspirehep.net/arxiv/2007.07830"},
    )  # fmt: skip


def test_paper_source_links_to_abstract_pdf_page_and_inspire() -> None:
    view = source_view(_citation(), _paper())
    assert (view.kind, view.collaboration, view.version, view.page) == ("paper", "ATLAS", "v2", 12)
    assert view.links == {
        "arXiv abstract": "https://arxiv.org/abs/2007.07830v2",
        "PDF p. 12": "https://arxiv.org/pdf/2007.07830v2#page=12",
        "INSPIRE": "https://inspirehep.net/arxiv/2007.07830",
    }
    assert view.heading() == "[1] ATLAS 2007.07830v2 §5, p. 12"


def test_logbook_source_shows_logbook_entry_time_and_author() -> None:
    entry = Document(
        doc_id="elog:ISOLDE/412", source="elog", source_type="logbook", authors=["J. Smith"],
        extra={"logbook": "ISOLDE", "entry_id": "412", "time": "2018-05-03 14:20"},
    )  # fmt: skip
    view = source_view(_citation(page=None), entry)
    assert (view.kind, view.logbook, view.entry_id, view.time, view.author) == (
        "logbook", "ISOLDE", "412", "2018-05-03 14:20", "J. Smith"
    )  # fmt: skip


def test_long_form_follows_initials_and_rejects_non_acronyms() -> None:
    assert long_form("LHC", "collisions at the CERN Large Hadron Collider") == "Large Hadron Collider"
    assert long_form("NNLO", "computed at next-to-next-to-leading order") == "next-to-next-to-leading order"
    assert long_form("SSM", "the number of signal events expected in the SM") is None  # a subscript
    assert long_form("FWO", "funding from the Research Foundation Flanders") is None  # initials absent
    assert long_form("Stat", "their statistical") is None  # not an acronym


def test_glossary_from_real_papers_is_cited(library) -> None:  # type: ignore[no-untyped-def]
    meta = library.index.meta
    ids, _ = meta.all_texts()
    glossary = build_glossary(meta.chunks_by_ids(ids).values())
    by_term = {e.term: e for e in glossary}
    assert by_term["LHC"].definition == "Large Hadron Collider"
    assert by_term["BDT"].definition.lower().startswith("boosted decision tree")
    assert by_term["SM"].definition.lower() == "standard model"
    for entry in glossary:  # every entry is cited by a passage that states it
        assert entry.term in entry.quote and entry.label and entry.chunk_id.startswith(entry.doc_id)
    assert search_glossary(glossary, "lhc")[0].term == "LHC"
    assert "LHC" in {e.term for e in terms_in("data from the LHC in Run 2", glossary)}
    assert "LHC" in {e.term for e in terms_in("built at the large hadron collider", glossary)}
    assert "LHC" not in {e.term for e in terms_in("the word LHCb is another experiment", glossary)}


def test_in_corpus_citations_come_from_reference_lists(library) -> None:  # type: ignore[no-untyped-def]
    counts = corpus_citation_counts(library.index.meta.documents())
    # the H->bb (1808.08242) and H->mumu (2007.07830) papers both cite the ttH observation (1804.02610)
    assert counts["arXiv:1804.02610v2"] == 2
    assert counts.get("arXiv:2007.07830v2", 0) == 0  # the newest paper is cited by none of the others


def test_reading_list_ranks_documents_with_a_cited_reason(library) -> None:  # type: ignore[no-untyped-def]
    topic = "observation of Higgs boson decay to bottom quarks"
    items = reading_list(topic, library.search(topic, k=30), library.document, {})
    assert items[0].doc_id == "arXiv:1808.08242v2"
    assert len({i.doc_id for i in items}) == len(items)
    for item in items:
        assert item.why and item.doc_id.split(":")[1] in item.label and item.url.startswith("https://")


def test_followups_ask_about_unexplained_terms_not_the_question(library) -> None:  # type: ignore[no-untyped-def]
    meta = library.index.meta
    ids, _ = meta.all_texts()
    glossary = build_glossary(meta.chunks_by_ids(ids).values())
    answer = library.ask(QUESTION)
    followups = suggest_followups(answer, glossary, k=3)
    assert 1 <= len(followups) <= 3 and all(q.endswith("?") for q in followups)
    assert QUESTION not in followups and len(set(followups)) == len(followups)


def test_conversation_export_and_bibtex_cover_cited_papers(library) -> None:  # type: ignore[no-untyped-def]
    answer = library.ask(QUESTION)
    md = conversation_markdown([answer], library.document)
    assert md.startswith("# heprag conversation")
    assert f"## Q1. {QUESTION}" in md and "**References**" in md
    first = answer.citations[0]
    assert f"1. {first.label}" in md and f"<{first.url}>" in md
    bib = bibtex_for([library.document(c.doc_id) for c in answer.citations] + [None])
    assert bib.count("@article{") == len({c.doc_id for c in answer.citations})
    assert "eprint = {2007.07830}" in bib and "ATLAS" in bib


def test_feedback_is_appended_as_jsonl(tmp_path: Path) -> None:
    store = FeedbackStore.for_index(tmp_path)
    answer = Answer(question="q?", answer="a [1]", citations=[_citation()])
    store.add(answer, "up", "  great  ")
    store.add(answer, "down")
    with store.path.open("a") as fh:
        fh.write('{"truncated": \n')
    records = store.records()
    assert [(r["vote"], r["comment"]) for r in records] == [("up", "great"), ("down", "")]
    assert records[0]["citations"][0]["chunk_id"] == "arXiv:2007.07830v2#40"
    assert json.loads(store.path.read_text().splitlines()[0])["question"] == "q?"
    with pytest.raises(ValueError, match="vote must be"):
        store.add(answer, "maybe")  # type: ignore[arg-type]


def test_uploads_stay_in_their_folder_and_keep_different_files(tmp_path: Path) -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\x y.pdf") == "x_y.pdf"
    paths = save_uploads([("../a.pdf", b"1"), ("a.pdf", b"2"), ("a.pdf", b"1")], tmp_path / "up")
    assert [p.name for p in paths] == ["a.pdf", "a-1.pdf", "a.pdf"]
    assert all(p.parent == tmp_path / "up" for p in paths)


def test_arxiv_ids_are_parsed_from_free_text() -> None:
    assert parse_arxiv_ids("2007.07830, arXiv:1207.7214v2 hep-ex/0102003 and 2007.07830") == [
        "2007.07830", "1207.7214v2", "hep-ex/0102003"
    ]  # fmt: skip
    assert parse_arxiv_ids("no ids here") == []


def test_chat_command_runs_streamlit_with_the_requested_port() -> None:
    cmd = streamlit_command(8765, headless=True)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("streamlit_app.py")
    assert cmd[cmd.index("--server.port") + 1] == "8765"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
