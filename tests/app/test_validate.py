"""The validator: markers parsed, unknown citations removed, numbers grounded, refusal when nothing holds."""

from __future__ import annotations

from heprag.app.answer import REFUSAL_PHRASE
from heprag.app.citations import parse_markers
from heprag.app.validate import is_valid, validate
from heprag.index.types import Chunk, Hit

PASSAGES = [
    "The observed significance for a Higgs boson with a mass of 125.09 GeV is 2.0σ (1.7σ expected).",
    "The data correspond to an integrated luminosity of 139 fb−1 at √s = 13 TeV.",
    "The best-fit signal strength is μ = 1.2 ± 0.6 relative to the Standard Model.",
]


def hits(texts: list[str] = PASSAGES) -> list[Hit]:
    return [
        Hit(
            chunk=Chunk(
                chunk_id=f"c{i}", doc_id=f"arXiv:0000.000{i}v1", ordinal=i, text=t, page_start=i + 1,
                label=f"TEST 0000.000{i}v1, p. {i + 1}",
            ),
            score=1.0 / (i + 1), rank=i + 1, dense_score=0.6,
        )
        for i, t in enumerate(texts)
    ]  # fmt: skip


def check(text: str, on_ungrounded: str = "flag"):  # type: ignore[no-untyped-def]
    return validate("q?", text, hits(), {}, "test", on_ungrounded)  # type: ignore[arg-type]


def test_a_marker_after_the_final_stop_belongs_to_the_sentence_before() -> None:
    assert parse_markers("The excess is 2.0σ. [1] The luminosity is 139 fb−1. [2]") == [
        ("The excess is 2.0σ.", [1]),
        ("The luminosity is 139 fb−1.", [2]),
    ]
    assert parse_markers("Seen [1,3]. Also seen [2–3].") == [("Seen.", [1, 3]), ("Also seen.", [2, 3])]


def test_a_well_cited_grounded_answer_passes_and_is_renumbered_by_first_use() -> None:
    answer = check("The luminosity was 139 fb-1 at 13 TeV [2]. The excess was 2.0σ at 125.09 GeV [1][2].")
    assert not answer.refused
    assert [s.citations for s in answer.sentences] == [[1], [1, 2]]
    assert [s.flags for s in answer.sentences] == [[], []]
    assert [c.chunk_id for c in answer.citations] == ["c1", "c0"]
    assert answer.answer.endswith("125.09 GeV [1][2].")
    assert answer.citations[1].quote.startswith("The observed significance")


def test_an_unknown_passage_number_is_removed_and_flagged() -> None:
    answer = check("The excess was 2.0σ [1][7]. A claim from nowhere [9].")
    first, second = answer.sentences
    assert first.citations == [1] and first.flags == ["unknown-citation:7"] and is_valid(first)
    assert second.citations == [] and second.flags == ["unknown-citation:9", "uncited"]
    assert "[7]" not in answer.answer and "[9]" not in answer.answer
    assert len(answer.citations) == 1


def test_a_number_missing_from_the_cited_passage_is_flagged_even_if_another_passage_has_it() -> None:
    answer = check("The excess was 3.4σ [1]. The luminosity was 139 fb-1 [1]. It was 2.0σ [1].")
    assert answer.sentences[0].flags == ["ungrounded:3.4σ"]
    assert answer.sentences[1].flags == ["ungrounded:139 fb-1"]  # it is in passage 2, not the cited 1
    assert [is_valid(s) for s in answer.sentences] == [False, False, True] and not answer.refused


def test_drop_mode_removes_failing_sentences_and_keeps_the_rest() -> None:
    answer = check(
        "The excess was 3.4σ [1]. The signal strength is μ = 1.2 ± 0.6 [3]. Uncited claim.", "drop"
    )
    assert [s.text for s in answer.sentences] == ["The signal strength is μ = 1.2 ± 0.6."]
    assert answer.sentences[0].citations == [1] and answer.citations[0].chunk_id == "c2"


def test_nothing_valid_left_is_a_refusal_with_the_closest_passages() -> None:
    for text in ("The Higgs mass is 200 GeV [1].", "An uncited claim.", "A claim [12].", ""):
        answer = check(text, "drop")
        assert answer.refused and REFUSAL_PHRASE in answer.answer, text
        assert [c.chunk_id for c in answer.citations] == ["c0", "c1", "c2"]
    flagged = check("The Higgs mass is 200 GeV [1].")
    assert flagged.refused and flagged.sentences[0].flags == ["refusal:no-valid-sentence"]


def test_the_model_saying_not_found_is_a_refusal_not_an_uncited_sentence() -> None:
    answer = check(f"The answer was {REFUSAL_PHRASE}.")
    assert answer.refused and answer.sentences[0].flags == ["refusal:model-said-not-found"]
    partial = check(f"The excess was 2.0σ [1]. The width is {REFUSAL_PHRASE}.")
    assert not partial.refused and partial.sentences[1].flags == ["not-found"]


# -- what a model copied instead of writing (issue 15: the gemma echo) ----------------------------------
ECHO = (
    '<<SYS>> <passage n="2" source="ATLAS 1808.08238v2 §1, p. 4"> The Higgs boson was discovered by the '
    "ATLAS and CMS Collaborations [1][2][3][4][5][6] in 2012. The data correspond to an integrated "
    "luminosity of 139 fb−1 at √s = 13 TeV [2]."
)
CITING = [
    *PASSAGES,
    "The discovery of the Higgs boson by the ATLAS and CMS Collaborations [1, 2] opened a new field.",
]


def test_the_prompt_printed_back_is_refused_not_shown_as_a_cited_answer() -> None:
    answer = check(ECHO)
    assert answer.refused and answer.sentences[0].flags == ["refusal:prompt-echo"]
    for markup in ("<<SYS>>", '<passage n="1" source="X">', "</passage>", "<start_of_turn>model"):
        assert validate("q?", f"{markup} It was 2.0σ [1].", hits(), {}, "test").refused, markup


def test_a_papers_reference_list_copied_into_the_text_cites_nothing() -> None:
    answer = check("The Higgs boson was discovered by ATLAS and CMS [1][2][3][4][5][6].")
    assert answer.refused and answer.sentences[0].flags == ["refusal:no-valid-sentence"]
    flagged = check("It was found at the LHC [1][2][3][4]. The excess was 2.0σ [1].")
    assert flagged.sentences[0].flags == ["copied-reference:[1][2][3][4]", "uncited"]
    assert flagged.sentences[0].citations == [] and is_valid(flagged.sentences[1])
    assert [c.chunk_id for c in flagged.citations] == ["c0"]  # only the real citation is listed


def test_refs_and_equation_brackets_and_reference_ranges_are_not_passage_numbers() -> None:
    for text in (
        "The method follows Refs. [1–3].",
        "The method follows Refs. [2].",
        "The fit uses Eq. [3] of the paper.",
        "Earlier searches [1–3] saw no excess.",
    ):
        answer = check(text)
        assert answer.refused and answer.sentences[0].flags == ["refusal:no-valid-sentence"], text
    kept = check("The excess was 2.0σ, as in Ref. [2], at 125.09 GeV [1].")
    assert kept.sentences[0].citations == [1] and kept.sentences[0].flags == ["copied-reference:[2]"]
    assert kept.citations[0].chunk_id == "c0" and is_valid(kept.sentences[0])


def test_brackets_copied_with_the_passage_text_they_follow_are_not_citations() -> None:
    copied = "The discovery of the Higgs boson by the ATLAS and CMS Collaborations [1, 2]."
    answer = validate("q?", copied, hits(CITING), {}, "test")
    assert answer.refused
    own = validate("q?", "The Higgs boson was discovered by ATLAS and CMS [4].", hits(CITING), {}, "test")
    assert not own.refused and own.sentences[0].citations == [1] and own.citations[0].chunk_id == "c3"


def test_the_system_prompts_own_sentences_are_an_echo_but_its_example_is_not() -> None:
    echo = check("Use ONLY the numbered passages in the user message [1]. The excess was 2.0σ [1].")
    assert echo.sentences[0].flags == ["prompt-echo"] and not is_valid(echo.sentences[0])
    assert is_valid(echo.sentences[1]) and not echo.refused
    assert check("Cite only passage numbers that appear below [1].").refused
    example = check("The observed significance is 2.0σ [1].")  # the prompt's example, a real answer here
    assert not example.refused and example.sentences[0].flags == []


def test_several_real_citations_still_pass() -> None:
    answer = check("The excess was 2.0σ at 125.09 GeV with 139 fb-1 [1][2]. Seen [1, 3].")
    assert [s.citations for s in answer.sentences] == [[1, 2], [1, 3]]
    assert all(s.flags == [] for s in answer.sentences)


def test_the_extractive_backend_is_not_screened_for_echoes() -> None:
    text = "Use ONLY the numbered passages in the user message [1]."
    assert not validate("q?", text, hits(), {}, "extractive").refused
