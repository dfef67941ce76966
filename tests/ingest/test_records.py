"""JSONL records from the real corpus: unarXive papers, INSPIRE and arXiv abstract listings."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from heprag.index.errors import LimitExceededError, ParseError
from heprag.index.types import Document
from heprag.ingest.sources.base import ParseLimits
from heprag.ingest.sources.records import RecordStats, clean_latex, parse_jsonl
from tests.conftest import require_corpus

UNARXIVE_LIMITS = ParseLimits(max_line_chars=2_000_000)  # three of its papers are > 1 MB lines


@pytest.fixture(scope="module")
def unarxive_path() -> Path:
    return require_corpus("fulltext", "unarxive_sample", "arXiv_src_2212_086.jsonl")


@pytest.fixture(scope="module")
def unarxive(unarxive_path: Path) -> dict[str, Document]:
    return {d.doc_id: d for d in parse_jsonl(unarxive_path, UNARXIVE_LIMITS)}


@pytest.fixture(scope="module")
def inspire_path() -> Path:
    return require_corpus("abstracts", "inspire_magpie", "hep_abstracts.jsonl")


@pytest.fixture(scope="module")
def hepth() -> list[Document]:
    return list(parse_jsonl(require_corpus("abstracts", "arxiv_hepth_2026", "hepth_2026.jsonl")))


def test_every_unarxive_paper_becomes_a_sectioned_document(unarxive: dict[str, Document]) -> None:
    assert len(unarxive) == 49
    paper = unarxive["arXiv:2212.11825v1"]
    assert paper.title == 'Mesonic "screening masses" in high temperature QCD'
    assert paper.categories == ["hep-ph", "hep-lat"] and paper.date is not None and paper.date.year == 2022
    assert paper.links["abs"] == "https://arxiv.org/abs/2212.11825v1"
    assert paper.blocks[0].kind == "abstract" and paper.blocks[0].section == ["Abstract"]
    sections = list(dict.fromkeys(b.section[0] for b in paper.blocks if b.section))
    assert sections[:3] == ["Abstract", "1 Introduction", '2 Theory of the 2+1-dimensional “quarkonium"']


def test_unarxive_placeholders_become_formulas_citations_and_captions(unarxive: dict[str, Document]) -> None:
    text = "\n".join(b.text for d in unarxive.values() for b in d.blocks)
    assert "{{formula:" not in text and "{{cite:" not in text and "{{figure:" not in text
    paper = unarxive["arXiv:2212.11825v1"]
    body = "\n".join(b.text for b in paper.blocks)
    assert "$m_E^2=({N_c\\over 3}+{N_f \\over 6}) g^2T^2$" in body  # LaTeX kept verbatim
    assert "found in [7]" in body and paper.references[6].text.startswith("E. V. Shuryak, Sov. Phys. JETP 47")
    captions = [b for b in paper.blocks if b.kind == "caption"]
    assert captions[0].text.startswith("Figure 1: In the upper plot mesonic screening masses")
    refs = [r for d in unarxive.values() for r in d.references]
    assert len(refs) > 1000 and sum(1 for r in refs if r.arxiv_id) > 200


def test_subsections_nest_under_their_section(unarxive: dict[str, Document]) -> None:
    paths = {tuple(b.section) for d in unarxive.values() for b in d.blocks}
    nested = [p for p in paths if len(p) >= 2 and p[1].split()[0].count(".") == 1]
    assert nested and all(p[1].startswith(p[0].split()[0] + ".") for p in nested)


def test_lines_over_the_length_cap_are_skipped_and_counted(unarxive_path: Path) -> None:
    stats = RecordStats()
    documents = list(parse_jsonl(unarxive_path, ParseLimits(max_line_chars=1_000_000), stats))
    assert len(documents) == 46 and stats.lines == 49
    assert [n for n, _ in stats.skipped] == [18, 34, 40]
    assert all("max_line_chars" in reason for _, reason in stats.skipped)


def test_inspire_abstracts_get_inspire_ids_links_and_labels(inspire_path: Path) -> None:
    documents = list(parse_jsonl(inspire_path))
    assert len(documents) == 1000
    first = documents[0]
    assert first.doc_id == "inspire:1000222" and first.source == "inspire"
    assert first.links == {"inspire": "https://inspirehep.net/literature/1000222"}
    assert first.categories == ["Phenomenology-HEP"]
    assert [b.kind for b in first.blocks] == ["abstract"]
    raw = [json.loads(line)["abstract"] for line in inspire_path.read_text().splitlines()]
    assert sum("$" in a for a in raw) > 200  # raw LaTeX, converted: only "D$\not$O" keeps a "$"
    assert sum("$" in b.text for d in documents for b in d.blocks) <= 1
    assert any("%" in b.text for d in documents for b in d.blocks)  # ...but "95%" is not a comment


def test_arxiv_listing_records_get_arxiv_ids_dates_and_converted_latex(hepth: list[Document]) -> None:
    assert len(hepth) == 408
    by_id = {d.doc_id: d for d in hepth}
    dimers = by_id["arXiv:2607.20607"]
    assert dimers.title == "Towards Generalized Dimers for GTPs: 𝒩=2 Fractional Branes at Infinite Coupling"
    assert dimers.authors == ["Sebastián Franco", "Diego Rodríguez-Gómez"]
    assert dimers.date is not None and dimers.date.isoformat() == "2026-07-24"
    assert dimers.links["pdf"] == "https://arxiv.org/pdf/2607.20607"
    assert "5d superconformal field theories" in dimers.blocks[0].text
    assert all("\\cite" not in d.blocks[0].text for d in hepth)


def test_malformed_lines_are_skipped_logged_and_counted(
    inspire_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    real = inspire_path.read_text().splitlines()[:5]
    missing = json.dumps({k: v for k, v in json.loads(real[0]).items() if k != "abstract"})
    bad_id = json.dumps({**json.loads(real[1]), "inspire_recid": "not-a-number"})
    lines = [
        real[0],
        "{not json",
        real[1],
        "[1, 2]",
        "",
        real[2],
        missing,
        real[3],
        bad_id,
        real[4][:40],
        real[4],
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    stats = RecordStats()
    with caplog.at_level(logging.WARNING):
        documents = list(parse_jsonl(path, stats=stats))
    assert len(documents) == stats.documents == 5
    assert [n for n, _ in stats.skipped] == [2, 4, 7, 9, 10]
    assert f"{path}:2: skipped record (invalid JSON" in caplog.text
    assert "KeyError" in dict(stats.skipped)[7] and "not a number" in dict(stats.skipped)[9]


def test_unknown_formats_empty_files_and_record_limits(inspire_path: Path, tmp_path: Path) -> None:
    unknown = tmp_path / "scifact.jsonl"
    unknown.write_text('{"doc_id": 1, "sentences": ["a"]}\n')
    with pytest.raises(ParseError, match="unknown JSONL record format"):
        list(parse_jsonl(unknown))
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{\n{\n")
    with pytest.raises(ParseError, match="all 2 records are malformed"):
        list(parse_jsonl(broken))
    with pytest.raises(LimitExceededError, match="max_records_per_file"):
        list(parse_jsonl(inspire_path, ParseLimits(max_records_per_file=10)))


def test_clean_latex_converts_math_and_leaves_plain_text_alone() -> None:
    assert clean_latex("at 95% CL,  R&D -- plain") == "at 95% CL, R&D -- plain"
    assert clean_latex(r"$\sqrt{s}=13$ TeV and 95% CL \cite{x}") == "√(s)=13 TeV and 95% CL"
    assert clean_latex(r"Schr\"odinger at 5% & more") == "Schrödinger at 5% & more"
    assert clean_latex(r"\unclosed{ $x") != ""  # never raises
