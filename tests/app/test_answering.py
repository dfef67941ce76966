"""The answer core's parts: question analysis, whole sentences, junk, values of the asked kind."""

from __future__ import annotations

import pytest

from heprag.app.answering.evidence import display, is_junk_sentence, whole_sentences
from heprag.app.answering.question import analyse
from heprag.app.answering.values import states_value


@pytest.mark.parametrize(
    ("question", "kind", "quantity"),
    [
        ("How significant was the dimuon excess seen by ATLAS with 139 fb-1?", "value", "significance"),
        ("best-fit mu for ttH at CMS?", "value", "signal_strength"),
        ("What mass did the 2012 ATLAS paper measure for the new boson?", "value", "mass"),
        ("What does FAIR stand for in data preservation?", "definition", None),
        ("How did ATLAS and CMS compare in their 2011 excesses?", "comparison", "generic"),
        ("Which journal published the LHCb forward top paper?", "metadata", None),
        ("How many signing authors did the white paper have?", "value", "count"),
        ("What speed-up does Opticks give over Geant4?", "value", "factor"),
    ],
)
def test_questions_are_classified_by_what_they_ask(question: str, kind: str, quantity: str | None) -> None:
    q = analyse(question)
    assert q.kind == kind
    if quantity not in (None, "generic"):
        assert q.quantity == quantity


def test_according_to_names_whose_paper_to_read_not_the_subject() -> None:
    q = analyse("How large were the 2011 excesses of ATLAS and CMS, according to the CMS observation paper?")
    assert q.source_experiment == "CMS"
    assert q.kind == "comparison"


def test_sentences_stay_whole_across_abbreviations_and_uncertainties() -> None:
    text = (
        "The pump stopped on Saturday Oct. 5 at 01:00 and restarted later. "
        "We measure 670 ± 90 (stat.) +110\n−100 (syst.) fb. See Refs. [3, 4] for details of the method."
    )
    got = whole_sentences(text)
    assert got[0] == "The pump stopped on Saturday Oct. 5 at 01:00 and restarted later."
    assert got[1] == "We measure 670 ± 90 (stat.) +110 −100 (syst.) fb."
    assert got[2].startswith("See Refs. [3, 4] for details")


def test_display_drops_paper_reference_brackets_and_line_end_hyphens() -> None:
    assert (
        display("as predicted by the Stand- ard Model [12–15][3].") == "as predicted by the Standard Model."
    )


@pytest.mark.parametrize(
    "junk",
    [
        "This paper is dedicated to the memory of our colleague who did not live to see the full impact.",
        "7.2 Mass of the observed boson 27",
        "G. Aad, B. Abbott, J. Abdallah, S. Abdel Khalek, A.A. Abdelalim and many others",
        "Introduction . . . . . . . . . . . . 3",
        "Observation of a New Particle in the Search for the Standard Model Higgs Boson",
    ],
)
def test_junk_never_becomes_evidence(junk: str) -> None:
    assert is_junk_sentence(junk)


def test_a_value_of_the_asked_kind_is_recognised() -> None:
    assert states_value("the observed (expected) significance is 2.0σ(1.7σ)", "significance")
    assert states_value("a measured mass of 126.0 ± 0.4 (stat) ± 0.4 (sys) GeV", "mass")
    assert states_value("σ × B = 1.34 ± 0.12 pb", "cross_section")
    assert not states_value("with 139 fb−1 of data", "cross_section")
    assert states_value("with 139 fb−1 of data", "luminosity")
    assert not states_value("the analysis uses boosted decision trees", "significance")


def test_a_value_counts_only_where_the_sentence_names_its_quantity() -> None:
    assert not states_value("The Higgs boson mass is measured to be 124.94 ± 0.17 GeV", "width")
    assert states_value("the total width is constrained to ΓH < 14.4 MeV", "width")
    assert not states_value("a yield of 1.34 ± 0.12 events and 670 fb of data", "mass")
    assert states_value("the inclusive cross-section is measured to be 1.34 ± 0.12 pb", "cross_section")
