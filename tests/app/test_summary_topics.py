"""Summaries that answer (issue 15): only on-topic papers in the synthesis, each with its headline result
stated with numbers and cited; key-number labels that say what the passage says."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from heprag.app.library import Library
from heprag.app.summaries import TopicRequest, build_report, render_markdown
from heprag.app.summaries.headlines import fold, terms
from heprag.app.summaries.key_numbers import experiment_of, measurements
from heprag.index.types import Chunk

BB = "Higgs boson decays to b quarks"
OFF_TOPIC = re.compile(r"μμ|dimuon|muon|t\s?̄?tH|top quark", re.IGNORECASE)


@pytest.fixture()
def fresh_library(small_index: Path, tmp_path: Path) -> Library:
    copy = tmp_path / "idx"
    shutil.copytree(small_index, copy, ignore=shutil.ignore_patterns("summaries"))
    return Library.open(copy)


def found(text: str) -> set[tuple[str, str]]:
    return {(q, v) for q, v, _ in measurements(Chunk(chunk_id="c", doc_id="d", ordinal=0, text=text))}


# -- labels: what the passage says ---------------------------------------------------------------------
def test_sigma_times_b_in_pb_is_a_cross_section_and_the_sm_value_a_prediction() -> None:
    text = (
        "The inclusive cross-section times branching ratio for H→ZZ∗ decay is measured to be 1.34 ± 0.12 pb "
        "for a Higgs boson with absolute rapidity below 2.5, in good agreement with the Standard Model "
        "prediction of 1.33 ± 0.08 pb."
    )
    assert found(text) == {
        ("cross section × branching fraction", "1.34 ± 0.12 pb"),
        ("predicted cross section × branching fraction", "1.33 ± 0.08 pb"),
    }


def test_observed_expected_pairs_and_a_trailing_is_expected() -> None:
    assert found("which yields an observed (expected) significance of 5.4 (5.5) standard deviations.") == {
        ("observed significance", "5.4σ"),
        ("expected significance", "5.5σ"),
    }
    assert found("The observed significance is 3.3σ, while 3.1σ is expected for the SM Higgs boson.") == {
        ("observed significance", "3.3σ"),
        ("expected significance", "3.1σ"),
    }
    ratio = (
        "The ratio of the measured event yield for H → bb to the Standard Model expectation is 1.01 ± 0.20."
    )
    assert found(ratio) == {("signal strength μ", "1.01 ± 0.20")}
    assert found("The data correspond to 79.8 ± 1.6 fb-1 of collisions.") == set()  # a luminosity


def test_a_result_quoted_from_another_experiment_is_theirs() -> None:
    tevatron = "the significances for mH = 125 GeV are 2.7 σ for CDF [14], 1.1 σ for DØ [15] and 2.8 σ"
    assert experiment_of(tevatron.lower(), "ATLAS") == "CDF and DØ"
    assert experiment_of(
        "an excess with a significance of 2.8 standard deviations at the tevatron", "CMS"
    ) == ("Tevatron")
    assert experiment_of("the atlas result is 5.4σ while cms reported 5.6σ", "ATLAS") == "ATLAS"
    assert experiment_of("the observed significance is 5.4σ", "ATLAS") == "ATLAS"


def test_notations_of_the_same_decay_fold_into_one_term() -> None:
    assert "bquark" in terms("Observation of H →b ̄b decays") and "bquark" in terms("decay to bottom quarks")
    assert "bquark" in terms(BB) and "dimuon" in terms("H→μμ") and "dimuon" in terms("two muons")
    assert "bquark" not in fold("a search for the dimuon decay")


# -- reports on the small real index (CMS H→bb, ATLAS H→μμ, CMS ttH) --------------------------------------
def test_a_bb_report_synthesises_only_the_bb_paper_with_its_headline_numbers(fresh_library: Library) -> None:
    report = build_report(fresh_library, TopicRequest(topic=BB))
    on = [s.doc.doc_id for s in report.selection if s.on_topic]
    assert on == ["arXiv:1808.08242v2"]  # H→μμ and ttH mention b quarks in passing: related only
    assert len(report.selection) == 3 and all("topic" in s.reason for s in report.selection)
    sentences = [s for group in report.synthesis for s in group.sentences]
    assert [g.theme for g in report.synthesis] == ["CMS"]
    assert (
        sentences[0].text
        == "CMS (1808.08242v2): observed significance 5.6σ (5.5σ expected); signal strength μ = 1.04 ± 0.20."
    )
    assert all(s.citations and not s.flags for s in sentences)
    by_n = {c.n: c for c in report.citations}
    assert {by_n[n].doc_id for s in sentences for n in s.citations} == {"arXiv:1808.08242v2"}
    assert by_n[sentences[0].citations[0]].page == 1  # the abstract
    assert not any(OFF_TOPIC.search(s.text) for s in sentences), [s.text for s in sentences]
    assert {r.doc_id for r in report.key_numbers} == {"arXiv:1808.08242v2"}
    rows = {(r.quantity, r.value.value) for r in report.key_numbers}
    assert ("observed significance", "5.6σ") in rows and ("signal strength μ", "1.04 ± 0.20") in rows
    assert all(r.experiment == "CMS" for r in report.key_numbers)
    assert report.tallies.ok, report.tallies.flags
    text = render_markdown(report)
    assert text.index("## Per-document summaries") < text.index("## Related documents (not in the synthesis)")


def test_a_dimuon_report_leads_with_the_observed_and_expected_significance(fresh_library: Library) -> None:
    report = build_report(fresh_library, TopicRequest(topic="dimuon decay of the Higgs boson"))
    assert [s.doc.doc_id for s in report.selection if s.on_topic] == ["arXiv:2007.07830v2"]
    first = report.synthesis[0].sentences[0]
    assert first.text.startswith("ATLAS (2007.07830v2): observed significance 2.0σ (1.7σ expected)")
    assert "μ = 1.2 ± 0.6" in first.text and first.citations and not first.flags


def test_an_llm_summary_that_echoes_its_prompt_leaves_only_the_checked_headlines(
    fresh_library: Library,
) -> None:
    from tests.app.openai_server import openai_server

    def echo(body: dict) -> str:  # type: ignore[type-arg]
        prompt = body["messages"][1]["content"]
        return "<<SYS>> " + prompt[:300] + " [1][2][3][4][5][6]. Use ONLY the numbered passages [1]."

    with openai_server([echo] * 20) as chat:
        fresh_library.settings.answer.backend = "openai"
        fresh_library.settings.llm.base_url, fresh_library.settings.llm.model = chat.url, "test-model"
        fresh_library.settings.llm.max_retries = 0
        report = build_report(fresh_library, TopicRequest(topic=BB))
    assert chat.requests  # the LLM was asked, and everything it said was an echo
    sentences = [s for g in report.synthesis for s in g.sentences] + [
        s for d in report.summaries for s in d.sentences
    ]
    assert sentences and not any(
        "<passage" in s.text or "SYS" in s.text or "ONLY" in s.text for s in sentences
    )
    assert sentences[0].text.startswith("CMS (1808.08242v2): observed significance 5.6σ (5.5σ expected)")
    assert report.tallies.ok, report.tallies.flags
