"""The chat page driven by streamlit.testing's AppTest on a real index: ask, filter, expand a citation,
refusal, LLM endpoint down, no index, newcomer mode (answers and extras), follow-ups, feedback, upload and
arXiv ids fetched from a local arXiv server."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the chat needs the app extra: pip install 'heprag[app]'")
from streamlit.testing.v1 import AppTest

from heprag.ingest.sources.pdf import parse_pdf
from tests.conftest import require_corpus
from tests.ingest.servers import ArxivApi, ArxivPaper, LocalServer

SCRIPT = Path(__file__).resolve().parents[2] / "app" / "chat" / "streamlit_app.py"
QUESTION = "What significance did ATLAS observe for the Higgs boson decay to two muons?"
VBF_QUESTION = "How was the dimuon signal extracted in the VBF category?"
TIMEOUT = 300


def _app(index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("HEPRAG_INDEX_DIR", str(index_dir))
    at = AppTest.from_file(str(SCRIPT), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _sources(at: AppTest) -> list[str]:
    return [e.label for e in at.expander if e.label.startswith("[")]


@pytest.fixture()
def index_copy(small_index: Path, tmp_path: Path) -> Path:
    """A private copy of the session index for tests that write to it."""
    target = tmp_path / "idx"
    shutil.copytree(small_index, target)
    return target


def test_ask_streams_a_cited_answer_with_a_sources_panel(small_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = _ask(_app(small_index, monkeypatch), QUESTION)
    answer = next(m.value for m in at.markdown if "\\[1\\]" in m.value)
    assert "2\\.0σ" in answer  # the observed significance, escaped for markdown
    sources = _sources(at)
    assert sources[0].startswith("[1] ATLAS 2007.07830v2") and all(" p. " in s or "pp." in s for s in sources)
    assert [c.value for c in at.chat_message[0].text] == [QUESTION]


def test_citation_expands_to_its_highlighted_passage_and_links(small_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = _ask(_app(small_index, monkeypatch), QUESTION)
    first = next(e for e in at.expander if e.label.startswith("[1] "))
    shown = [m.value for m in first.markdown]
    assert any(":orange-background[" in v for v in shown), shown
    links = next(v for v in shown if "arXiv abstract" in v)
    assert "https://arxiv.org/abs/2007.07830v2" in links and "2007.07830v2#page=" in links
    assert "https://inspirehep.net/arxiv/2007.07830" in links
    assert "ATLAS" in first.caption[0].value


def test_collaboration_filter_restricts_the_sources(small_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = _app(small_index, monkeypatch)
    assert set(at.multiselect(key="collaborations").options) == {"ATLAS", "CMS"}
    at.multiselect(key="collaborations").set_value(["CMS"]).run()
    sources = _sources(_ask(at, QUESTION))
    assert sources and all(" CMS " in f" {s} " for s in sources), sources


def test_unrelated_question_is_refused_with_the_closest_passages(small_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = _ask(_app(small_index, monkeypatch), "How long should sourdough bread dough rise before baking?")
    assert any("Not found in the indexed literature" in w.value for w in at.warning)
    assert any(m.value == "**Closest passages**" for m in at.markdown)
    assert _sources(at)


def test_unreachable_llm_endpoint_falls_back_to_extractive_and_says_so(small_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HEPRAG_ANSWER__BACKEND", "openai")
    monkeypatch.setenv("HEPRAG_LLM__BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("HEPRAG_LLM__MAX_RETRIES", "0")
    monkeypatch.setenv("HEPRAG_LLM__TIMEOUT_S", "5")
    at = _ask(_app(small_index, monkeypatch), QUESTION)
    assert at.selectbox(key="backend").value == "openai"
    notices = [i.value for i in at.info]
    assert any("openai" in n and "extractive" in n for n in notices), notices
    assert _sources(at)[0].startswith("[1] ATLAS 2007.07830v2")


def test_missing_index_says_how_to_build_one(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = _app(tmp_path / "nowhere", monkeypatch)
    errors = [e.value for e in at.error]
    assert any("No index yet" in e and "ingest" in e for e in errors), errors
    _ask(at, QUESTION)
    assert any(e.value.startswith("Cannot answer yet") for e in at.error)


def test_newcomer_mode_adds_cited_terms_reading_list_and_followups(small_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = _app(small_index, monkeypatch)
    at.toggle(key="newcomer").set_value(True).run()
    at = _ask(at, VBF_QUESTION)
    values = [m.value for m in at.markdown]
    assert "**Terms in this answer**" in values and "**Start here**" in values
    terms = values[values.index("**Terms in this answer**") + 1 : values.index("**Start here**")]
    assert any(t.startswith("- **VBF** — vector") and "ATLAS 2007\\.07830v2" in t for t in terms), terms
    followups = [b for b in at.button if b.key and "-follow-" in b.key]
    assert followups
    followups[0].click().run()
    assert len(at.session_state["turns"]) == 2
    assert at.session_state["turns"][1].answer.question == followups[0].label


def test_glossary_tab_is_searchable(small_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = _app(small_index, monkeypatch)
    at.text_input(key="glossary_query").set_value("hadron").run()
    shown = [m.value for m in at.tabs[1].markdown]
    assert any(v.startswith("**LHC** — Large Hadron Collider") for v in shown), shown
    assert not any(v.startswith("**BDT**") for v in shown)


def test_feedback_vote_is_stored_for_the_evals(index_copy, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = _ask(_app(index_copy, monkeypatch), QUESTION)
    at.text_input(key="t0-comment").set_value("clear and cited")
    at.button(key="t0-up").click().run()
    record = json.loads((index_copy / "feedback.jsonl").read_text().splitlines()[-1])
    assert (record["question"], record["vote"], record["comment"]) == (QUESTION, "up", "clear and cited")
    assert record["citations"][0]["doc_id"] == "arXiv:2007.07830v2"


def test_uploaded_pdf_is_indexed_and_answerable_without_restart(index_copy, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fitz = pytest.importorskip("fitz")
    pdf = fitz.open()
    page = pdf.new_page()
    text = (
        "Calibration of the forward muon chambers. The drift velocity in the forward muon chambers was "
        "measured with cosmic rays and found to be 54.3 micrometres per nanosecond at the nominal gas "
        "mixture, stable within 0.2 percent over the whole data-taking period of the calibration run."
    )
    page.insert_textbox(fitz.Rect(50, 50, 550, 800), text, fontsize=11)
    data = pdf.tobytes()
    at = _app(index_copy, monkeypatch)
    at.file_uploader(key="uploads").set_value(("muon-calibration.pdf", data, "application/pdf")).run()
    at.button(key="index_uploads").click().run()
    assert any("1 added" in s.value for s in at.sidebar.success), [e.value for e in at.sidebar.error]
    assert (index_copy / "uploads" / "muon-calibration.pdf").read_bytes() == data
    assert "4 documents" in at.sidebar.caption[0].value
    _ask(at, "What drift velocity was measured in the forward muon chambers?")
    answer = next(m.value for m in at.markdown if "\\[1\\]" in m.value)
    assert "54\\.3 micrometres per nanosecond" in answer


def test_newcomer_toggle_makes_answers_explain_their_jargon_still_cited(small_index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    at = _ask(_app(small_index, monkeypatch), VBF_QUESTION)
    at.toggle(key="newcomer").set_value(True).run()
    at = _ask(at, VBF_QUESTION)
    researcher, newcomer = (turn.answer for turn in at.session_state["turns"])
    assert "VBF" in researcher.answer and " is short for " not in researcher.answer
    assert "VBF is short for vector-boson fusion" in newcomer.answer
    assert newcomer.answer.index("VBF is short for") < newcomer.answer.index("VBF categories")
    assert all(s.citations and not s.flags for s in newcomer.sentences)
    shown = [m.value for m in at.chat_message[3].markdown]  # the second assistant reply
    assert any("VBF is short for vector\\-boson fusion\\. \\[" in v for v in shown), shown
    definition = next(s for s in newcomer.sentences if s.text.startswith("VBF is short for"))
    cited = next(c for c in newcomer.citations if c.n == definition.citations[0])
    assert cited.doc_id == "arXiv:2007.07830v2" and any(
        e.label.startswith(f"[{cited.n}] ATLAS 2007.07830v2") for e in at.chat_message[3].expander
    )


def test_arxiv_id_typed_in_the_sidebar_is_fetched_indexed_and_answerable_without_restart(
    index_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf = require_corpus("pdfs", "higgs", "1207.7214v2.pdf")  # not in the index yet
    parsed = next(parse_pdf(pdf))
    abstract = next(b.text for b in parsed.blocks if b.section == ["Abstract"])
    api = ArxivApi()
    published = dt.datetime(2012, 7, 31, tzinfo=dt.UTC)
    api.add(
        ArxivPaper(
            "1207.7214", parsed.title, ["ATLAS Collaboration"], abstract, ["hep-ex"], published, 2, pdf
        )
    )
    with LocalServer(api) as server:
        monkeypatch.setenv("HEPRAG_ARXIV__API_URL", f"{server.url}/api/query")
        monkeypatch.setenv("HEPRAG_ARXIV__PDF_BASE_URL", f"{server.url}/pdf")
        monkeypatch.setenv("HEPRAG_ARXIV__DELAY_SECONDS", "0")
        at = _app(index_copy, monkeypatch)
        assert "3 documents" in at.sidebar.caption[0].value
        at.text_input(key="arxiv_ids").set_value("arXiv:1207.7214").run()
        at.button(key="fetch_arxiv").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("1 added" in s.value for s in at.sidebar.success), [e.value for e in at.sidebar.error]
    assert server.paths("/api/query") and server.paths("/pdf/") == ["/pdf/1207.7214v2"]
    assert (index_copy / "uploads" / "arxiv" / "pdf" / "1207.7214v2.pdf").read_bytes() == pdf.read_bytes()
    assert "4 documents" in at.sidebar.caption[0].value  # the same session sees the new generation
    _ask(at, "What mass did the 2012 ATLAS observation paper measure for the new boson, with its errors?")
    answer = at.session_state["turns"][-1].answer
    new = [c for c in answer.citations if c.doc_id == "arXiv:1207.7214v2"]
    assert new and any(s.startswith(f"[{new[0].n}] ATLAS 1207.7214v2") for s in _sources(at)), _sources(at)
    assert any("126.0 ± 0.4" in s.text and new[0].n in s.citations for s in answer.sentences), answer.answer
