"""The CLI under the inputs a new user gives it: one actionable line, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heprag.app.cli import app
from heprag.app.cli_group import normalize_args
from heprag.ingest.report import IngestReport
from tests.conftest import TEST_CACHE

runner = CliRunner()
HEPRAG = Path(sys.executable).parent / "heprag"
DEAD_LLM = "127.0.0.1:9"  # nothing listens on the discard port
MUON_QUESTION = "What significance did ATLAS observe for the Higgs boson decay to two muons?"


def heprag(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def assert_one_line_error(out: str, *fragments: str) -> None:
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out
    assert "Traceback" not in out
    for fragment in fragments:
        assert fragment in lines[0], out


# -- the index folder -------------------------------------------------------------------------------
def test_an_index_that_is_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("not a folder")
    (tmp_path / "a.txt").write_text("The Higgs boson decays to two muons.")
    code, out = heprag("--index", str(tmp_path / "f"), "ingest", str(tmp_path / "a.txt"))
    assert code == 2
    assert_one_line_error(out, "is a file, not a folder", "--index")


def test_an_index_below_a_file_is_refused_before_any_parsing_or_embedding(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("not a folder")
    (tmp_path / "a.txt").write_text("The Higgs boson decays to two muons.")
    code, out = heprag("--index", str(tmp_path / "f" / "sub"), "ingest", str(tmp_path / "a.txt"))
    assert code == 2 and "Parsing" not in out and "Embedding" not in out
    assert_one_line_error(out, f"{tmp_path / 'f'} is a file")


def test_an_index_where_no_folder_can_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("The Higgs boson decays to two muons.")
    code, out = heprag("--index", "/proc/x", "ingest", str(tmp_path / "a.txt"))
    assert code == 2
    assert_one_line_error(out, "cannot use /proc/x as the index folder")


def test_searching_a_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    code, out = heprag("--index", str(tmp_path / "nowhere"), "search", "Higgs")
    assert code == 2
    assert_one_line_error(out, "no index at", f"heprag --index {tmp_path / 'nowhere'} ingest PATH")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("not a folder")
    result = runner.invoke(app, ["--index", str(tmp_path / "f"), "ingest", str(tmp_path), "--debug"])
    assert result.exit_code != 0 and "is a file" in str(result.exception)


# -- settings ---------------------------------------------------------------------------------------
def test_a_misspelt_environment_variable_is_an_error_naming_the_right_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEPRAG_RETRIEVEL__K", "3")
    code, out = heprag("config", "show")
    assert code == 2
    assert_one_line_error(out, "HEPRAG_RETRIEVEL__K", "did you mean HEPRAG_RETRIEVAL__K?")


def test_the_variables_heprag_itself_uses_are_accepted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "HEPRAG_INDEX_DIR": str(tmp_path / "idx"),
        "HEPRAG_FAULT_INJECT": "",
        "HEPRAG_TEST_ANYTHING": "1",
        "HEPRAG_RETRIEVAL__K": "3",
        "HEPRAG_MCP__TOKEN": "t",
    }.items():
        monkeypatch.setenv(name, value)
    code, out = heprag("config", "show", "--json")
    assert code == 0 and '"k": 3' in out


def test_a_bad_config_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "heprag.toml"
    config.write_text("[retrieval]\nk = 0\nkk = 3\n")
    code, out = heprag("--config", str(config), "config", "show")
    assert code == 2
    assert_one_line_error(out, "retrieval.k", "retrieval.kk")


# -- options ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "meant"),
    [
        (["ingest", "docs", "--quiet"], ["--quiet", "ingest", "docs"]),
        (["ingest", "docs", "--index", "i", "-q"], ["--index", "i", "-q", "ingest", "docs"]),
        (
            ["--index", "i", "search", "x", "--config=c.toml"],
            ["--index", "i", "--config=c.toml", "search", "x"],
        ),
        (["ask", "--debug", "--", "-q"], ["--debug", "ask", "--", "-q"]),
        (["ingest", "docs", "--ray"], ["ingest", "docs", "--ray", "local"]),
        (["ingest", "--ray", "docs"], ["ingest", "--ray", "local", "docs"]),
        (["ingest", "--ray", "-q", "docs"], ["-q", "ingest", "--ray", "local", "docs"]),
        (["ingest", "--ray", "auto", "docs"], ["ingest", "--ray", "auto", "docs"]),
        (["ingest", "--ray", "ray://head:10001", "docs"], ["ingest", "--ray", "ray://head:10001", "docs"]),
    ],
)
def test_global_options_may_follow_the_subcommand_and_a_bare_ray_means_local(
    given: list[str], meant: list[str]
) -> None:
    assert normalize_args(given) == meant


def test_global_options_after_the_subcommand_take_effect(tmp_path: Path) -> None:
    code, out = heprag("config", "show", "--json", "--index", str(tmp_path / "there"), "--quiet")
    assert code == 0 and str(tmp_path / "there") in out


def test_ingest_with_a_bare_ray_runs_on_a_local_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from heprag.app import distributed

    seen: list[str | None] = []

    def fake(
        library: object, paths: object, address: str | None = None, show_progress: bool = False
    ) -> IngestReport:
        seen.append(address)
        return IngestReport(added=["text:a"], files_parsed=1)

    monkeypatch.setattr(distributed, "ingest_with_ray", fake)
    (tmp_path / "a.txt").write_text("x")
    code, out = heprag("--index", str(tmp_path / "idx"), "ingest", "--ray", str(tmp_path / "a.txt"), "-q")
    assert code == 0 and seen == ["local"], out


# -- answers without an LLM -------------------------------------------------------------------------
def test_a_backend_without_its_extra_falls_back_and_names_the_extra(small_index: Path) -> None:
    if _importable("llama_cpp"):
        pytest.skip("llama-cpp-python is installed here")
    code, out = heprag("--index", str(small_index), "ask", MUON_QUESTION, "--backend", "llamacpp")
    assert code == 0 and "Traceback" not in out
    assert "pip install 'heprag[llamacpp]'" in out and "extractive" in out
    assert "Sources:" in out


def test_an_unreachable_llm_endpoint_falls_back_to_extractive_with_a_note(
    small_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("openai")
    monkeypatch.setenv("HEPRAG_LLM__BASE_URL", f"http://{DEAD_LLM}/v1")
    monkeypatch.setenv("HEPRAG_LLM__MAX_RETRIES", "0")
    result = runner.invoke(
        app, ["--index", str(small_index), "ask", MUON_QUESTION, "--backend", "openai", "--json"]
    )
    assert result.exit_code == 0
    assert '"backend": "extractive"' in result.stdout
    assert "note: the openai backend failed" in result.stderr and DEAD_LLM in result.stderr


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# -- ingest: failures once, full disk, Ctrl-C -------------------------------------------------------
def test_a_file_that_fails_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 junk")
    code, out = heprag("--index", str(tmp_path / "idx"), "-q", "ingest", str(tmp_path / "bad.pdf"))
    assert code == 1 and [line for line in out.splitlines() if "bad.pdf" in line] == [out.splitlines()[0]]
    assert "failed: " in out and "nothing could be ingested" in out


def test_a_full_disk_while_publishing_is_one_line_and_the_live_index_stays(
    small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from heprag.index.maintenance import verify_index
    from heprag.index.store import IndexWriter, current_generation

    index = tmp_path / "idx"
    shutil.copytree(small_index, index)
    live = current_generation(index)
    assert live is not None

    def full(self: IndexWriter, *args: object, **kwargs: object) -> Path:
        raise RuntimeError("Error in faiss::FileIOWriter: fwrite failed: No space left on device")

    monkeypatch.setattr(IndexWriter, "publish", full)
    (tmp_path / "new.txt").write_text("The Higgs boson decays to two muons.")
    code, out = heprag("--index", str(index), "-q", "ingest", str(tmp_path / "new.txt"))
    assert code == 1
    assert_one_line_error(
        out, f"no space left on device writing {index}", f"live index is intact ({live.name})"
    )
    assert current_generation(index) == live and verify_index(index) == []


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(
    not HEPRAG.exists() or sys.platform != "linux", reason="needs the console script on Linux"
)
def test_ctrl_c_mid_ingest_says_what_was_kept_and_a_rerun_resumes(
    small_pdf_dir: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEPRAG_")}
    env.update(HEPRAG_EMBEDDING__CACHE_DIR=str(TEST_CACHE), HF_HUB_OFFLINE="1")
    cmd = [str(HEPRAG), "--index", str(tmp_path / "idx"), "ingest", str(small_pdf_dir), "-q"]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not _children(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)  # the parse worker appears once parsing has begun
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and err.count("interrupted") == 1, err
    assert "Re-run the same command to resume" in err
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0 and "3 added" in rerun.stdout, rerun.stderr
