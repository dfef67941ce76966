"""8 concurrent readers keep answering from complete generations while a writer ingests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from heprag.app.library import Library
from tests.conftest import TEST_CACHE

QUERIES = ["ttH production", "Higgs boson decay to bottom quarks", "dimuon signal strength", "b-tagging"]


def _write_pdf(path: Path, text: str) -> None:
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_textbox(pymupdf.Rect(40, 40, 560, 800), text, fontsize=10)
    doc.save(path)


def test_readers_see_whole_generations_and_never_fail_while_an_ingest_runs(
    small_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "idx"
    shutil.copytree(small_index, index)
    errors: list[BaseException] = []
    generations_seen: set[str] = set()
    searches = 0
    lock = threading.Lock()
    stop = threading.Event()

    def reader(n: int) -> None:
        nonlocal searches
        library = Library.open(index)
        while not stop.is_set():
            try:
                hits = library.search(QUERIES[n % len(QUERIES)], k=5)
                assert len(hits) == 5
                gen = library.index
                counts = gen.meta.counts()
                assert counts == gen.manifest.counts  # a reader never sees a half-written generation
                with lock:
                    searches += 1
                    generations_seen.add(gen.generation.name)
                time.sleep(0.05)  # leave the writer some of the 2 CPU cores
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(2)
    extra = tmp_path / "extra"
    extra.mkdir()
    for n in range(2):  # new documents force a real new generation
        _write_pdf(
            extra / f"shift-note-{n}.pdf", f"Shift note {n}: the muon trigger thresholds were raised. " * 40
        )
    writer = subprocess.run(
        [sys.executable, "-m", "heprag.app.cli", "--quiet", "--index", str(index), "ingest", str(extra)],
        env={
            "HEPRAG_EMBEDDING__CACHE_DIR": str(TEST_CACHE),
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path.home()),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    assert writer.returncode == 0, writer.stderr
    assert not errors, repr(errors[0])
    assert searches > 16
    assert len(generations_seen) == 2, generations_seen  # the old generation, then the new one
