"""`heprag index verify | repair` against a flipped byte that SQLite's own integrity check cannot see.

One byte of a segment's metadata.sqlite is flipped, in a chunk's vector blob (its score becomes ~1e36)
or in a chunk's text (no longer UTF-8). `verify` must flag it and name the chunk; `repair` must never
rebuild from the damaged store: it returns to a generation that verifies (search results equal to that
generation's) or, when every generation shares the damaged segment, refuses and leaves the index as it was.
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
from heprag.index.maintenance import repair_index, verify_index
from heprag.index.store import CURRENT, current_generation
from tests.conftest import TEST_CACHE

QUERIES = ["observed significance of the dimuon decay", "ttH production observation", "H to bb in VH"]
MODES = ("dense", "bm25", "hybrid")
NOTE = "Beam notes: the dimuon trigger threshold was raised to 26 GeV after the ttH observation run."


def results(index: Path) -> dict[tuple[str, str], list[tuple[str, float]]]:
    library = Library.open(index)
    return {
        (query, mode): [(h.chunk.chunk_id, round(h.score, 5)) for h in library.search(query, k=8, mode=mode)]  # type: ignore[arg-type]
        for query in QUERIES
        for mode in MODES
    }


def newest_segment(index: Path) -> Path:
    return max((index / "segments").glob("seg-*"))


def flip(segment: Path, where: str, like: str) -> str:
    """Flip one byte of the segment's store inside one chunk's vector or text; returns that chunk's id."""
    store = segment / "metadata.sqlite"
    db = sqlite3.connect(store)
    chunk_id, text, blob = db.execute(
        "SELECT chunk_id, text, vector FROM chunks WHERE chunk_id LIKE ? ORDER BY ordinal DESC", (like,)
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
    return str(chunk_id)


@pytest.mark.parametrize("where", ["vector", "text"])
def test_damage_in_a_new_segment_is_flagged_and_repair_returns_to_the_generation_before_it(
    small_index: Path, tmp_path: Path, where: str
) -> None:
    index = tmp_path / "idx"
    shutil.copytree(small_index, index)
    before = results(index)
    note = tmp_path / "notes" / "beam-notes.txt"
    note.parent.mkdir()
    note.write_text(NOTE + "\n" + NOTE.replace("26", "28") + "\n")
    Library.open(index).ingest([note.parent])
    assert current_generation(index).name == "gen-000002"  # type: ignore[union-attr]
    damaged = flip(newest_segment(index), where, "%beam-notes%")

    problems = verify_index(index)
    assert any("metadata.sqlite: checksum mismatch" in p for p in problems), problems
    kind = "absurd norm" if where == "vector" else "not valid UTF-8"
    assert any(kind in p and damaged in p for p in problems), problems

    done = repair_index(index)
    assert "restored gen-000001" in done and "gen-000002 is damaged and kept" in done, done
    assert verify_index(index) == []
    assert results(index) == before  # the generation before the damage, exactly; the damaged chunk is gone
    assert {p.name for p in index.glob("gen-*")} == {"gen-000001", "gen-000002"}  # nothing pruned


@pytest.mark.parametrize("where", ["vector", "text"])
def test_with_nothing_intact_repair_refuses_and_leaves_the_index_as_it_was(
    small_index: Path, tmp_path: Path, where: str
) -> None:
    index = tmp_path / "idx"
    shutil.copytree(small_index, index)  # one generation, one segment
    flip(newest_segment(index), where, "arXiv:2007.07830v2#%")
    store = newest_segment(index) / "metadata.sqlite"
    store_before, pointer_before = store.read_bytes(), (index / CURRENT).read_text()

    with pytest.raises(IndexCorruptError) as info:
        repair_index(index)
    message = str(info.value)
    assert "nothing trustworthy" in message and "checksum mismatch" in message
    assert "fresh --index" in message and "embedding cache" in message
    assert store.read_bytes() == store_before and (index / CURRENT).read_text() == pointer_before

    done = subprocess.run(
        [sys.executable, "-m", "heprag.app.cli", "--index", str(index), "index", "repair"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HEPRAG_EMBEDDING__CACHE_DIR": str(TEST_CACHE)},
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert "nothing trustworthy" in done.stderr
