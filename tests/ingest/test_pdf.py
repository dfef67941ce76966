from __future__ import annotations

from pathlib import Path

import pytest

from heprag.index.errors import LimitExceededError, ParseError
from heprag.ingest.sources.base import ParseLimits
from heprag.ingest.sources.pdf import parse_pdf


def test_real_atlas_paper_gets_id_collaboration_sections_and_references(higgs_dir: Path) -> None:
    doc = next(parse_pdf(higgs_dir / "2007.07830v2.pdf"))
    assert doc.doc_id == "arXiv:2007.07830v2"
    assert doc.collaboration == "ATLAS"
    assert doc.date is not None and doc.date.year == 2020
    assert doc.links["pdf"] == "https://arxiv.org/pdf/2007.07830v2"
    sections = {b.section[0] for b in doc.blocks if b.section}
    assert {"1 Introduction", "2 ATLAS detector"} <= sections
    assert len(doc.references) > 50  # the bibliography is metadata...
    assert all("Phys. Rev." not in b.text[:40] for b in doc.blocks[-5:])  # ...not chunked prose
    text = " ".join(b.text for b in doc.blocks)
    assert "2.0σ" in text and "𝜎" not in text  # math italic normalised
    assert "arXiv:2007.07830v2 [hep-ex]" not in text  # margin stamp removed
    assert max(b.page or 0 for b in doc.blocks) < doc.extra["pages"]  # author list pages dropped


def test_every_real_higgs_pdf_parses_with_pages(higgs_dir: Path) -> None:
    for path in sorted(higgs_dir.glob("*.pdf")):
        doc = next(parse_pdf(path))
        assert doc.doc_id == f"arXiv:{path.stem}"
        assert doc.collaboration in {"ATLAS", "CMS"}
        # the author metadata ('The ATLAS Collaboration'), else the collaboration found on page 1
        assert len(doc.authors) == 1 and doc.authors[0].endswith(f"{doc.collaboration} Collaboration")
        assert all(b.page and b.page >= 1 for b in doc.blocks)


def test_real_figure_text_is_dropped_and_tables_and_captions_kept(higgs_dir: Path) -> None:
    doc = next(parse_pdf(higgs_dir / "1804.02610v2.pdf"))
    page5 = [b for b in doc.blocks if b.page == 5]
    assert page5[0].kind == "caption" and page5[0].text.startswith("Figure 2: Best fit value")
    assert not any("(stat σ" in b.text or b.text == "Combined" for b in page5)  # the plot's legend
    table = [b.text for b in doc.blocks if b.page == 6]
    assert "1.97+0.71 −0.64" in table and "Uncertainty Parameter Best fit Stat Expt Thbgd Thsig" in table
    assert any("simultaneously" in b.text for b in doc.blocks)  # "simultane-" + "ously" rejoined


def test_every_level_of_numbered_headings_nests_even_with_math_in_the_title(higgs_dir: Path) -> None:
    doc = next(parse_pdf(higgs_dir / "1207.7214v2.pdf"))  # italic "6.1." subsections, bold "6. H→WW"
    paths = {tuple(b.section) for b in doc.blocks}
    assert ("6. H→WW(∗)→eνμν channel", "6.2. Background normalisation and control samples",
            "6.2.1. W+jets background estimation") in paths  # fmt: skip
    assert not any("Observation of a New Particle" in s for p in paths for s in p)  # the title, twice


BODY = (
    "The calorimeter response was calibrated with test-beam electrons and the energy scale was "
    "propagated to the full detector simulation before the physics analysis started. "
)


def _make_report(path: Path) -> Path:
    """A Word-style report: unnumbered headings set apart by size or bold only, and a vector plot."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 80), "Run Coordination Report", fontsize=20)
    page.insert_textbox(pymupdf.Rect(72, 100, 520, 190), BODY * 2, fontsize=10)
    page.insert_text((72, 220), "Beam Conditions", fontsize=14)
    page.insert_textbox(
        pymupdf.Rect(72, 235, 520, 330), BODY + "The magnet was ramped to nomi-\nnal field.", fontsize=10
    )
    page.insert_text((72, 350), "Detector Status", fontsize=10, fontname="hebo")  # Helvetica-Bold
    page.insert_textbox(pymupdf.Rect(72, 365, 520, 440), BODY, fontsize=10)
    plot = page.new_shape()  # canvas, frame and data points (curves), as plotting libraries draw them
    plot.draw_rect(pymupdf.Rect(110, 455, 430, 675))
    plot.finish(color=None, fill=(1, 1, 1))
    plot.draw_rect(pymupdf.Rect(130, 465, 420, 650))
    for i in range(8):
        plot.draw_circle((150 + 30 * i, 640 - 20 * i), 2)
    plot.finish(color=(0, 0, 0))
    plot.commit()
    page.insert_text((300, 500), "Data 2018 Simulation", fontsize=7)
    page.insert_text((135, 665), "0 50 100 150 200 250", fontsize=7)
    page.insert_textbox(
        pymupdf.Rect(72, 690, 520, 730), "Figure 1: Response of the calorimeter.", fontsize=10
    )
    page = doc.new_page()
    page.insert_text((72, 80), "Beam Conditions", fontsize=14)
    page.insert_textbox(pymupdf.Rect(72, 95, 520, 200), BODY * 2, fontsize=10)
    doc.save(path)
    return path


def test_headings_by_size_or_bold_alone_sections_captions_and_figure_text(tmp_path: Path) -> None:
    doc = next(parse_pdf(_make_report(tmp_path / "report.pdf")))
    assert doc.title == "Run Coordination Report"
    assert [(b.page, b.section, b.kind) for b in doc.blocks] == [
        (1, [], "text"),  # before the first heading; the title is not a section
        (1, ["Beam Conditions"], "text"),
        (1, ["Beam Conditions", "Detector Status"], "text"),  # bold at body size: one level down
        (1, ["Beam Conditions", "Detector Status"], "caption"),  # the plot's labels are gone
        (2, ["Beam Conditions"], "text"),
    ]
    assert "ramped to nominal field." in doc.blocks[1].text


def _make_pdf(path: Path, text: str) -> Path:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox(pymupdf.Rect(50, 50, 550, 800), text, fontsize=11)
    doc.save(path)
    return path


def test_generated_pdf_without_arxiv_id_gets_a_file_id(tmp_path: Path) -> None:
    path = _make_pdf(tmp_path / "note.pdf", "The calorimeter was recalibrated after the magnet quench. " * 20)
    doc = next(parse_pdf(path))
    assert doc.doc_id == "pdf:note" and doc.blocks[0].page == 1


def test_corrupt_pdf_is_a_parse_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    with pytest.raises(ParseError, match=r"broken\.pdf"):
        list(parse_pdf(bad))


def test_pdf_without_text_layer_says_ocr_is_not_configured(tmp_path: Path) -> None:
    import pymupdf

    doc = pymupdf.open()
    doc.new_page()
    doc.save(tmp_path / "scan.pdf")
    with pytest.raises(ParseError, match="OCR"):
        list(parse_pdf(tmp_path / "scan.pdf"))


def test_encrypted_pdf_is_reported(tmp_path: Path) -> None:
    import pymupdf

    path = _make_pdf(tmp_path / "plain.pdf", "Secret run plan. " * 50)
    doc = pymupdf.open(path)
    doc.save(tmp_path / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    with pytest.raises(ParseError, match="encrypted"):
        list(parse_pdf(tmp_path / "locked.pdf"))


def test_oversized_file_hits_the_limit(tmp_path: Path) -> None:
    path = _make_pdf(tmp_path / "big.pdf", "Text. " * 100)
    with pytest.raises(LimitExceededError, match="max_file_bytes"):
        list(parse_pdf(path, ParseLimits(max_file_bytes=100)))
