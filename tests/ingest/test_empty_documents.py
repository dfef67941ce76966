"""A file that parses but yields no passage is reported as skipped, with the reason, never as added."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heprag.app.cli import app

pymupdf = pytest.importorskip("pymupdf")


def references_only_pdf(path: Path) -> Path:
    """Three lines: a 'References' heading and two entries (text enough to parse, nothing to cite)."""
    doc = pymupdf.open()
    page = doc.new_page()
    lines = [
        ("References", 14),
        ("[1] ATLAS Collaboration, Observation of a new particle in the search for the Standard Model "
         "Higgs boson, Phys. Lett. B 716 (2012) 1", 9),
        ("[2] CMS Collaboration, Observation of a new boson at a mass of 125 GeV with the CMS "
         "experiment, Phys. Lett. B 716 (2012) 30", 9),
    ]  # fmt: skip
    for i, (text, size) in enumerate(lines):
        page.insert_text((20, 72 + 40 * i), text, fontsize=size)
    doc.save(path)
    return path


def test_a_pdf_without_passages_is_skipped_with_a_reason(tmp_path: Path) -> None:
    pdf = references_only_pdf(tmp_path / "refs-only.pdf")
    index = tmp_path / "idx"
    result = CliRunner().invoke(app, ["--index", str(index), "-q", "ingest", str(pdf)])
    assert "0 added" in result.output and "skipped" in result.output and "refs-only.pdf" in result.output
    assert "yields no passages" in result.output
    assert result.exit_code == 1 and "nothing could be ingested" in result.output
    report = json.loads(sorted((index / "reports").glob("ingest-*.json"))[-1].read_text())
    assert report["added"] == [] and report["failed"] == []
    [skipped] = report["skipped"]
    assert skipped["path"] == str(pdf) and skipped["reason"].startswith("pdf:refs-only")
    assert skipped["reason"].endswith("yields no passages (only headings, references or boilerplate?)")
