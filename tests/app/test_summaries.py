"""`heprag summarize`: cited topic reports on the small real index (H→μμ, H→bb, ttH papers)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from heprag.app.answer import Sentence
from heprag.app.library import Library
from heprag.app.summaries import TopicRequest, build_report, render_html, render_markdown, write_report
from heprag.app.summaries.key_numbers import found_in_passage, measurements
from heprag.app.summaries.writer import parse_filters, read_batch
from heprag.index.errors import ConfigError
from heprag.index.types import Chunk

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
TOPIC = "dimuon decay of the Higgs boson"


@pytest.fixture()
def fresh_library(small_index: Path, tmp_path: Path) -> Library:
    """The small index copied, so each test starts with an empty summary cache."""
    copy = tmp_path / "idx"
    shutil.copytree(small_index, copy, ignore=shutil.ignore_patterns("summaries"))
    return Library.open(copy)


def _all_sentences(report) -> list[Sentence]:  # type: ignore[no-untyped-def]
    return [s for g in report.synthesis for s in g.sentences] + [
        s for d in report.summaries for s in d.sentences
    ]


# -- key numbers: extraction and the found-in-passage check -----------------------------------------
def test_key_numbers_are_read_from_the_passage_and_checked_against_it() -> None:
    text = (
        "The observed (expected) significance over the background-only hypothesis is 2.0σ (1.7σ). "
        "The signal strength is μ = 1.2 ± 0.6, using 139 fb−1 at √s = 13 TeV."
    )
    found = {(q, v) for q, v, _ in measurements(Chunk(chunk_id="c", doc_id="d", ordinal=0, text=text))}
    assert ("observed significance", "2.0σ") in found
    assert ("expected significance", "1.7σ") in found
    assert ("signal strength μ", "1.2 ± 0.6") in found
    assert found_in_passage("139 fb⁻¹", text) and found_in_passage("13 TeV", text)
    assert not found_in_passage("1.2 ± 0.7", text)  # a wrong uncertainty is caught
    assert not found_in_passage("140 fb⁻¹", text)
    assert not found_in_passage("2.0 GeV", text)  # the right number with the wrong unit
    assert not found_in_passage("—", text)  # nothing to check is not a pass


def test_filters_and_batch_files_are_parsed_strictly(tmp_path: Path) -> None:
    f = parse_filters(["collaboration=ATLAS,CMS", "year>=2018", "category=hep-ex"])
    assert f.collaborations == ["ATLAS", "CMS"] and f.year_min == 2018 and f.categories == ["hep-ex"]
    with pytest.raises(ConfigError, match="unknown key"):
        parse_filters(["colaboration=ATLAS"])
    batch = tmp_path / "topics.yaml"
    batch.write_text("- Higgs to muons\n- topic: H to bb\n  since: 2018\n  filter: [collaboration=CMS]\n")
    requests = read_batch(batch)
    assert [r.topic for r in requests] == ["Higgs to muons", "H to bb"]
    assert requests[1].since == 2018 and requests[1].filters.collaborations == ["CMS"]
    batch.write_text("- topic: x\n  sinse: 2018\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        read_batch(batch)


# -- the report on real papers ---------------------------------------------------------------------
@pytest.mark.corpus
@pytest.mark.slow
def test_report_is_fully_cited_and_every_key_number_is_in_its_passage(fresh_library: Library) -> None:
    report = build_report(fresh_library, TopicRequest(topic=TOPIC))
    ids = [s.doc.doc_id for s in report.selection]
    assert ids[0] == "arXiv:2007.07830v2"  # the H→μμ paper is the most relevant
    assert len(ids) == len(set(ids))  # diversified: one entry per document
    assert all(s.reason and s.hits for s in report.selection)
    sentences = _all_sentences(report)
    assert sentences and all(s.citations and not s.flags for s in sentences)
    assert report.tallies.sentences == len(sentences) == report.tallies.sentences_valid
    by_n = {c.n: c for c in report.citations}
    cells = [c for row in report.key_numbers for c in (row.value, row.sqrt_s, row.luminosity) if c]
    assert report.tallies.key_values == len(cells) == report.tallies.key_values_found > 0
    for cell in cells:  # re-check independently: the cell's value is in the passage it cites
        chunk_id = by_n[cell.citation].chunk_id  # type: ignore[index]
        assert found_in_passage(cell.value, fresh_library.index.meta.chunk_by_chunk_id(chunk_id)[1].text)
    mumu = {(r.quantity, r.value.value) for r in report.key_numbers if r.doc_id == "arXiv:2007.07830v2"}
    assert ("signal strength μ", "1.2 ± 0.6") in mumu and ("observed significance", "2.0σ") in mumu
    assert [item.doc_id for item in report.reading_list] and len(report.reading_list) == len(ids)


@pytest.mark.corpus
@pytest.mark.slow
def test_second_run_hits_the_cache_and_is_faster(fresh_library: Library, tmp_path: Path) -> None:
    request = TopicRequest(topic="Higgs boson decay to bottom quarks", since=2018)
    first = write_report(fresh_library, request, tmp_path / "a" / "r.md")
    t0 = time.perf_counter()
    second = write_report(fresh_library, request, tmp_path / "b" / "r.md")
    assert first.report.cache_hits == 0
    assert second.report.cache_hits == len(second.report.selection) > 0
    assert second.seconds < first.seconds and time.perf_counter() - t0 < first.seconds
    assert second.first_seconds == pytest.approx(first.seconds)
    assert render_markdown(first.report) == render_markdown(second.report).replace(
        second.report.created, first.report.created
    )  # the same report, from the cache
    assert all(doc.year >= 2018 for doc in (s.doc for s in second.report.selection))  # type: ignore[operator]


@pytest.mark.corpus
@pytest.mark.slow
def test_html_escapes_document_text(fresh_library: Library) -> None:
    report = build_report(fresh_library, TopicRequest(topic=TOPIC))
    evil = "<script>alert('x')</script>"
    report.selection[0].hits[0].chunk.text = evil + report.selection[0].hits[0].chunk.text
    report.summaries[0].sentences[0].text = evil
    report.citations[0].quote = evil
    page = render_html(report)
    assert "<script>" not in page and "&lt;script&gt;" in page
    markdown = render_markdown(report)
    assert "\\<script\\>" in markdown and not re.search(r"(?<!\\)<script", markdown)  # inert in markdown


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.browser
def test_cli_writes_report_and_html_renders_in_chromium(fresh_library: Library, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from heprag.app.cli import app

    out, page = tmp_path / "report.md", tmp_path / "report.html"
    index = str(fresh_library.settings.index.dir)
    args = ["--index", index, "summarize", "--topic", TOPIC, "--out", str(out), "--html", str(page), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "key numbers found in their cited passages" in result.output
    text = out.read_text()
    assert "## Key numbers" in text and "```bibtex" in text and "](report.timeline.png)" in text
    assert (tmp_path / "report.timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'src="data:image/png;base64,' in page.read_text()
    if not CHROMIUM.exists():
        pytest.skip("headless Chromium not installed at /usr/bin/chromium (apt-get install chromium)")
    shot = REPO / "artifacts" / "summaries" / "report.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.unlink(missing_ok=True)
    subprocess.run(
        [str(CHROMIUM), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--no-first-run", f"--screenshot={shot}",
         "--window-size=1200,1600", page.as_uri()],
        check=True, timeout=120, capture_output=True,
    )  # fmt: skip
    assert shot.stat().st_size > 10_000
