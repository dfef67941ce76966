"""Identity: one document per paper, never two papers under one id, every input file accounted for.

The pipeline runs for real (parse, merge, chunk, publish) with a word-hashing embedder: what is tested
is identity and accounting, not the embedding model.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pymupdf
import pytest

from heprag.index.embedder import Embedder
from heprag.index.store import CorpusIndex
from heprag.index.types import Document
from heprag.ingest.pipeline import Ingestor
from heprag.ingest.report import IngestReport
from tests.conftest import require_corpus


class _WordModel:
    """A stand-in sentence-transformers model: words as tokens, hashed bag-of-words vectors."""

    max_seq_length = 256

    def get_sentence_embedding_dimension(self) -> int:
        return 32

    def tokenizer(self, texts: list[str], **_: Any) -> dict[str, list[list[str]]]:
        return {"input_ids": [t.split() for t in texts]}

    def encode(self, texts: list[str], **_: Any) -> np.ndarray:
        out = np.zeros((len(texts), 32), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, hashlib.md5(word.encode()).digest()[0] % 32] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def word_embedder() -> Embedder:
    embedder = Embedder("test-words", device="cpu", cache=None)
    embedder._model = _WordModel()
    return embedder


def ingest(index: Path, *paths: Path, **kwargs: Any) -> IngestReport:
    ingestor = Ingestor(index, word_embedder(), show_progress=False, parse_timeout_s=0)
    return ingestor.ingest_paths(list(paths), **kwargs)


def documents(index: Path) -> dict[str, Document]:
    store = CorpusIndex.open(index).meta
    try:
        return {d.doc_id: d for d in store.documents()}
    finally:
        store.close()


def paper_tex(title: str, body: str) -> str:
    return (
        "\\documentclass{article}\n\\title{" + title + "}\n\\author{A. Author}\n\\begin{document}\n"
        "\\maketitle\n\\section{Introduction}\n" + body + "\n\\end{document}\n"
    )


def write_pdf(path: Path, pages: list[str]) -> None:
    pdf = pymupdf.open()
    for text in pages:
        page = pdf.new_page()
        page.insert_textbox(pymupdf.Rect(72, 72, 540, 770), text, fontsize=11)
    pdf.save(path)


def test_same_file_names_in_two_folders_are_two_documents(tmp_path: Path) -> None:
    root = tmp_path / "DIR"
    for name, topic in (
        ("a", "muon chambers were aligned with tracks"),
        ("b", "calorimeter cells were calibrated"),
    ):
        (root / name).mkdir(parents=True)
        (root / name / "main.tex").write_text(paper_tex(f"Paper {name}", f"The {topic} during the run. " * 5))
        write_pdf(root / name / "paper.pdf", [f"Report {name}: the {topic} in the test beam. " * 8])

    report = ingest(tmp_path / "idx", root)

    docs = documents(tmp_path / "idx")
    assert len(docs) == 4 and len(report.added) == 4, report.files
    paths = sorted(s.path for d in docs.values() for s in d.sources)
    assert paths == ["a/main.tex", "a/paper.pdf", "b/main.tex", "b/paper.pdf"]
    tex_ids = sorted(d for d in docs if d.startswith("tex:"))
    assert [i.split("@")[0] for i in tex_ids] == ["tex:a/main", "tex:b/main"]
    assert {f.status for f in report.files} == {"added"} and len(report.files) == 4


def test_a_file_that_changes_replaces_its_earlier_contents(tmp_path: Path) -> None:
    root = tmp_path / "DIR"
    root.mkdir()
    note = root / "main.tex"
    note.write_text(paper_tex("A note", "The trigger rate was measured at nominal luminosity. " * 4))
    first = ingest(tmp_path / "idx", root)
    note.write_text(paper_tex("A note", "The trigger rate was measured again after the upgrade. " * 4))
    second = ingest(tmp_path / "idx", root)

    assert second.removed == first.added and len(second.added) == 1
    assert list(documents(tmp_path / "idx")) == second.added


def test_two_different_texts_claiming_one_report_number_are_both_kept_as_a_conflict(tmp_path: Path) -> None:
    for folder, words in (("note", "first release of the platform"), ("draft", "second release, rewritten")):
        (tmp_path / "DIR" / folder).mkdir(parents=True)
        stamp = "\\begin{tabular}{ll}\n & HSF-TN-2099-01 \\\\\n\\end{tabular}\n"
        text = paper_tex("Vacuum", f"It describes the {words}. " * 5).replace("\\maketitle", stamp)
        (tmp_path / "DIR" / folder / f"{folder}.tex").write_text(text)

    report = ingest(tmp_path / "idx", tmp_path / "DIR")

    docs = documents(tmp_path / "idx")
    assert len(docs) == 2 and "report:HSF-TN-2099-01" in docs
    [conflict] = report.conflicts
    assert conflict.doc_id == "report:HSF-TN-2099-01" and conflict.kept_as in docs
    assert sorted(f.status for f in report.files) == ["added", "conflict"]


def test_an_identical_copy_is_one_document_and_reported_as_a_duplicate(tmp_path: Path) -> None:
    text = paper_tex("Vacuum", "It describes the platform. " * 5).replace(
        "\\maketitle", "\\begin{tabular}{ll}\n & HSF-TN-2099-01 \\\\\n\\end{tabular}\n"
    )
    for folder in ("a", "b"):
        (tmp_path / "DIR" / folder).mkdir(parents=True)
        (tmp_path / "DIR" / folder / "note.tex").write_text(text)

    report = ingest(tmp_path / "idx", tmp_path / "DIR")

    [doc] = documents(tmp_path / "idx").values()
    assert doc.doc_id == "report:HSF-TN-2099-01"
    assert [(s.path, s.role) for s in doc.sources] == [("a/note.tex", "text"), ("b/note.tex", "duplicate")]
    assert [(f.status, f.reason) for f in report.files] == [
        ("added", None),
        ("merged", "duplicate of report:HSF-TN-2099-01"),
    ]


def test_a_latex_paper_and_its_pdf_are_one_document_with_pages_and_equations(tmp_path: Path) -> None:
    root = tmp_path / "DIR"
    root.mkdir()
    intro = "The signal strength is extracted from a binned likelihood fit to the invariant mass. " * 6
    method = "Each event is reweighted by the ratio of the squared matrix elements as follows. " * 6
    equation = "\\begin{equation}\nW_{new} = \\frac{|M_{new}|^2}{|M_{orig}|^2} W_{orig}\n\\end{equation}"
    body = f"{intro}\n\n\\section{{Method}}\n{method}\n{equation}\n"
    (root / "note.tex").write_text(paper_tex("Reweighting events", body))
    write_pdf(root / "note.pdf", [f"Reweighting events\n1 Introduction\n{intro}", f"2 Method\n{method}"])

    report = ingest(tmp_path / "idx", root)

    [doc] = documents(tmp_path / "idx").values()
    assert [(s.path, s.role) for s in doc.sources] == [("note.tex", "text"), ("note.pdf", "pages")]
    store = CorpusIndex.open(tmp_path / "idx").meta
    chunks = store.chunks_of(doc.doc_id)
    store.close()
    assert any("\\frac{|M_{new}|^2}{|M_{orig}|^2}" in c.text for c in chunks)
    assert {c.page_start for c in chunks if "Method" in c.section[0]} == {2}
    assert sorted(f.status for f in report.files) == ["added", "merged"]


@pytest.fixture(scope="module")
def hsf_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real HSF-TN-2016-01 folder: its LaTeX source, its PDF and its README."""
    source = require_corpus("latex", "hsf", "HSF-TN", "2016-01")
    folder = tmp_path_factory.mktemp("hsf") / "2016-01"
    shutil.copytree(source, folder)
    return folder


def test_the_pdf_and_latex_of_an_hsf_note_are_one_document_citing_pages(
    hsf_pair: Path, tmp_path: Path
) -> None:
    report = ingest(tmp_path / "idx", hsf_pair)

    docs = documents(tmp_path / "idx")
    assert list(docs) == ["report:HSF-TN-2016-01"]
    doc = docs["report:HSF-TN-2016-01"]
    assert doc.source == "latex" and doc.authors[:2] == ["M. Jouvin", "J. Harvey"]
    assert [(s.path, s.role) for s in doc.sources] == [
        ("HSF-TN-2016-01.tex", "text"),
        ("HSF-TN-2016-01.pdf", "pages"),
    ]
    assert doc.extra["pages"] == 10 and float(doc.extra["pages_aligned"] or 0) > 0.9
    store = CorpusIndex.open(tmp_path / "idx").meta
    pages = [c.page_start for c in store.chunks_of(doc.doc_id)]
    store.close()
    assert None not in pages and pages == sorted(pages) and pages[-1] >= 8
    by_status = {Path(f.path).name: (f.status, f.reason) for f in report.files}
    assert by_status == {
        "HSF-TN-2016-01.tex": ("added", None),
        "HSF-TN-2016-01.pdf": ("merged", "pages of report:HSF-TN-2016-01"),
        "README.md": ("skipped", "excluded by 'README*'"),
    }


def test_a_pdf_takes_authors_and_identifiers_from_its_inspire_record(tmp_path: Path) -> None:
    higgs = require_corpus("pdfs", "higgs")
    root = tmp_path / "DIR"
    root.mkdir()
    shutil.copy(higgs / "2007.07830v2.pdf", root)
    record = {
        "metadata": {
            "control_number": 1807411,
            "titles": [{"title": "A search for the dimuon decay of the Standard Model Higgs boson"}],
            "abstracts": [{"value": "A search for the dimuon decay of the Higgs boson is presented."}],
            "arxiv_eprints": [{"value": "2007.07830"}],
            "authors": [{"full_name": "Aad, Georges"}, {"full_name": "Abbott, Braden"}],
            "collaborations": [{"value": "ATLAS"}],
            "texkeys": ["ATLAS:2020fzp"],
            "report_numbers": [{"value": "CERN-EP-2020-117"}],
        }
    }
    (root / "record.json").write_text(json.dumps(record))

    report = ingest(tmp_path / "idx", root)

    [doc] = documents(tmp_path / "idx").values()
    assert doc.doc_id == "arXiv:2007.07830v2" and doc.source == "pdf"
    assert doc.authors == ["Georges Aad", "Braden Abbott"] and doc.collaboration == "ATLAS"
    assert doc.extra["texkey"] == "ATLAS:2020fzp" and doc.extra["inspire_recid"] == 1807411
    assert doc.extra["arxiv_id"] == "2007.07830v2"
    assert sorted(s.role for s in doc.sources) == ["metadata", "text"]
    assert sorted(f.status for f in report.files) == ["added", "merged"]


def test_non_literature_is_skipped_and_reported(tmp_path: Path) -> None:
    root = tmp_path / "DIR"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n")
    (root / "templates").mkdir()
    (root / "templates" / "note.tex").write_text(paper_tex("Template", "Fill in. " * 10))
    for name in ("README.md", "LICENSE", ".commits", "template.tex", "refs.bib"):
        (root / name).write_text("The HEP software licence and readme text. " * 5)
    (root / "paper.md").write_text(
        "# Jet energy scale\n\n" + "The jet energy scale was calibrated in situ. " * 5
    )

    report = ingest(tmp_path / "idx", root)

    reasons = {Path(f.path).name: f.reason for f in report.files if f.status == "skipped"}
    assert reasons == {
        ".git": "folder excluded by '.*'",
        "templates": "folder excluded by 'templates'",
        "README.md": "excluded by 'README*'",
        "LICENSE": "excluded by 'LICEN[CS]E*'",
        ".commits": "excluded by '.*'",
        "template.tex": "excluded by '*template*.tex'",
        "refs.bib": "unsupported file type '.bib'",
    }
    assert [Path(f.path).name for f in report.files if f.status == "added"] == ["paper.md"]
    assert report.files_summary() == "8 files: 7 skipped, 1 added"


def test_the_exclude_setting_can_let_a_readme_in(tmp_path: Path) -> None:
    root = tmp_path / "DIR"
    root.mkdir()
    (root / "README.md").write_text(
        "# Calibration notes\n\n" + "The calibration constants were updated. " * 5
    )

    report = ingest(tmp_path / "idx", root, exclude=[".*"])

    assert [f.status for f in report.files] == ["added"]
    assert [s.path for d in documents(tmp_path / "idx").values() for s in d.sources] == ["README.md"]


def test_real_logbooks_keep_every_entry_under_a_distinct_id() -> None:
    """Two ELOG exports of one logbook ('logbooks/412'...) overlap: equal entries merge, different ones
    are conflicts kept under their own ids; no entry is lost and no id is used twice."""
    from heprag.ingest.discover import discover
    from heprag.ingest.identity import representations
    from heprag.ingest.merge import merge
    from heprag.ingest.sources.base import ParseLimits

    root = require_corpus("logbooks", "elog")
    reps = []
    for found in discover([root]):
        if found.parser and not found.skipped:
            reps += representations(found, list(found.parser.parse(found.path, ParseLimits())), len(reps))

    result = merge(reps)

    ids = [d.doc_id for d in result.documents]
    assert len(ids) == len(set(ids)) and len(result.placed) == len(reps)
    placements = {p.placement for p in result.placed}
    assert placements == {"text", "merged", "conflict"} and result.conflicts
    kept = {c.kept_as for c in result.conflicts}
    assert kept <= set(ids) and all("~" in k for k in kept)


def test_the_distributed_parse_gives_the_same_ids_and_sources(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    from heprag.ingest.distributed.stages import parse_file
    from heprag.ingest.sources.base import ParseLimits

    root = tmp_path / "DIR"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        (root / name / "main.tex").write_text(paper_tex(f"Paper {name}", f"Paper {name} measures jets. " * 5))
    report = ingest(tmp_path / "idx", root)

    rows = [
        parse_file({"file_idx": i, "path": str(root / n / "main.tex"), "root": str(root)}, ParseLimits())
        for i, n in enumerate("ab")
    ]

    distributed = [Document.model_validate_json(r["doc_json"]) for file_rows in rows for r in file_rows]
    assert [d.doc_id for d in distributed] == report.added
    stored = sorted(documents(tmp_path / "idx").values(), key=lambda d: d.doc_id)  # kept without blocks
    assert [d.model_dump(exclude={"blocks"}) for d in distributed] == [
        d.model_dump(exclude={"blocks"}) for d in stored
    ]
