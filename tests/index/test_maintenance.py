"""`heprag index verify | repair | delete | compact` on a real index."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from heprag.app.library import Library
from heprag.index.errors import IndexCorruptError
from heprag.index.maintenance import compact_index, delete_documents, repair_index, verify_index
from heprag.index.segments import SEGMENTS
from heprag.index.store import IndexWriter, current_generation, read_manifest
from heprag.index.types import Chunk, Document


@pytest.fixture()
def index_copy(small_index: Path, tmp_path: Path) -> Path:
    target = tmp_path / "idx"
    shutil.copytree(small_index, target)
    return target


def test_a_fresh_index_verifies_clean(small_index: Path) -> None:
    assert verify_index(small_index) == []


def _segment(index: Path, n: int = -1) -> Path:
    gen = current_generation(index)
    assert gen is not None
    return index / SEGMENTS / read_manifest(gen).segments[n]


def test_a_truncated_faiss_file_is_detected_and_repaired(index_copy: Path) -> None:
    faiss_file = _segment(index_copy) / "vectors.faiss"
    data = faiss_file.read_bytes()
    faiss_file.write_bytes(data[: len(data) // 2])
    problems = verify_index(index_copy)
    assert any("vectors.faiss" in p for p in problems)
    assert "rebuilt" in repair_index(index_copy)
    assert verify_index(index_copy) == []
    assert Library.open(index_copy).search("ttH observation", k=3)


def _add_a_note(index: Path) -> None:
    """A second segment: one synthetic document."""
    gen = current_generation(index)
    assert gen is not None
    manifest = read_manifest(gen)
    writer = IndexWriter(index, manifest.embedding, manifest.chunking)
    doc = Document(doc_id="note:1", title="shift note", content_hash="n1")
    chunk = Chunk(chunk_id="note:1#0", doc_id="note:1", ordinal=0, text="Muon trigger thresholds raised.")
    dim = manifest.embedding.dim
    writer.meta.upsert(doc, [chunk], np.full((1, dim), dim**-0.5, dtype=np.float32), "s")
    writer.publish()


def test_a_new_segment_with_a_corrupt_store_is_rolled_back_to_the_generation_before_it(
    index_copy: Path,
) -> None:
    first = current_generation(index_copy)
    assert first is not None
    _add_a_note(index_copy)
    (_segment(index_copy) / "metadata.sqlite").write_bytes(b"not a database" * 100)
    assert verify_index(index_copy)
    assert f"restored {first.name}" in repair_index(index_copy)
    assert verify_index(index_copy) == []
    assert Library.open(index_copy).info()["counts"]["documents"] == 3


def test_a_corrupt_store_shared_by_every_generation_cannot_be_restored(index_copy: Path) -> None:
    delete_documents(index_copy, ["arXiv:1804.02610v2"])  # generation 2: a tombstone, no new segment
    (_segment(index_copy) / "metadata.sqlite").write_bytes(b"not a database" * 100)
    assert verify_index(index_copy)
    with pytest.raises(IndexCorruptError, match="Re-ingest its sources into a fresh --index"):
        repair_index(index_copy)


def test_deleting_a_document_leaves_no_stale_chunk_anywhere(index_copy: Path) -> None:
    deleted, missing = delete_documents(index_copy, ["arXiv:1804.02610v2", "arXiv:0000.00000v1"])
    assert deleted == ["arXiv:1804.02610v2"] and missing == ["arXiv:0000.00000v1"]
    assert verify_index(index_copy) == []  # FAISS and BM25 ids equal the SQLite chunk ids
    library = Library.open(index_copy)
    for mode in ("dense", "bm25", "hybrid"):
        hits = library.search("ttH production in association with top quarks", k=20, mode=mode)  # type: ignore[arg-type]
        assert hits and all(h.chunk.doc_id != "arXiv:1804.02610v2" for h in hits)


def test_compact_keeps_one_verified_generation_of_one_segment(index_copy: Path) -> None:
    _add_a_note(index_copy)
    delete_documents(index_copy, ["arXiv:1804.02610v2"])
    compact_index(index_copy)
    assert len(list(index_copy.glob("gen-*"))) == 1
    assert len(list((index_copy / SEGMENTS).glob("seg-*"))) == 1
    assert verify_index(index_copy) == []
    assert Library.open(index_copy).info()["counts"]["documents"] == 3
