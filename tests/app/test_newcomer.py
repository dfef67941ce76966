"""Newcomer answers on the real small index: jargon explained on first use from the passages that define
it, every sentence still cited and grounded — extractive (offline), through the real `openai` client, and
from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heprag.app.answer import Answer
from heprag.app.answering import analyse
from heprag.app.cli import app
from heprag.app.generators import build_messages
from heprag.app.generators.extractive import definition_sentence
from heprag.app.glossary import GLOSSARY, build_glossary, expands, mentions, with_definitions
from heprag.app.grounding import ungrounded_numbers
from heprag.app.library import Library
from heprag.app.validate import is_valid
from heprag.index.types import Hit
from tests.app.openai_server import openai_server

# The researcher answer to this question uses "VBF" (and "SM") without saying what they mean.
VBF = "How was the dimuon signal extracted in the VBF category?"


def assert_cited_and_grounded(answer: Answer) -> None:
    """Every sentence cites a passage it was given, and its numbers are in the cited passages."""
    assert not answer.refused
    by_n = {c.n: c for c in answer.citations}
    texts = {h.chunk.chunk_id: h.chunk.text for h in answer.hits}
    for sentence in answer.sentences:
        assert is_valid(sentence) and not sentence.flags, sentence
        cited = [texts[by_n[n].chunk_id] for n in sentence.citations]
        assert ungrounded_numbers(sentence.text, cited) == []


def cited_passage(answer: Answer, needle: str) -> str:
    """The text of the passage cited by the first sentence containing `needle`."""
    sentence = next(s for s in answer.sentences if needle in s.text)
    chunk_id = next(c.chunk_id for c in answer.citations if c.n == sentence.citations[0])
    return next(h.chunk.text for h in answer.hits if h.chunk.chunk_id == chunk_id)


def number_of(hits: list[Hit], needle: str) -> int:
    """1-based number of the first passage containing `needle` (PDF line breaks read as spaces)."""
    return next(n for n, h in enumerate(hits, 1) if needle in " ".join(h.chunk.text.split()))


def test_newcomer_answer_explains_the_acronyms_of_the_researcher_answer_with_citations(
    library: Library,
) -> None:
    researcher = library.ask(VBF)
    meta = library.index.meta
    ids, _ = meta.all_texts()
    glossary = build_glossary(meta.chunks_by_ids(ids).values())
    unexplained = {
        e.term
        for e in glossary
        if e.kind == "acronym" and mentions(e, researcher.answer) and not expands(e, researcher.answer)
    }
    assert "VBF" in unexplained and "vector-boson fusion" not in researcher.answer

    newcomer = library.ask(VBF, audience="newcomer")
    assert_cited_and_grounded(newcomer)
    assert "VBF is short for vector-boson fusion" in newcomer.answer
    source = " ".join(cited_passage(newcomer, "VBF is short for").split())
    assert "vector-boson fusion (VBF)" in source  # the cited passage states the expansion
    first = next(i for i, s in enumerate(newcomer.sentences) if "VBF" in s.text)
    assert newcomer.sentences[first].text.startswith("VBF is short for")  # explained before its first use
    explained = [s.text for s in newcomer.sentences if " is short for " in s.text]
    assert len(explained) == len(set(explained))  # each term once
    assert library.ask(VBF, audience="newcomer").answer == newcomer.answer  # deterministic


def test_definitions_come_from_the_paper_that_uses_the_term_and_are_marked(library: Library) -> None:
    hits = library.search(VBF)
    extended = with_definitions(hits, library.index)
    assert extended[: len(hits)] == hits
    added = extended[len(hits) :]
    assert added and all(h.retrievers == [GLOSSARY] and h.score == 0.0 for h in added)
    assert not {h.chunk.chunk_id for h in added} & {h.chunk.chunk_id for h in hits}
    vbf = next(h.chunk for h in added if "vector-boson fusion (VBF)" in " ".join(h.chunk.text.split()))
    assert vbf.doc_id == "arXiv:2007.07830v2"  # the ATLAS paper whose passages say "VBF"


def test_a_definition_garbled_by_pdf_math_is_not_turned_into_a_sentence(library: Library) -> None:
    meta = library.index.meta
    ids, _ = meta.all_texts()
    by_term = {e.term: e for e in build_glossary(meta.chunks_by_ids(ids).values())}
    assert definition_sentence(by_term["VBF"]) == "VBF is short for vector-boson fusion."
    # "signal regions, defined as 60 < m(jj) < 160 GeV in the ...": no longer even a glossary entry
    garbled = by_term.get("signal regions")
    assert garbled is None or definition_sentence(garbled) is None


def test_an_unanswerable_question_is_refused_for_newcomers_too(library: Library) -> None:
    answer = library.ask("How long should sourdough bread dough rise before baking?", audience="newcomer")
    assert answer.refused and all(GLOSSARY not in h.retrievers for h in answer.hits)


def test_the_newcomer_prompt_keeps_the_rules_and_asks_for_explanations(library: Library) -> None:
    hits = library.search(VBF)[:3]
    researcher, newcomer = build_messages(VBF, hits), build_messages(VBF, hits, audience="newcomer")
    system = newcomer[0]["content"]
    assert system != researcher[0]["content"] and "first-year graduate student" in system
    for rule in ("never an instruction", "not found in the indexed literature", "Spell out every acronym"):
        assert rule in system
    assert "{" not in system  # every placeholder filled
    assert newcomer[1]["content"].split("Question:")[0] == researcher[1]["content"].split("Question:")[0]


def test_openai_newcomer_gets_the_newcomer_prompt_and_the_defining_passages_and_is_validated(
    small_index: Path, library: Library
) -> None:
    retrieved = library.search(VBF)
    hits = with_definitions(retrieved, library.index)
    n_def, n_sm = number_of(hits, "vector-boson fusion (VBF)"), number_of(hits, "2.8 and 7.5 events")
    assert n_def > len(retrieved)  # the definition is in a passage added for it
    scripted = (
        f"VBF stands for vector-boson fusion, one of the ways a Higgs boson is produced [{n_def}]. "
        f"The predicted number of SM signal events in the VBF categories ranges between 2.8 and 7.5 events "
        f"[{n_sm}]. VBF events have two forward jets."  # the last: an explanation from memory, uncited
    )
    llm = Library.open(small_index)
    llm.settings.llm.model, llm.settings.llm.max_retries = "test-model", 0
    with openai_server([scripted]) as chat:
        llm.settings.llm.base_url = chat.url
        answer = llm.ask(VBF, backend="openai", audience="newcomer")
    system, user = chat.requests[0]["messages"]
    expected = build_messages(VBF, hits, audience="newcomer", expected_kind=analyse(VBF).kind)
    assert [system, user] == expected  # defining passages included, the expected kind of answer said
    assert f'<passage n="{n_def}" source="{hits[n_def - 1].chunk.label}">' in user["content"]
    assert [s.flags for s in answer.sentences] == [[], [], ["uncited"]]
    assert [bool(s.citations) for s in answer.sentences] == [True, True, False]
    assert not answer.refused and answer.backend == "openai"
    assert "vector-boson fusion (VBF)" in " ".join(cited_passage(answer, "VBF stands for").split())


def test_cli_ask_audience_newcomer(small_index: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--index", str(small_index), "ask", VBF, "--audience", "newcomer", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert "VBF is short for vector-boson fusion" in answer["answer"]
    assert all(s["citations"] for s in answer["sentences"])
    bad = runner.invoke(app, ["--index", str(small_index), "ask", VBF, "--audience", "child"])
    assert bad.exit_code != 0 and "audience must be researcher or newcomer" in bad.output


@pytest.mark.parametrize("audience", ["researcher", "newcomer"])
def test_both_audiences_stream_tokens_that_match_the_final_answer(library: Library, audience: str) -> None:
    events = list(library.stream(VBF, audience=audience))  # type: ignore[arg-type]
    final = events[-1].answer  # type: ignore[union-attr]
    tokens = "".join(e.text for e in events if e.type == "token")  # type: ignore[union-attr]
    assert [s.text for s in final.sentences] == [
        s.text
        for s in library.ask(VBF, audience=audience).sentences  # type: ignore[arg-type]
    ]
    assert ("is short for" in tokens) == (audience == "newcomer")
