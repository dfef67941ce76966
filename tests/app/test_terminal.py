"""Document text never drives the terminal: Rich markup and escape sequences are shown, not obeyed.

The hostile document is written by the test: `[/]` (a Rich MarkupError), `[bold red]` (a colour),
`[link=file:///etc/passwd]x[/link]` (a clickable link), `[fb]` (a unit Rich would swallow: the real
arXiv:1207.7214v2 passage "σ × B(H →γγ) [fb] 39 50"), an ANSI colour and an OSC-8 hyperlink.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.table import Table
from typer.testing import CliRunner

from heprag.app import cli
from heprag.app.chat.render import escape_markdown
from heprag.app.terminal import SafeConsole, SafeFormatter, literal, printable, tagged
from tests.conftest import TEST_CACHE

MARKUP = ["[/]", "[bold red]lost[/bold red]", "[link=file:///etc/passwd]x[/link]", "[fb] 39 50", ":warning:"]
ANSI = "\x1b[31mred\x1b[0m"
OSC8 = "\x1b]8;;file:///etc/passwd\x1b\\click\x1b]8;;\x1b\\"
HOSTILE = (  # every probe within the 220 characters of a search snippet
    "Beam log\n\nBeam [/] [bold red]lost[/bold red] [link=file:///etc/passwd]x[/link] "
    f"σ × B(H →γγ) [fb] 39 50 :warning: {ANSI} {OSC8}. The calorimeter timing drift was corrected after the "
    "firmware update of the front-end boards.\n"
)
runner = CliRunner()


def heprag(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An index whose one document is HOSTILE, in a folder whose path holds `[/]` too."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "beam-log.txt").write_text(HOSTILE)
    index = folder / "idx[/]x"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEPRAG_EMBEDDING__CACHE_DIR", str(TEST_CACHE))
        code, out = heprag("--index", str(index), "-q", "ingest", str(folder / "beam-log.txt"))
    assert code == 0, out
    assert "idx[/]x" in out  # the index path, shown as it is
    yield index


@pytest.fixture()
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide console, so that table cells are not wrapped in the middle of a probe."""
    monkeypatch.setattr(cli.console, "width", 1000)


def assert_literal(out: str) -> None:
    assert "\x1b" not in out and "\r" not in out and "\x9b" not in out, repr(out)
    for probe in MARKUP:
        assert probe in out, (probe, out)
    assert "\\x1b[31mred\\x1b[0m" in out and "\\x1b]8;;file:///etc/passwd" in out  # shown, not obeyed


def test_search_shows_markup_and_escapes_literally(hostile_index: Path, wide: None) -> None:
    code, out = heprag("--index", str(hostile_index), "search", "calorimeter timing firmware beam", "-k", "3")
    assert code == 0, out
    assert_literal(out)


def test_ask_shows_markup_and_escapes_literally(hostile_index: Path, wide: None) -> None:
    code, out = heprag("--index", str(hostile_index), "ask", "When was the beam lost?")
    assert code == 0, out
    assert "\x1b" not in out and "\r" not in out
    assert "[/]" in out and "[bold red]lost[/bold red]" in out


def test_verify_and_info_show_an_index_path_with_markup(hostile_index: Path) -> None:
    code, out = heprag("--index", str(hostile_index), "index", "verify")
    assert code == 0 and "idx[/]x" in out and "consistent" in out
    code, out = heprag("--index", str(hostile_index), "index", "info")
    assert code == 0 and "idx[/]x" in out


def test_an_error_naming_a_path_with_markup_is_printed_not_parsed(tmp_path: Path) -> None:
    missing = tmp_path / "no[/]where[bold]"
    done = subprocess.run(
        [sys.executable, "-m", "heprag.app.cli", "--index", str(missing), "search", "higgs"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "MarkupError" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "no[/]where[bold]" in done.stderr


# -- the pieces, without an index ----------------------------------------------------------------
def test_printable_escapes_every_control_but_newline_and_tab() -> None:
    assert printable("a\x1b[31mb\x07c\rd\x9be\u202ef\tg\nh") == "a\\x1b[31mb\\ac\\rd\\x9be\\u202ef\tg\nh"
    assert printable("[/] [fb] σ × B(H →γγ)") == "[/] [fb] σ × B(H →γγ)"


def test_the_safe_console_prints_markup_as_text_in_strings_and_tables() -> None:
    console = SafeConsole(record=True, width=200, force_terminal=True)
    console.print("σ × B(H →γγ) [fb] 39 50 [/] [bold red]x[/bold red] :warning:" + ANSI)
    table = Table()
    table.add_column("snippet")
    table.add_row("[link=file:///etc/passwd]x[/link] " + OSC8)
    console.print(table)
    console.print(tagged("error:", "[/] " + ANSI), literal("[fb]"))
    text = console.export_text(clear=False)
    for probe in (
        "[fb] 39 50",
        "[/]",
        "[bold red]x[/bold red]",
        ":warning:",
        "[link=file:///etc/passwd]x[/link]",
    ):
        assert probe in text
    assert "\x1b" not in text and "\\x1b[31m" in text and "\\x1b]8;;" in text
    assert "href" not in console.export_html()  # no hyperlink was made


def test_log_records_are_escaped() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "skipped %s", (f"/tmp/{ANSI}.pdf",), None)
    assert "\x1b" not in SafeFormatter("%(message)s").format(record)


def test_the_chat_escapes_the_same_document_text() -> None:
    out = escape_markdown(HOSTILE)
    assert not re.search(r"(?<!\\)[\[\]:]", out)  # every bracket and colon escaped: no link, no directive
    assert "\\[link=file\\:///etc/passwd\\]x\\[/link\\]" in out and "\\[fb\\] 39 50" in out
