"""Plain text, Markdown, HTML and the ATLAS Nougat full text (real corpus files where they exist)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from heprag.index.errors import ParseError
from heprag.index.types import Document
from heprag.ingest.sources.pdf import parse_pdf
from heprag.ingest.sources.text import parse_html, parse_markdown, parse_nougat, parse_text
from tests.conftest import require_corpus


@pytest.fixture(scope="module")
def nougat_dir() -> Path:
    return require_corpus("fulltext", "atlas_nougat")


@pytest.fixture(scope="module")
def gravity(nougat_dir: Path) -> Document:
    """CDS record 2004911: the ATLAS low-scale gravity search, arXiv:1503.08988."""
    return next(parse_nougat(nougat_dir / "papers" / "CDS_Record_2004911" / "latex.txt"))


def test_cds_nougat_text_gets_cds_id_title_and_link_from_meta_info(gravity: Document) -> None:
    assert gravity.doc_id == "cds:2004911" and gravity.source == "nougat"
    assert gravity.title.startswith("Search for low-scale gravity signatures in multi-jet final states")
    assert gravity.title.endswith("with the ATLAS detector at √(s) = 8 TeV")  # $\sqrt{s}$ converted
    assert gravity.links == {"cds": "https://cds.cern.ch/record/2004911"}
    assert gravity.collaboration == "ATLAS" and gravity.extra["missing_pages"] == 2


def test_nougat_sections_abstract_captions_and_references(gravity: Document) -> None:
    abstract = [b for b in gravity.blocks if b.kind == "abstract"]
    assert len(abstract) == 1 and abstract[0].text.startswith(
        "A search for evidence of physics beyond the Standard"
    )
    assert "20.3 fb^-1" in abstract[0].text  # inline \(..\) math converted as a PDF shows it
    sections = list(dict.fromkeys(b.section[0] for b in gravity.blocks if b.section and b.kind != "abstract"))
    assert sections == [
        "2 Theoretical background and previous results", "3 ATLAS detector", "6 Background estimation method",
        "8 Results", "9 Conclusion",
    ]  # fmt: skip
    assert any(b.kind == "caption" and b.text.startswith("Figure 1:") for b in gravity.blocks)
    text = "\n".join(b.text for b in gravity.blocks)
    assert "MISSING_PAGE" not in text and "[inSPIRE]" not in text  # the bibliography is metadata
    assert len(gravity.references) == 12 and gravity.references[5].arxiv_id == "1210.5923"


def test_every_cds_paper_parses_and_meta_info_is_not_a_document(nougat_dir: Path) -> None:
    folders = sorted((nougat_dir / "papers").glob("CDS_Record_*"))
    assert len(folders) == 8
    for folder in folders:
        document = next(parse_nougat(folder / "latex.txt"))
        assert (
            document.doc_id == f"cds:{folder.name.removeprefix('CDS_Record_')}" and len(document.blocks) > 30
        )
        assert list(parse_nougat(folder / "meta_info.txt")) == []
    table = next(b for b in next(parse_nougat(folders[0] / "latex.txt")).blocks if b.kind == "table")
    assert "\\hline" not in table.text and " | " in table.text


def _tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", re.sub(r"[_^]", "", unicodedata.normalize("NFKC", text).casefold())))


def test_pdf_text_matches_the_independent_nougat_text_of_the_same_paper(
    nougat_dir: Path, gravity: Document
) -> None:
    """Token F1 of parse_pdf vs Nougat (benchmarks/parse_quality.py prints the full figures)."""
    pdf = next(parse_pdf(nougat_dir / "arXiv_1503.08988.pdf"))
    reference = _tokens("\n".join(b.text for b in gravity.blocks))
    scores = []
    for skip in (set(), {3, 11}):  # PDF pages 3 and 11 are the Nougat text's two [MISSING_PAGE]s
        candidate = _tokens("\n".join(b.text for b in pdf.blocks if b.page not in skip))
        overlap = sum((candidate & reference).values())
        precision, recall = overlap / sum(candidate.values()), overlap / sum(reference.values())
        scores.append(2 * precision * recall / (precision + recall))
    print(f"\ntoken F1 = {scores[0]:.3f} (all pages), {scores[1]:.3f} (pages both texts have)")
    assert scores[0] >= 0.84 and scores[1] >= 0.89


def test_markdown_sections_nest_by_heading_level_outside_code_fences(tmp_path: Path) -> None:
    readme = require_corpus("latex", "hsf", "HSF-TN", "2024-01", "README.md")
    real = next(parse_markdown(readme))
    assert real.title == "HSF Technical Note HSF-TN-2024-01" and real.doc_id == "md:2024-01/README"
    assert any("@article{Ciangottini:2024vtl" in b.text for b in real.blocks)  # fenced code kept
    path = tmp_path / "notes.md"
    path.write_text(
        "---\ntitle: Shift notes\n---\n# Ignored top\nIntro.\n## Beam\nBeam **lost** at 3 am, see [log](http://x).\n"
        "```\n# not a heading\n```\n### Magnets\nQuench.\n## Detector\nAll good.\n"
    )
    document = next(parse_markdown(path))
    assert document.title == "Shift notes"
    assert [(b.section, b.text) for b in document.blocks] == [
        (["Ignored top"], "Intro."),
        (["Ignored top", "Beam"], "Beam lost at 3 am, see log."),
        (["Ignored top", "Beam"], "``` # not a heading ```"),
        (["Ignored top", "Beam", "Magnets"], "Quench."),
        (["Ignored top", "Detector"], "All good."),
    ]


def test_html_keeps_visible_text_only_with_heading_sections(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Run 3 &amp; beyond</title><style>p {color: red}</style>"
        "<script>var secret = 1;</script></head><body><h1>Run 3</h1><p>Luminosity &gt; 2e34.</p>"
        "<h2>Trigger</h2><div>Rates <b>up</b> 10%.<br>Second line.</div>"
        "<figure><img src=x><figcaption>Figure 1: rates</figcaption></figure><noscript>enable js</noscript>"
    )
    document = next(parse_html(path))
    assert document.title == "Run 3 & beyond"
    assert [(b.section, b.kind, b.text) for b in document.blocks] == [
        (["Run 3"], "text", "Luminosity > 2e34."),
        (["Run 3", "Trigger"], "text", "Rates up 10%."),
        (["Run 3", "Trigger"], "text", "Second line."),
        (["Run 3", "Trigger"], "caption", "Figure 1: rates"),
    ]


def test_plain_text_paragraphs_and_empty_files(tmp_path: Path) -> None:
    readme = require_corpus("fulltext", "atlas_nougat", "README.txt")
    document = next(parse_text(readme))
    assert document.title.startswith("SOURCE: github.com/kaiosborne/chATLAS-Physics-Project")
    assert len(document.blocks) >= 1 and all("\n" not in b.text for b in document.blocks)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  \n")
    with pytest.raises(ParseError, match="no text"):
        next(parse_text(empty))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 at CERN\n".encode("latin-1"))
    assert next(parse_text(latin)).blocks[0].text == "Café at CERN"
