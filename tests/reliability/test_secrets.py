"""Secrets (LLM API key, MCP token) never reach logs, reports, manifests, outputs or error messages."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.reliability.conftest import run_heprag

API_KEY = "sk-heprag-test-SECRET-4f9a1c"
TOKEN = "mcp-token-SECRET-77b2e0"


def test_no_secret_in_anything_a_run_writes_or_prints(small_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "idx"
    shutil.copytree(small_index, index)
    log = tmp_path / "heprag.log"
    env = {
        "HEPRAG_LLM__API_KEY": API_KEY,
        "HEPRAG_MCP__TOKEN": TOKEN,
        "HEPRAG_LLM__BASE_URL": "http://127.0.0.1:9/v1",  # nothing listens: the error path runs too
        "HEPRAG_LLM__MAX_RETRIES": "0",
        "HEPRAG_LLM__TIMEOUT_S": "2",
    }
    note = tmp_path / "note.pdf"
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_textbox(pymupdf.Rect(40, 40, 560, 800), "Magnet quench at 14:20. " * 40)
    doc.save(note)
    runs = [
        run_heprag("-v", "--index", str(index), "ingest", str(note), env=env),
        run_heprag(
            "-v",
            "--index",
            str(index),
            "ask",
            "What significance did ATLAS observe for the Higgs boson decay to two muons?",
            "--backend",
            "openai",
            env=env,
        ),
        run_heprag("--index", str(index), "ask", "ttH observation significance", "--json", env=env),
        run_heprag("--index", str(index), "config", "show", env=env),
        run_heprag("--index", str(index), "config", "show", "--json", env=env),
        run_heprag("--index", str(index), "index", "info", "--json", env=env),
    ]
    log.write_text("\n".join(r.stdout + r.stderr for r in runs))
    assert (
        runs[1].returncode != 0 or "127.0.0.1:9" in runs[1].stdout + runs[1].stderr
    )  # the error was reported
    written = [p for p in [*index.rglob("*"), log] if p.is_file()]
    assert any(p.name == "manifest.json" for p in written) and any("reports" in p.parts for p in written)
    for path in written:
        data = path.read_bytes()
        assert API_KEY.encode() not in data, path
        assert TOKEN.encode() not in data, path
