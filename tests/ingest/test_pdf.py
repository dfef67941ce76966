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
        assert all(b.page and b.page >= 1 for b in doc.blocks)


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
