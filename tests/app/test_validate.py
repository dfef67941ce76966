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
