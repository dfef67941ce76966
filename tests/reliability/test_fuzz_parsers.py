"""Fuzzing every parser with mutated real inputs: only HepragErrors escape, nothing hangs, nothing is
written outside the work directory. The case counts are printed for docs/reliability.md."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heprag.index.errors import HepragError
from heprag.ingest.sources.base import ParseLimits, parser_for
from tests.conftest import require_corpus

LIMITS = ParseLimits(max_file_bytes=5_000_000, max_pages=50, max_decompressed_bytes=20_000_000)
CASES = 40  # per format: 6 formats x 40 = 240 mutated files per run
PER_CASE_SECONDS = 20
RESULTS: dict[str, dict[str, int]] = {}


def _seed_pdf() -> bytes:
    return (require_corpus("pdfs", "higgs") / "1804.02610v2.pdf").read_bytes()[:400_000]


def _seed_tex() -> bytes:
    return next(sorted(require_corpus("latex", "hsf").rglob("*.tex")).__iter__()).read_bytes()[:60_000]


def _seed_elog() -> bytes:
    logs = sorted(require_corpus("logbooks", "elog", "psi_elog_demo").rglob("*.log"))
    return logs[0].read_bytes()[:40_000]


def _seed_jsonl() -> bytes:
    path = require_corpus("abstracts", "arxiv_hepth_2026", "hepth_2026.jsonl")
    return b"".join(path.read_bytes().splitlines(keepends=True)[:5])


def _seed_marcxml() -> bytes:
    """The first real records of the INSPIRE demo export, as a complete MARCXML collection."""
    path = require_corpus("inspire", "marcxml_demo", "demo-records.xml.gz")
    xml = gzip.decompress(path.read_bytes())
    end = xml.find(b"</record>", 20_000) + len(b"</record>")
    return xml[:end] + b"\n</collection>\n"


def _seed_tarball() -> bytes:
    """An uncompressed tar of a real .tex file; the mutated tar is gzipped afterwards (see FINISH)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = _seed_tex()
        info = tarfile.TarInfo("main.tex")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


FORMATS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "pdf": (".pdf", _seed_pdf),
    "tex": (".tex", _seed_tex),
    "elog": ("240101a.log", _seed_elog),
    "jsonl": (".jsonl", _seed_jsonl),
    "marcxml": (".xml", _seed_marcxml),
    "tarball": (".tar.gz", _seed_tarball),
}


def _mutate(seed: bytes, data: st.DataObject) -> bytes:
    out = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "duplicate", "delete"]))
        pos = data.draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "flip" and out:
            out[pos] ^= data.draw(st.integers(1, 255))
        elif kind == "truncate":
            del out[pos:]
        elif kind == "insert":
            out[pos:pos] = data.draw(st.binary(min_size=1, max_size=64))
        elif kind == "duplicate":
            out[pos:pos] = out[pos : pos + data.draw(st.integers(1, 4096))]
        elif kind == "delete":
            del out[pos : pos + data.draw(st.integers(1, 512))]
    return bytes(out)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_mutated_real_inputs_never_escape_as_unhandled_errors(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_corpus()
    suffix, seed_fn = FORMATS[fmt]
    seed = seed_fn()
    system_tmp = tmp_path / "system-tmp"  # parsers' own temp files must land here and be cleaned up
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    tally = RESULTS.setdefault(fmt, {"cases": 0, "parsed": 0, "rejected": 0})
    counter = itertools.count()

    @settings(max_examples=CASES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        work = tmp_path / f"case{next(counter)}"
        work.mkdir()
        path = work / (f"x{suffix}" if suffix.startswith(".") else suffix)
        mutated = _mutate(seed, data)
        path.write_bytes(gzip.compress(mutated) if fmt == "tarball" else mutated)
        parser = parser_for(path)  # content-sniffing parsers may no longer recognise the file
        started = time.monotonic()
        try:
            if parser is None:
                raise HepragError("unsupported file (the pipeline reports it as such)")
            docs = list(parser.parse(path, LIMITS))
            tally["parsed"] += 1
            json.dumps([d.model_dump(mode="json") for d in docs])  # the Documents are well-formed
        except HepragError:
            tally["rejected"] += 1
        finally:
            tally["cases"] += 1
        assert time.monotonic() - started < PER_CASE_SECONDS, "a parser took too long on a mutated file"
        assert sorted(p.name for p in work.iterdir()) == [path.name], "a parser wrote beside its input"

    run()
    assert list(system_tmp.iterdir()) == [], "a parser left temporary files behind"
    assert all(p.name == "system-tmp" or p.name.startswith("case") for p in tmp_path.iterdir())
    print(f"\nfuzz {fmt}: {tally}")
