"""The shared QA scoring rule: what counts as correct, a fragment, the gold document; the fixed split."""

from __future__ import annotations

from heprag.evals.datasets import QAItem
from heprag.evals.qa_scoring import fragment_reason, gold_matches, is_correct, split_items


def test_an_alias_or_the_first_two_numbers_make_an_answer_correct() -> None:
    assert is_correct(
        "The observed (expected) significance is 2.0σ (1.7σ) [1].", False, "2.0σ observed, 1.7σ expected", []
    )
    assert is_correct("μ = 1.4 ± 0.3 for mH = 126 GeV [2]", False, "μ̂ = 1.4 ± 0.3", ["1.4 ± 0.3"])
    assert is_correct("p0 = 1.7 × 10−7 [1]", False, "x", ["p0 = 1.7 × 10^-4".replace("4", "7")])
    assert not is_correct("2.0σ observed", False, "2.0σ observed, 1.7σ expected", [])
    assert not is_correct("2.0σ (1.7σ)", True, "2.0σ observed, 1.7σ expected", [])  # a refusal never is


def test_fragments_are_cut_sentences() -> None:
    assert fragment_reason("as described in Refs. [2]") == "cut at an abbreviation"
    assert fragment_reason("The pump shut off on Saturday Oct. [1]") == "cut at an abbreviation"
    assert fragment_reason("The cross section is 670 ± 90 (stat.) +110 [2].") == "dangling number or operator"
    assert fragment_reason("This is the Stand- [1]") == "hyphenated line end"
    assert fragment_reason("and the background was fitted [3].") == "starts mid-sentence"
    assert fragment_reason("The observed significance is 2.0σ (1.7σ expected) [1].") is None


def test_gold_documents_match_by_arxiv_id_path_or_record() -> None:
    assert gold_matches("2007.07830v2", ["arXiv:2007.07830v2"])
    assert not gold_matches("2007.07830v2", ["arXiv:2007.078301"])
    tex = "latex/hsf/HSF-TN/2016-01/HSF-TN-2016-01.tex"
    assert gold_matches(
        tex, ["tex:HSF-TN-2016-01", "/work/shared/corpus/latex/hsf/HSF-TN/2016-01/HSF-TN-2016-01.tex"]
    )
    assert gold_matches("1374216", ["inspire:1374216"])
    assert not gold_matches("1374216", ["inspire:13742160"])
    line = "abstracts/arxiv_hepth_2026/hepth_2026.jsonl#2608.19166"
    assert gold_matches(line, ["arXiv:2608.19166"])


def test_the_split_is_fixed_and_halves_every_source_type() -> None:
    items = [
        QAItem(id=f"q{i}", question="q", source_type=t) for i, t in enumerate(["pdf"] * 10 + ["latex"] * 6)
    ]
    tune, report = split_items(items)
    assert (tune, report) == split_items(list(reversed(items)))
    assert not {i.id for i in tune} & {i.id for i in report}
    assert sum(i.source_type == "pdf" for i in report) in (5, 6)
    assert sum(i.source_type == "latex" for i in tune) == 3
