"""Answer metrics on hand-built answers (exact figures), then over the real small index through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heprag.app.answer import Answer, Citation, Sentence
from heprag.evals.answer_eval import aggregate, same_doc, score_answer, short_answer_match
from heprag.evals.datasets import QAItem
from heprag.evals.judges import LexicalJudge, LexicalParams
from heprag.index.types import Chunk, Hit

P1 = "The observed significance of the dimuon signal is 2.0σ for a Higgs boson mass of 125.09 GeV."
P2 = "The analysis uses proton collisions recorded by the ATLAS detector with 139 fb−1 at 13 TeV."
MUMU_QUESTION = "What significance did ATLAS observe for the Higgs boson decay to two muons?"
P3 = "Unrelated text about calorimeter calibration and test beams."


def hit(n: int, text: str, doc: str) -> Hit:
    chunk = Chunk(chunk_id=f"{doc}#{n}", doc_id=doc, ordinal=n, text=text, label=f"{doc} p. {n}")
    return Hit(chunk=chunk, score=1.0 / n, rank=n)


def citation(n: int, h: Hit) -> Citation:
    return Citation(n=n, chunk_id=h.chunk.chunk_id, doc_id=h.chunk.doc_id, label=h.chunk.label, quote="")


@pytest.fixture()
def judge() -> LexicalJudge:
    return LexicalJudge(None, LexicalParams(alpha=1.0, threshold=0.6, check_numbers=True))


@pytest.fixture()
def answer() -> Answer:
    hits = [
        hit(1, P1, "arXiv:2007.07830v2"),
        hit(2, P2, "arXiv:2007.07830v2"),
        hit(3, P3, "arXiv:1808.08242v2"),
    ]
    sentences = [
        # supported by its citation [1]
        Sentence(text="The observed significance of the dimuon signal is 2.0σ.", citations=[1]),
        # supported by [2] alone; [3] is an irrelevant extra citation
        Sentence(text="ATLAS recorded proton collisions at 13 TeV.", citations=[2, 3]),
        # uncited; supported by the answer's sources ([2]) but not by its (absent) citations
        Sentence(text="The analysis uses 139 fb-1 of ATLAS collisions.", citations=[]),
    ]
    text = " ".join(s.text for s in sentences)
    return Answer(
        question="q", answer=text, sentences=sentences,
        citations=[citation(1, hits[0]), citation(2, hits[1]), citation(3, hits[2])], hits=hits,
        timings={"retrieve": 0.5, "generate": 0.25, "total": 0.8},
    )  # fmt: skip


def test_every_metric_of_a_hand_built_answer(answer: Answer, judge: LexicalJudge) -> None:
    item = QAItem(
        id="1", question="q", answer="2.0 σ", answer_aliases=["2 standard deviations"], doc="2007.07830"
    )
    result = score_answer(item, answer, judge)
    s = result.scores
    assert s["correctness"] == 1.0
    assert s["faithfulness"] == pytest.approx(1.0)  # all three are backed by the cited passages
    assert s["citation_recall"] == pytest.approx(2 / 3)  # the uncited sentence fails
    assert s["citation_precision"] == pytest.approx(2 / 3)  # [1] and [2] relevant, [3] not
    assert s["number_grounding"] == pytest.approx(2 / 3)  # 2.0σ and 13 TeV grounded; 139 fb-1 uncited
    assert s["gold_doc_retrieved"] == s["gold_doc_cited"] == 1.0
    assert s["false_refusal"] == 0.0 and s["refusal_accuracy"] is None
    assert [v.supported_by_citations for v in result.sentences] == [True, True, False]


def test_wrong_answer_refusals_and_unanswerable_questions(answer: Answer, judge: LexicalJudge) -> None:
    wrong = QAItem(id="2", question="q", answer="3.0σ", doc="arXiv:1207.7214v2")
    scores = score_answer(wrong, answer, judge).scores
    assert scores["correctness"] == 0.0 and scores["gold_doc_retrieved"] == 0.0
    refused = answer.model_copy(update={"refused": True})
    unanswerable = QAItem(id="3", question="q", kind="unanswerable")
    assert score_answer(unanswerable, refused, judge).scores["refusal_accuracy"] == 1.0
    assert score_answer(unanswerable, answer, judge).scores["refusal_accuracy"] == 0.0
    refused_answerable = score_answer(wrong, refused, judge).scores
    assert refused_answerable["false_refusal"] == 1.0 and refused_answerable["faithfulness"] is None


def test_aggregate_skips_inapplicable_metrics_and_reports_latency(
    answer: Answer, judge: LexicalJudge
) -> None:
    a = score_answer(QAItem(id="1", question="q", answer="2.0σ"), answer, judge)
    b = score_answer(QAItem(id="2", question="q", kind="unanswerable"), answer, judge)
    summary = aggregate([a, b])
    assert summary["correctness"] == {"mean": 1.0, "n": 1}
    assert summary["refusal_accuracy"] == {"mean": 0.0, "n": 1}
    assert summary["latency_total_s"]["mean"] == pytest.approx(0.8)


def test_short_answer_normalisation() -> None:
    assert short_answer_match("The mass is 125.09 GeV [1].", ["125.09 GeV"])
    assert short_answer_match("a significance of 2.0 standard deviations", ["2.0σ"])
    assert not short_answer_match("a mass of 125.091 GeV", ["125.09 GeV"])
    assert not short_answer_match("about 5.2σ", ["2σ"])
    assert short_answer_match("a significance of 5.2 stan- dard deviations above", ["5.2σ"])
    assert short_answer_match("observed (expected) significance of 5.4 (5.5) standard deviations", ["5.4σ"])
    assert not short_answer_match("observed (expected) significance of 5.4 (5.5) σ", ["5.6σ"])
    assert short_answer_match("is 670 ± 90 (stat.) +110 −100 (syst.) fb [1].", ["670 fb"])
    assert not short_answer_match("is 670 ± 90 (stat.) [1].", ["670 fb"])
    assert same_doc("arXiv:2007.07830v2", "2007.07830") and not same_doc("arXiv:2007.07830v2", "2007.0783")


@pytest.mark.corpus
def test_eval_answers_and_compare_over_the_small_index(small_index: Path, tmp_path: Path) -> None:
    from heprag.app.cli import app

    qa = tmp_path / "qa.jsonl"
    items = [
        {"id": "mumu", "question": MUMU_QUESTION,
         "answer": "2.0σ", "answer_aliases": ["2.0 standard deviations"], "doc": "arXiv:2007.07830v2",
         "page": 1, "kind": "answerable"},
        {"id": "none", "question": "Which spices make a good saffron risotto?", "kind": "unanswerable"},
    ]  # fmt: skip
    qa.write_text("\n".join(json.dumps(i) for i in items) + "\n")
    runner = CliRunner()
    args = [
        "--index",
        str(small_index),
        "-q",
        "eval",
        "answers",
        "--dataset",
        str(qa),
        "--out",
        str(tmp_path),
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "faithfulness" in first.output and "citation_precision" in first.output
    (run_a,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    data = json.loads((run_a / "results.json").read_text())
    by_id = {q["id"]: q for q in data["details"]["questions"]}
    assert by_id["mumu"]["scores"]["gold_doc_retrieved"] == 1.0
    assert by_id["mumu"]["scores"]["correctness"] == 1.0
    assert by_id["none"]["refused"] is True
    assert {"report.md", "results.json", "metrics.png", "latency.png"} <= {p.name for p in run_a.iterdir()}
    second = runner.invoke(app, [*args, "--json"])
    assert second.exit_code == 0, second.output
    run_b = Path(json.loads(second.output.strip().splitlines()[-1])["report"])
    compared = runner.invoke(app, ["eval", "compare", str(run_a), str(run_b)])
    assert compared.exit_code == 0, compared.output
    assert "correctness" in compared.output and "regression(s)" in compared.output
