"""`heprag index verify | repair | delete | compact` on a real index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from heprag.app.library import Library
from heprag.index.maintenance import compact_index, delete_documents, repair_index, verify_index
from heprag.index.store import current_generation


@pytest.fixture()
def index_copy(small_index: Path, tmp_path: Path) -> Path:
    target = tmp_path / "idx"
    shutil.copytree(small_index, target)
    return target


def test_a_fresh_index_verifies_clean(small_index: Path) -> None:
    assert verify_index(small_index) == []


def test_a_truncated_faiss_file_is_detected_and_repaired(index_copy: Path) -> None:
    gen = current_generation(index_copy)
    assert gen is not None
    data = (gen / "vectors.faiss").read_bytes()
    (gen / "vectors.faiss").write_bytes(data[: len(data) // 2])
    problems = verify_index(index_copy)
    assert any("vectors.faiss" in p for p in problems)
    assert "rebuilt" in repair_index(index_copy)
    assert verify_index(index_copy) == []
    assert Library.open(index_copy).search("ttH observation", k=3)


def test_a_corrupt_store_falls_back_to_the_previous_intact_generation(index_copy: Path) -> None:
    delete_documents(index_copy, ["arXiv:1804.02610v2"])  # a second generation on top of the first
    gen = current_generation(index_copy)
    assert gen is not None
    (gen / "metadata.sqlite").write_bytes(b"not a database" * 100)
    assert verify_index(index_copy)
    assert "from the SQLite store of gen-000001" in repair_index(index_copy)
    assert verify_index(index_copy) == []
    assert Library.open(index_copy).info()["counts"]["documents"] == 3


def test_deleting_a_document_leaves_no_stale_chunk_anywhere(index_copy: Path) -> None:
    deleted, missing = delete_documents(index_copy, ["arXiv:1804.02610v2", "arXiv:0000.00000v1"])
    assert deleted == ["arXiv:1804.02610v2"] and missing == ["arXiv:0000.00000v1"]
    assert verify_index(index_copy) == []  # FAISS and BM25 ids equal the SQLite chunk ids
    library = Library.open(index_copy)
    for mode in ("dense", "bm25", "hybrid"):
        hits = library.search("ttH production in association with top quarks", k=20, mode=mode)  # type: ignore[arg-type]
        assert hits and all(h.chunk.doc_id != "arXiv:1804.02610v2" for h in hits)


def test_compact_keeps_one_verified_generation(index_copy: Path) -> None:
    delete_documents(index_copy, ["arXiv:1804.02610v2"])
    compact_index(index_copy)
    assert len(list(index_copy.glob("gen-*"))) == 1
    assert verify_index(index_copy) == []
