"""Evaluation datasets: BEIR folders, SciFact (corpus, training queries, sentence rationales) and QA JSONL.

A BEIR folder holds `corpus.jsonl` (`_id, title, text`), `queries.jsonl` (`_id, text`) and
`qrels/<split>.tsv` (`query-id, corpus-id, score` with a header line), as the BEIR benchmarks ship.
A QA set is JSONL with one question per line:
`{"id", "question", "answer", "answer_aliases", "doc", "page", "quote", "kind"}` where `kind` is
`answerable` or `unanswerable` (unanswerable questions should be refused).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from heprag.index.errors import HepragError

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


class DatasetError(HepragError):
    """An evaluation dataset is missing or malformed."""


def corpus_root() -> Path:
    """The shared corpus folder (`../shared/corpus` beside the repo, or $HEPRAG_TEST_CORPUS)."""
    import os

    return Path(os.environ.get("HEPRAG_TEST_CORPUS", DEFAULT_CORPUS))


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise DatasetError(f"{path} does not exist; check the dataset path")
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(
                    f"{path}:{n}: not valid JSON ({exc.msg}); fix or remove that line"
                ) from exc


@dataclass
class RetrievalDataset:
    """A BEIR-shaped retrieval benchmark: corpus (id -> title, text), queries and graded qrels."""

    name: str
    corpus: dict[str, tuple[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    notes: list[str] = field(default_factory=list)

    def judged_queries(self) -> dict[str, str]:
        """Queries with at least one relevant document (the ones that are scored, as in BEIR)."""
        return {q: t for q, t in self.queries.items() if any(r > 0 for r in self.qrels.get(q, {}).values())}

    def fingerprint(self) -> str:
        """A hash of the corpus contents (names the cached index)."""
        digest = hashlib.sha256()
        for doc_id in sorted(self.corpus):
            title, text = self.corpus[doc_id]
            digest.update(f"{doc_id}\x00{title}\x00{text}\x01".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def slice(self, n_queries: int, corpus_size: int, seed: int = 13) -> RetrievalDataset:
        """The first `n_queries` judged queries over their relevant documents plus fixed random distractors.

        The corpus keeps every relevant document of the kept queries and fills up to `corpus_size` with a
        seeded sample of the others, so a fast CI run embeds at most `corpus_size` abstracts.
        """
        queries = dict(list(self.judged_queries().items())[:n_queries])
        qrels = {q: self.qrels[q] for q in queries}
        keep = {d for rels in qrels.values() for d in rels if d in self.corpus}
        others = sorted(set(self.corpus) - keep)
        random.Random(seed).shuffle(others)
        keep.update(others[: max(0, corpus_size - len(keep))])
        corpus = {d: self.corpus[d] for d in self.corpus if d in keep}
        name = f"{self.name}-q{len(queries)}-c{len(corpus)}"
        return RetrievalDataset(name, corpus, queries, qrels, [*self.notes, f"slice of {self.name}"])


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise DatasetError(f"{path} does not exist; a BEIR folder needs qrels/<split>.tsv")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0] == "query-id":
                continue
            if len(row) < 3:
                raise DatasetError(f"{path}: row {row!r} needs query-id, corpus-id, score")
            qrels.setdefault(row[0], {})[row[1]] = int(float(row[2]))
    return qrels


def _read_corpus(path: Path) -> dict[str, tuple[str, str]]:
    return {str(r["_id"]): (r.get("title") or "", r.get("text") or "") for r in _read_jsonl(path)}


def _read_queries(path: Path) -> dict[str, str]:
    return {str(r["_id"]): r["text"] for r in _read_jsonl(path)}


def load_beir(folder: Path, split: str = "test") -> RetrievalDataset:
    """Any BEIR dataset folder (`corpus.jsonl`, `queries.jsonl`, `qrels/<split>.tsv`)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder; pass a BEIR dataset folder, 'scifact' or a .jsonl")
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.exists():
        found = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        raise DatasetError(f"{qrels_path} does not exist; splits found: {found or 'none'} (use --split)")
    return RetrievalDataset(
        folder.name,
        _read_corpus(folder / "corpus.jsonl"),
        _read_queries(folder / "queries.jsonl"),
        _read_qrels(qrels_path),
    )


def scifact_dir(root: Path | None = None) -> Path:
    folder = (root or corpus_root()) / "scifact"
    if not folder.is_dir():
        raise DatasetError(
            f"SciFact not found at {folder}; put the shared corpus at ../shared/corpus "
            "or set HEPRAG_TEST_CORPUS, or pass a BEIR folder with --dataset PATH"
        )
    return folder


def load_scifact(root: Path | None = None) -> RetrievalDataset:
    """SciFact from the shared corpus: 5,183 abstracts, the 809 training claims and their qrels."""
    folder = scifact_dir(root)
    return RetrievalDataset(
        "scifact-train",
        _read_corpus(folder / "beir_corpus.jsonl"),
        _read_queries(folder / "queries_train.jsonl"),
        _read_qrels(folder / "qrels_train.tsv"),
        ["SciFact training claims (the published baselines are on the 300 test claims)"],
    )


@dataclass(frozen=True)
class RationalePair:
    """A (claim, abstract sentence) pair; `supports` is True for a SUPPORT rationale sentence."""

    claim_id: int
    claim: str
    sentence: str
    supports: bool


def load_scifact_rationales(root: Path | None = None) -> list[RationalePair]:
    """Positives: SUPPORT rationale sentences; negatives: the other sentences of the same abstracts.

    Sentences of CONTRADICT rationales are left out (they neither support nor are unrelated), and so are
    claims without a SUPPORT rationale.
    """
    folder = scifact_dir(root)
    abstracts = {str(r["doc_id"]): list(r["abstract"]) for r in _read_jsonl(folder / "corpus.jsonl")}
    pairs: list[RationalePair] = []
    for claim in _read_jsonl(folder / "claims_train.jsonl"):
        for doc_id, rationales in (claim.get("evidence") or {}).items():
            sentences = abstracts.get(str(doc_id))
            support = {i for r in rationales if r["label"] == "SUPPORT" for i in r["sentences"]}
            if sentences is None or not support:
                continue
            contradict = {i for r in rationales if r["label"] != "SUPPORT" for i in r["sentences"]}
            for i, sentence in enumerate(sentences):
                if i in contradict - support:
                    continue
                pairs.append(RationalePair(int(claim["id"]), claim["claim"], sentence.strip(), i in support))
    return pairs


class QAItem(BaseModel):
    """One question of a QA evaluation set."""

    id: str
    question: str
    answer: str = Field("", description="Short answer (matched after normalisation) or a reference answer")
    answer_aliases: list[str] = Field(default_factory=list)
    doc: str | None = Field(None, description="doc_id of the gold document")
    page: int | None = None
    quote: str = Field("", description="Passage of the gold document that answers the question")
    kind: Literal["answerable", "unanswerable", "number", "fact", "comparison", "definition"] = "answerable"
    source_type: str | None = Field(None, description="pdf, latex, logbook, inspire, abstract or none")
    section: str | None = None
    difficulty: str | None = None

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"


def load_qa(path: Path) -> list[QAItem]:
    """A QA JSONL file; every line is validated and a bad one is named with its line number."""
    items: list[QAItem] = []
    for n, record in enumerate(_read_jsonl(Path(path).expanduser()), 1):
        try:
            items.append(QAItem.model_validate({**record, "id": str(record.get("id", n))}))
        except ValidationError as exc:
            raise DatasetError(f"{path}: record {n} does not match the QA format: {exc}") from exc
    if not items:
        raise DatasetError(f"{path} holds no questions")
    return items


def bundled_qa_path() -> Path:
    """The HEP QA set shipped with heprag (`heprag/evals/data/hep_qa.jsonl`)."""
    path = Path(str(resources.files("heprag.evals") / "data" / "hep_qa.jsonl"))
    if not path.exists():
        raise DatasetError(f"the bundled HEP QA set {path} is missing; pass --dataset PATH.jsonl")
    return path


def qa_as_retrieval(items: list[QAItem], name: str = "qa") -> RetrievalDataset:
    """Answerable QA items with a gold doc as retrieval queries (corpus = whatever index is searched)."""
    usable = [i for i in items if i.kind == "answerable" and i.doc]
    return RetrievalDataset(
        name, {}, {i.id: i.question for i in usable}, {i.id: {str(i.doc): 1} for i in usable}
    )


def resolve_retrieval_dataset(spec: str, split: str = "test") -> RetrievalDataset:
    """`scifact`, `hep-qa`, a BEIR folder or a QA .jsonl -> a RetrievalDataset."""
    if spec == "scifact":
        return load_scifact()
    if spec == "hep-qa":
        return qa_as_retrieval(load_qa(bundled_qa_path()), "hep-qa")
    path = Path(spec).expanduser()
    if path.suffix == ".jsonl":
        return qa_as_retrieval(load_qa(path), path.stem)
    return load_beir(path, split)
