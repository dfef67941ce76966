"""Dataset loaders: any BEIR folder, SciFact from the shared corpus, the QA JSONL format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heprag.evals.datasets import (
    DatasetError,
    RetrievalDataset,
    load_beir,
    load_qa,
    load_scifact,
    load_scifact_rationales,
    qa_as_retrieval,
)
from tests.conftest import require_corpus


def write_beir(
    folder: Path, corpus: dict[str, tuple[str, str]], queries: dict[str, str], qrels: list[tuple]
) -> Path:
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w") as fh:
        for doc_id, (title, text) in corpus.items():
            fh.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w") as fh:
        for qid, text in queries.items():
            fh.write(json.dumps({"_id": qid, "text": text}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t{s}" for q, d, s in qrels]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return folder


def test_beir_folder_loads(tmp_path: Path) -> None:
    folder = write_beir(
        tmp_path / "mini",
        {"d1": ("Title one", "Text one."), "d2": ("", "Text two.")},
        {"q1": "one?", "q2": "nothing?"},
        [("q1", "d1", 1), ("q1", "d2", 0)],
    )
    data = load_beir(folder)
    assert data.corpus["d1"] == ("Title one", "Text one.")
    assert data.qrels == {"q1": {"d1": 1, "d2": 0}}
    assert list(data.judged_queries()) == ["q1"]


def test_missing_split_names_the_ones_found(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "mini", {"d1": ("", "x")}, {"q1": "x"}, [("q1", "d1", 1)])
    with pytest.raises(DatasetError, match=r"splits found: \['test'\]"):
        load_beir(folder, split="dev")


def test_slice_keeps_relevant_docs_and_fills_with_fixed_distractors() -> None:
    corpus = {f"d{i}": ("", f"text {i}") for i in range(50)}
    qrels = {f"q{i}": {f"d{i}": 1} for i in range(10)}
    data = RetrievalDataset("toy", corpus, {q: q for q in qrels}, qrels)
    part = data.slice(3, 20)
    assert list(part.queries) == ["q0", "q1", "q2"]
    assert {"d0", "d1", "d2"} <= set(part.corpus) and len(part.corpus) == 20
    assert part.corpus == data.slice(3, 20).corpus  # seeded: the same distractors every time
    assert part.fingerprint() != data.fingerprint()


def test_qa_jsonl_validates_and_names_the_bad_line(tmp_path: Path) -> None:
    good = {
        "id": "a",
        "question": "Mass?",
        "answer": "125 GeV",
        "doc": "arXiv:1207.7214v2",
        "kind": "answerable",
    }
    path = tmp_path / "qa.jsonl"
    path.write_text(
        json.dumps(good) + "\n" + json.dumps({"id": "b", "question": "?", "kind": "maybe"}) + "\n"
    )
    with pytest.raises(DatasetError, match="record 2"):
        load_qa(path)
    path.write_text(
        json.dumps(good) + "\n" + json.dumps({"id": "c", "question": "Weather?", "kind": "unanswerable"})
    )
    items = load_qa(path)
    assert [i.kind for i in items] == ["answerable", "unanswerable"]
    retrieval = qa_as_retrieval(items)
    assert retrieval.qrels == {"a": {"arXiv:1207.7214v2": 1}} and not retrieval.corpus


def test_scifact_training_split() -> None:
    require_corpus("scifact")
    data = load_scifact()
    assert len(data.corpus) == 5183
    assert len(data.queries) == 809
    assert len(data.judged_queries()) == len(data.qrels) > 500
    assert all(d in data.corpus for rels in data.qrels.values() for d in rels)


def test_scifact_rationales_pair_claims_with_sentences_of_the_cited_abstract() -> None:
    require_corpus("scifact")
    pairs = load_scifact_rationales()
    positives = [p for p in pairs if p.supports]
    assert 300 < len(positives) < len(pairs) - len(positives)
    # claim 9 ("32% of liver transplantation programs..."): sentence 15 of its 16-sentence abstract
    claim9 = [p for p in pairs if p.claim_id == 9]
    assert len(claim9) == 16
    assert [i for i, p in enumerate(claim9) if p.supports] == [15]
    assert "32% of all programs" in claim9[15].sentence
