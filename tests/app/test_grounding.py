"""Number grounding: quantities are extracted in one canonical form and looked up in the cited passages."""

from __future__ import annotations

import pytest

from heprag.app.grounding import extract_numbers, normalise, ungrounded_numbers
from tests.conftest import require_corpus


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a mass of 125.09 GeV and 3.0σ with 139 fb⁻¹", ["125.09 gev", "3.0σ", "139 fb-1"]),
        ("an excess of 2.0 standard deviations", ["2.0σ"]),
        ("the signal strength μ = 1.2 ± 0.6", ["1.2 ± 0.6"]),
        ("μ = 1.2 +/- 0.6", ["1.2 ± 0.6"]),
        (r"$36.1\,\mathrm{fb}^{-1}$ at $\sqrt{s}=13\,\text{TeV}$", ["36.1 fb-1", "13 tev"]),
        ("36.1 fb^-1 and 5.9 \\sigma", ["36.1 fb-1", "5.9σ"]),
        ("σ = 1.2 × 10^-3 pb", ["1.2e-3 pb"]),
        ("σ = 1.2·10⁻³ pb", ["1.2e-3 pb"]),
        ("at 13\u2009000 GeV", ["13000 gev"]),
        ("at 7\u00a0TeV and 8 TeV", ["7 tev", "8 tev"]),
        ("a resolution of 1.2 % at 95% CL", ["1.2%", "95%"]),
        ("In 2012 the four channels and 20 categories", []),
    ],
)
def test_extract_numbers_normalises_units_and_notation(text: str, expected: list[str]) -> None:
    assert extract_numbers(text) == expected


def test_normalise_is_idempotent_and_unifies_minus_signs() -> None:
    text = "μ = 1.2 ± 0.6, Δ = −0.3, 139 fb−1"
    once = normalise(text)
    assert normalise(once) == once
    assert "-0.3" in once and "139 fb-1" in once


@pytest.mark.parametrize(
    ("sentence", "passage"),
    [
        ("The excess is 2.0σ with 139 fb-1.", "an excess of 2.0 standard deviations using 139 fb−1 of data"),
        ("The mass is 125.09 GeV.", "m_H = 125.09 ± 0.24 GeV"),
        ("The mass is 125.09 GeV.", "m_H = 125.09 ± 0.21 (stat.) ± 0.11 (syst.) GeV"),
        ("It finds μ = 1.2 ± 0.6.", "is μ= 1.2 ± 0.6."),
        ("It finds μ = 1.2 ± 0.6.", "μ = 1.2 +0.6 −0.6"),
        ("The significance is 2.0σ.", "is 2.0σ(1.7σ)."),
        ("Data at √s = 13 TeV.", r"$\sqrt{s} = 13\,\mathrm{TeV}$"),
    ],
)
def test_numbers_written_differently_in_the_source_are_grounded(sentence: str, passage: str) -> None:
    assert ungrounded_numbers(sentence, [passage]) == []


@pytest.mark.parametrize(
    ("sentence", "passage", "missing"),
    [
        ("The mass is 126 GeV.", "m_H = 125.09 ± 0.24 GeV", ["126 gev"]),
        ("The excess is 3.0σ.", "an excess of 2.0σ (expected 3.0)", ["3.0σ"]),
        ("It used 36.1 fb-1.", "using 139 fb−1 of data", ["36.1 fb-1"]),
        ("It finds μ = 1.3 ± 0.6.", "μ = 1.2 ± 0.6", ["1.3 ± 0.6"]),
        ("The mass is 125.0 GeV.", "m_H = 125.09 GeV", ["125.0 gev"]),
        ("The energy is 13 TeV.", "the 13 GeV threshold", ["13 tev"]),
    ],
)
def test_a_number_absent_from_every_cited_passage_is_reported(
    sentence: str, passage: str, missing: list[str]
) -> None:
    assert ungrounded_numbers(sentence, [passage]) == missing


def test_a_number_needs_only_one_of_the_passages() -> None:
    sentence = "The mass is 125.09 GeV and the excess 2.0σ."
    assert ungrounded_numbers(sentence, ["m_H = 125.09 GeV", "an excess of 2.0σ"]) == []
    assert ungrounded_numbers(sentence, []) == ["125.09 gev", "2.0σ"]


def test_the_muon_abstract_numbers_are_grounded_in_the_real_pdf_text() -> None:
    from heprag.ingest.sources.pdf import parse_pdf

    path = require_corpus("pdfs", "higgs", "2007.07830v2.pdf")
    document = next(iter(parse_pdf(path)))
    page_one = [b.text for b in document.blocks if b.page == 1]
    claim = "ATLAS used 139 fb-1 at 13 TeV and saw 2.0σ (1.7σ expected) at 125.09 GeV, μ = 1.2 ± 0.6."
    assert extract_numbers(claim) == ["139 fb-1", "13 tev", "2.0σ", "1.7σ", "125.09 gev", "1.2 ± 0.6"]
    assert ungrounded_numbers(claim, page_one) == []
    assert ungrounded_numbers("ATLAS saw 3.4σ with 139 fb-1.", page_one) == ["3.4σ"]
