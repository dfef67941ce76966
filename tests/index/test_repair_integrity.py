"""`heprag index verify | repair` against a flipped byte that SQLite's own integrity check cannot see.

One byte of the live generation's metadata.sqlite is flipped, in a chunk's vector blob (its score
becomes ~1e36) or in a chunk's text (no longer UTF-8). `verify` must flag it; `repair` must restore
from an intact generation (search results equal to those before the flip), never rebuild from the
damaged store, prune nothing, and say clearly when nothing intact is left.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from heprag.app.library import Library
from heprag.index.errors import IndexCorruptError
from heprag.index.maintenance import delete_documents, repair_index, verify_index
from heprag.index.store import current_generation
from tests.conftest import TEST_CACHE

QUERIES = ["observed significance of the dimuon decay", "ttH production observation", "H to bb in VH"]
MODES = ("dense", "bm25", "hybrid")


def results(index: Path) -> dict[tuple[str, str], list[tuple[str, float]]]:
    library = Library.open(index)
    return {
        (query, mode): [(h.chunk.chunk_id, round(h.score, 5)) for h in library.search(query, k=8, mode=mode)]  # type: ignore[arg-type]
        for query in QUERIES
        for mode in MODES
    }


def flip(generation: Path, where: str) -> str:
    """Flip one byte of the store inside one chunk's vector or text; returns that chunk's id."""
    store = generation / "metadata.sqlite"
    db = sqlite3.connect(store)
    chunk_id, text, blob = db.execute(
        "SELECT chunk_id, text, vector FROM chunks WHERE chunk_id LIKE 'arXiv:2007.07830v2#%' AND ordinal = 2"
    ).fetchone()
    db.close()
    data = bytearray(store.read_bytes())
    needle = blob if where == "vector" else text.encode()
    at = data.find(needle)
    assert at > 0 and data.find(needle, at + 1) < 0, "the bytes to flip must be found exactly once"
    if where == "vector":
        data[at + 3] ^= 0x40  # the exponent byte of the first float: ~1e36 instead of ~0.05
    else:
        data[at + len(needle) // 2] = 0xFF  # never valid in UTF-8
    store.write_bytes(bytes(data))
    check = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"  # invisible to SQLite itself
    check.close()
    return chunk_id


@pytest.fixture()
def two_generations(small_index: Path, tmp_path: Path) -> Path:
    """The small index with a second generation of the same content on top (an `index delete` of an
    id it does not hold republishes it), so that a restore can be compared with the original."""
    index = tmp_path / "idx"
    shutil.copytree(small_index, index)
    delete_documents(index, ["arXiv:0000.00000v1"])
    assert current_generation(index).name == "gen-000002"  # type: ignore[union-attr]
    return index


@pytest.mark.parametrize("where", ["vector", "text"])
def test_a_flipped_byte_is_flagged_and_repair_restores_the_intact_generation(
    two_generations: Path, where: str
) -> None:
    index = two_generations
    before = results(index)
    damaged = flip(index / "gen-000002", where)

    problems = verify_index(index)
    assert any("metadata.sqlite: checksum mismatch" in p for p in problems), problems
    kind = "absurd norm" if where == "vector" else "not valid UTF-8"
    assert any(kind in p and damaged in p for p in problems), problems

    done = repair_index(index)
    assert "from the SQLite store of gen-000001" in done and "gen-000002 is damaged" in done, done
    assert current_generation(index).name == "gen-000003"  # type: ignore[union-attr]
    assert verify_index(index) == []
    assert results(index) == before  # the damaged chunk ranks where it did before the flip
    assert {p.name for p in index.glob("gen-*")} == {"gen-000001", "gen-000002", "gen-000003"}  # none pruned


def test_a_damaged_live_store_is_never_built_upon(two_generations: Path) -> None:
    flip(two_generations / "gen-000002", "vector")
    with pytest.raises(IndexCorruptError, match="index repair"):
        delete_documents(two_generations, ["arXiv:1804.02610v2"])  # any writer: ingest, delete, compact
    assert {p.name for p in two_generations.glob("gen-*")} == {"gen-000001", "gen-000002"}
    assert current_generation(two_generations).name == "gen-000002"  # type: ignore[union-attr]


@pytest.mark.parametrize("where", ["vector", "text"])
def test_with_nothing_intact_repair_refuses_and_names_what_can_be_recovered(
    small_index: Path, tmp_path: Path, where: str
) -> None:
    index = tmp_path / "idx"
    shutil.copytree(small_index, index)  # one generation only
    flip(index / "gen-000001", where)
    store_before = (index / "gen-000001" / "metadata.sqlite").read_bytes()

    with pytest.raises(IndexCorruptError) as info:
        repair_index(index)
    message = str(info.value)
    assert "no generation" in message and "intact" in message and "gen-000001" in message
    assert "2007.07830v2.pdf" in message  # the sources to ingest again
    assert "fresh index" in message and "embedding cache" in message
    assert (index / "gen-000001" / "metadata.sqlite").read_bytes() == store_before  # left as it was
    assert [p.name for p in index.glob("gen-*")] == ["gen-000001"]

    done = subprocess.run(
        [sys.executable, "-m", "heprag.app.cli", "--index", str(index), "index", "repair"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HEPRAG_EMBEDDING__CACHE_DIR": str(TEST_CACHE)},
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert "nothing trustworthy" in done.stderr
