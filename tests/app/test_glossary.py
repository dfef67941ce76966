"""The newcomer glossary: readable definitions (a noun phrase and a clause that defines it), never debris.

Read from real chunks of the eight Higgs PDFs (parsed and chunked as ingestion does; nothing embedded).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from heprag.app.glossary import (
    GlossaryEntry,
    build_glossary,
    entries_from_chunk,
    readable_definition,
    readable_long_form,
    readable_term,
)
from heprag.index.types import Chunk
from heprag.ingest.chunking import chunk_document
from heprag.ingest.sources.pdf import parse_pdf


@pytest.fixture(scope="module")
def higgs_glossary(higgs_dir: Path) -> dict[str, GlossaryEntry]:
    chunks = [
        c for pdf in sorted(higgs_dir.glob("*.pdf")) for doc in parse_pdf(pdf) for c in chunk_document(doc)
    ]
    return {e.term: e for e in build_glossary(chunks)}


def chunk(text: str) -> Chunk:
    return Chunk(chunk_id="c", doc_id="arXiv:0000.00000v1", ordinal=0, text=text, label="T 0000.00000v1")


def test_the_issue_examples_of_debris_are_not_entries(higgs_glossary: dict[str, GlossaryEntry]) -> None:
    assert "GeV" not in higgs_glossary  # "σeff (GeV) FWHM/2.35 (GeV)": a table header
    assert (
        "MECTS" not in higgs_glossary
    )  # "…; GRICES and FCT, Portugal; MERYS (MECTS), Romania": funding list
    assert "other nine categories" not in higgs_glossary  # "… are defined as follows: events with …"
    assert "signal regions" not in higgs_glossary  # "60 < m(jj) < 160 GeV in the 0-lepton channel"
    assert readable_definition("sub-processes", "follows: gg → H, qq → qqH") is None
    assert readable_definition("Signal strength", "Signal strength p0") is None
    assert readable_long_form("GeV", "(GeV) FWHM/2.35") is False


def test_every_entry_is_a_noun_phrase_with_a_wordy_definition(
    higgs_glossary: dict[str, GlossaryEntry],
) -> None:
    assert len(higgs_glossary) >= 30
    for entry in higgs_glossary.values():
        assert not re.search(r"[<>=±√�⃗|^_]|\[\d", entry.term + entry.definition), entry
        assert not entry.definition.lower().startswith(("follows", entry.term.lower())), entry
        assert re.match(r"[A-Za-z]", entry.term) and re.match(r"[A-Za-z]", entry.definition), entry
        assert len(re.split(r"[\s-]+", entry.definition)) >= (2 if entry.kind == "acronym" else 3), entry
        assert entry.quote and _squash(entry.definition) in _squash(entry.quote), entry  # cited, verbatim


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())


def test_the_real_definitions_read_as_definitions(higgs_glossary: dict[str, GlossaryEntry]) -> None:
    assert higgs_glossary["VBF"].definition == "vector-boson fusion"
    assert higgs_glossary["LHC"].definition == "Large Hadron Collider"
    assert higgs_glossary["LEE"].definition == "look-elsewhere effect"
    strength = higgs_glossary["signal strength μ"]  # ", is extracted from a simultaneous binned fit" cut off
    assert strength.kind == "definition" and strength.definition == (
        "the measured production cross section times branching fraction divided by the expected SM value"
    )
    assert higgs_glossary["test statistic q"].definition == (
        "the negative of twice the logarithm of the profile likelihood ratio"  # "[42]" dropped
    )
    assert higgs_glossary["transverse impact parameter significance"].definition == (
        "the transverse impact parameter divided by its uncertainty"  # ", d0/σd0" dropped
    )
    assert higgs_glossary["total systematic uncertainty"].definition.startswith(
        "the difference in quadrature"
    )


def test_clauses_are_not_terms() -> None:
    assert readable_term("analysis focuses on a high-pV T region") is None
    assert readable_term("For signal-strength measurements") is None
    assert readable_term("global likelihood fit comprises eight signal regions") is None
    assert readable_term("Emiss T") is None and readable_term("projected Emiss T") is None
    assert readable_term("The total systematic uncertainty is then") == "total systematic uncertainty"
    assert readable_term("signal strength μ") == "signal strength μ"


def test_an_appositive_definition_stops_where_its_sentence_goes_on() -> None:
    text = (
        "The best-fit value of the signal strength, defined as the ratio of the observed signal yield to the "
        "one expected in the SM, is μ = 1.2 ± 0.6. The rapidity is defined as y = 1/2 ln(E+pz)/(E−pz)."
    )
    assert [(e.term, e.definition) for e in entries_from_chunk(chunk(text))] == [
        (
            "best-fit value of the signal strength",
            "the ratio of the observed signal yield to the one expected in the SM",
        )
    ]
