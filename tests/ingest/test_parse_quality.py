"""Issue #3's acceptance figures on the real corpus (benchmarks/parse_quality.py prints the tables)."""

from __future__ import annotations

from pathlib import Path

import pytest

from heprag.evals.parse_metrics import HSF_PAIRS, hsf_title_agreement, micro, nougat_agreement, tokens
from tests.conftest import require_corpus


@pytest.fixture(scope="module")
def corpus() -> Path:
    require_corpus("latex", "hsf")
    return require_corpus("fulltext", "atlas_nougat").parent.parent


def test_pdf_text_matches_the_independent_nougat_text_of_the_same_paper(corpus: Path) -> None:
    result = nougat_agreement(corpus)
    print(f"\ntoken F1 = {result.whole[2]:.3f} (whole PDF), {result.aligned[2]:.3f} (aligned pages)")
    assert result.skipped_pages == [1, 3, 11]  # the cover page, Nougat's two [MISSING_PAGE]s
    assert result.whole[2] >= 0.9 and result.aligned[2] >= 0.95
    assert result.aligned[0] >= 0.95  # figure labels, legends and axis ticks are no longer text


def test_section_titles_of_hsf_pdfs_agree_with_their_latex(corpus: Path) -> None:
    pairs = [pair for pair in HSF_PAIRS if "detsim" not in pair[0]]  # 68 pages: benchmark only (< 20 s here)
    results = {r.paper: r for r in hsf_title_agreement(corpus, pairs)}
    recall, precision, f1 = micro(list(results.values()))
    print(f"\nsection titles: recall {recall:.2f}, precision {precision:.2f}, agreement F1 {f1:.2f}")
    assert recall >= 0.85 and precision >= 0.9
    same_text = [r for r in results.values() if r.text_f1 >= 0.9]  # not the training chapter's draft PDF
    assert len(same_text) == 10 and all(r.precision >= 0.85 for r in same_text)
    assert results["whitepaper"].recall == 1.0  # \subsection* titles: bold, unnumbered, not in the outline
    assert results["hsf-cwp-dm"].precision == 1.0  # Google Docs: larger plain font, no bold
    assert all(r.outline_in_pdf == len(r.outline) for r in results.values())  # every PDF bookmark found


def test_normalisation_forgives_layout_not_words() -> None:
    assert tokens("H_{T} > 1.2 Te-1.0ptV \\rm") == tokens("HT > 1.2TeV")
    assert tokens("M_ th") == tokens("M_{th}") == tokens("Mth") != tokens("M th")
