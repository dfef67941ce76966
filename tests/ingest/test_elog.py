"""Logbooks: real ELOG storage files, HEP-schema entries written at test time, shift-log exports."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest

from heprag.index.errors import LimitExceededError, ParseError
from heprag.ingest.sources.base import ParseLimits
from heprag.ingest.sources.elog import (
    elcode_to_text,
    html_to_text,
    is_elog_file,
    logbook_name,
    parse_elog,
    parse_shiftlog,
)
from tests.conftest import require_corpus

SEPARATOR = "=" * 40


def test_real_cruise_logbooks_threads_attributes_and_bodies(caplog: pytest.LogCaptureFixture) -> None:
    root = require_corpus("logbooks", "elog", "azmp_cruise_elog")
    with caplog.at_level(logging.WARNING):
        docs = list(parse_elog(root))
    raw_entries = sum(p.read_bytes().count(b"$@MID@$:") for p in root.rglob("*.log"))
    assert raw_entries == 1375
    # logbooks/250410atest2.log repeats every entry of 250410atest.log: read once, reported once
    duplicates = [r for r in caplog.records if "already read from" in r.getMessage()]
    assert len(duplicates) == 1 and "250410atest2.log: 41 entries skipped" in duplicates[0].getMessage()
    assert len(docs) == len({d.doc_id for d in docs}) == raw_entries - 41
    assert all(d.source == "elog" and d.source_type == "logbook" for d in docs)
    by_id = {d.doc_id: d for d in docs}
    note = by_id["elog:EN728 Observations/5"]
    assert note.blocks[0].text.startswith("Input flow into TSG system was modified at 11:55 UTC on March 31")
    assert (
        note.blocks[0].kind == "logbook" and note.date is not None and note.date.isoformat() == "2025-03-31"
    )
    assert re.fullmatch(r"2025-03-31 \d\d:\d\d", str(note.extra["time"]))
    assert note.extra["logbook"] == "EN728 Observations" and note.extra["entry_id"] == 5
    in_reply = sum(
        p.read_bytes().count(b"\nIn reply to: ") for p in root.rglob("*.log") if p.name != "250410atest2.log"
    )
    assert sum(1 for d in docs if "reply_to" in d.extra) == in_reply > 800
    reply = by_id["elog:DY18402/2"]
    assert reply.extra["reply_to"] == 1 and reply.extra["replies"] == "3" and reply.extra["thread_root"] == 1
    assert by_id["elog:DY18402/3"].extra["thread_root"] == 1
    # attribute-only entries (no body) are searchable through their attributes
    assert "Station: M2264" in reply.blocks[0].text and reply.extra["station"] == "M2264"
    assert reply.extra["time_position"].startswith("2024-10-04 | 174059")
    assert all(isinstance(v, str | int | float | bool | type(None)) for d in docs for v in d.extra.values())


def test_real_demo_entry_elcode_and_logbook_folder(tmp_path: Path) -> None:
    demo = require_corpus("logbooks", "elog", "psi_elog_demo", "logbooks_demo_2001", "011108a.log")
    day_file = tmp_path / "logbooks" / "demo" / "2001" / demo.name  # elogd's own layout
    day_file.parent.mkdir(parents=True)
    shutil.copy(demo, day_file)
    assert is_elog_file(day_file) and logbook_name(day_file) == "demo"
    [doc] = list(parse_elog(day_file))
    assert doc.doc_id == "elog:demo/1" and doc.title == "Welcome" and doc.authors == ["Stefan Ritt"]
    assert doc.blocks[0].section == ["Routine", "General"]
    assert doc.blocks[0].text.startswith("Congratulations for installing ELOG sucessfully!")
    assert "[B]" not in doc.blocks[0].text and 'Click "New" to add new pages' in doc.blocks[0].text
    assert doc.extra["time"] == "2001-11-08 18:37" and doc.extra["encoding"] == "ELCode"


def isolde_schema() -> tuple[list[str], list[str], list[str]]:
    """Attributes, experiments and categories of the real ISOLDE/MINIBALL `[mb]` logbook configuration."""
    cfg = require_corpus("logbooks", "elog", "hep_elogd_configs", "isolde_miniball_elogd.cfg").read_text()
    section = cfg.split("[mb]", 1)[1].split("\n[", 1)[0]

    def option(name: str) -> list[str]:
        line = re.search(rf"^{name}\s*=\s*(.+)$", section, re.MULTILINE)
        assert line is not None, name
        return [v.strip() for v in line.group(1).split(",")]

    return option("Attributes"), option("Options Experiment"), option("MOptions Category")


def entry(mid: int | str, date: str, fields: dict[str, str], body: str, encoding: str = "plain") -> str:
    header = "".join(f"{k}: {v}\n" for k, v in fields.items())
    return f"$@MID@$: {mid}\nDate: {date}\n{header}Encoding: {encoding}\n{SEPARATOR}\n{body}\n"


def write_isolde_day(folder: Path) -> Path:
    """A day of MINIBALL shift entries in elogd's storage format, using the real logbook schema."""
    attributes, experiments, categories = isolde_schema()
    assert attributes == ["Login", "Author", "Experiment", "Category", "Docu", "Template", "Subject"]

    def fields(
        author: str, category: str, subject: str, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        row = ["shifter", author, experiments[-1], category, "0", "none", subject]
        values = dict(zip(attributes, row, strict=True))
        return values | {"Attachment": ""} | (extra or {})

    run, beam = categories.index("RUN"), categories.index("beam")
    entries = [
        entry(410, "Fri, 03 May 2024 14:20:11 +0200",
              fields("Anna Shifter", categories[run], "Run 1234 started", {"Reply to": "412, 413"}),
              "<p>Run 1234 started with <b>file</b> run_1234.med &amp; trigger rate 1.2&nbsp;kHz.<br>"
              "Beam: <i>74Zn</i></p><script>alert(1)</script><ul><li>HV ok</li><li>DAQ ok</li></ul>", "HTML"),
        entry(411, "Fri, 03 May 2024 14:25:00 +0200", fields("A. B.", "DAQ", "no separator"), "x").replace(
            SEPARATOR + "\n", ""
        ),
        entry(412, "Fri, 03 May 2024 15:02:40 +0200",
              fields("Jürgen Müller", f"{categories[run]} | {categories[beam]}", "Re: Run 1234 started",
                     {"In reply to": "410", "Attachment": "240503_150240_rates.png,240503_150240_hv.txt"}),
              "[B]Beam lost[/B] at 15:00, see [URL=https://isolde.web.cern.ch/]ISOLDE status[/URL]\n"
              "[LIST][*]target heating restored[*]REX retuned[/LIST][IMG]rates.png[/IMG]", "ELCode"),
        entry(413, "not a date", fields("C. D.", "DAQ", "bad date"), "lost"),
        entry("41x", "Fri, 03 May 2024 16:00:00 +0200", fields("E. F.", "DAQ", "bad id"), "lost"),
        entry(414, "Fri, 03 May 2024 16:30:00 +0200",
              fields("Anna Shifter", "DAQ", "Run 1234 ended", {"In reply to": "412", "Run": "1234"}),
              "Run 1234 ended with 1520331 events, size is 2048 MB duration 7200 s"),
    ]  # fmt: skip
    path = folder / "logbooks" / "mb" / "2024" / "240503a.log"
    path.parent.mkdir(parents=True)
    # elogd files mix encodings: the entry by Jürgen Müller is stored as ISO-8859-1
    path.write_bytes(b"".join(e.encode("latin-1" if "Müller" in e else "utf-8") for e in entries))
    return path


def test_hep_shift_entries_html_elcode_threads_and_malformed_entries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_isolde_day(tmp_path)
    with caplog.at_level(logging.WARNING):
        docs = {d.extra["entry_id"]: d for d in parse_elog(tmp_path / "logbooks")}
    assert sorted(docs) == [410, 412, 414]
    skipped = sorted(
        r.getMessage() for r in caplog.records if "malformed ELOG entry skipped" in r.getMessage()
    )
    lines = {int(m.group(1)) for m in (re.search(r"\.log:(\d+):", s) for s in skipped) if m}
    text = path.read_bytes().decode("latin-1").splitlines()
    assert {text[n - 1] for n in lines} == {"$@MID@$: 411", "$@MID@$: 413", "$@MID@$: 41x"}
    assert any("no '========...' line" in s for s in skipped) and any(
        "no readable Date" in s for s in skipped
    )
    started = docs[410]
    assert started.doc_id == "elog:mb/410" and started.title == "Run 1234 started"
    assert started.blocks[0].section == ["RUN"] and started.extra["experiment"] == "IS587"
    assert started.blocks[0].text == (
        "Run 1234 started with file run_1234.med & trigger rate 1.2 kHz.\nBeam: 74Zn\n\n- HV ok\n- DAQ ok"
    )
    assert started.extra["replies"] == "412,413" and "reply_to" not in started.extra
    assert (started.extra["time"], started.extra["author"]) == ("2024-05-03 14:20", "Anna Shifter")
    reply = docs[412]
    assert reply.authors == ["Jürgen Müller"] and reply.extra["reply_to"] == 410
    assert reply.blocks[0].section == ["RUN | beam"]
    assert reply.blocks[0].text == (
        "Beam lost at 15:00, see ISOLDE status (https://isolde.web.cern.ch/)\n\n"
        "- target heating restored\n- REX retuned"
    )
    assert reply.extra["attachments"] == "240503_150240_rates.png, 240503_150240_hv.txt"
    ended = docs[414]
    assert (
        ended.extra["run"] == "1234"
        and ended.extra["thread_root"] == 410
        and reply.extra["thread_root"] == 410
    )
    assert ended.blocks[0].section == ["DAQ"]


def test_elog_files_are_recognised_and_limits_apply(tmp_path: Path) -> None:
    path = write_isolde_day(tmp_path)
    build_log = tmp_path / "build.log"
    build_log.write_text("compiling...\n")
    assert is_elog_file(path) and not is_elog_file(build_log)
    with pytest.raises(ParseError, match="no '\\$@MID@\\$:' entry header"):
        list(parse_elog(build_log))
    with pytest.raises(LimitExceededError, match="max_records_per_file"):
        list(parse_elog(path, ParseLimits(max_records_per_file=3)))
    empty = tmp_path / "empty-logbook"
    empty.mkdir()
    with pytest.raises(ParseError, match="no ELOG day files"):
        list(parse_elog(empty))


def test_html_and_elcode_cleaning() -> None:
    assert (
        html_to_text("<table><tr><td>HV</td><td>1.2&nbsp;kV</td></tr></table><style>p{}</style>")
        == "HV 1.2 kV"
    )
    assert elcode_to_text("[QUOTE=Anna]beam [U]on[/U][/QUOTE] [1] [GeV]") == "beam on [1] [GeV]"


def shiftlog_lines() -> str:
    """JSONL: two good entries (a reply thread), then a bad time, a missing id and a non-JSON line."""
    run3 = {"logbook": "ATLAS-Run3", "author": "A. Shifter"}
    rows = [
        run3 | {"id": 7, "time": "2024-05-03T14:20:00+02:00", "subject": "Toroid ramp",
                "text": "Toroid ramped to 20.4 kA.", "attributes": {"Run": 475321, "System": "Magnets"}},
        run3 | {"id": 8, "time": "2024-05-03 15:05", "subject": "Re: Toroid ramp", "encoding": "html",
                "text": "<p>Confirmed &mdash; stable.</p>", "reply_to": 7, "attachments": ["ramp.png"]},
        run3 | {"id": 9, "time": "yesterday", "subject": "bad time", "text": "x"},
        run3 | {"time": "2024-05-03 16:00", "subject": "no id", "text": "x"},
    ]  # fmt: skip
    return "\n".join(json.dumps(r) for r in rows) + "\nnot json at all\n"


def test_shiftlog_jsonl_and_csv(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    jsonl = tmp_path / "run3.shiftlog.jsonl"
    jsonl.write_text(shiftlog_lines())
    with caplog.at_level(logging.WARNING):
        docs = list(parse_shiftlog(jsonl))
    assert [d.doc_id for d in docs] == ["shiftlog:ATLAS-Run3/7", "shiftlog:ATLAS-Run3/8"]
    logged = [re.search(r"jsonl:(\d+): malformed", r.getMessage()) for r in caplog.records]
    assert sorted(int(m.group(1)) for m in logged if m) == [3, 4, 5]
    first, second = docs
    assert first.extra["run"] == "475321" and first.extra["system"] == "Magnets"
    assert (
        first.extra["time"] == "2024-05-03 14:20"
        and first.title == "Toroid ramp"
        and first.source == "shiftlog"
    )
    assert second.blocks[0].text == "Confirmed — stable." and second.extra["reply_to"] == 7
    assert second.extra["thread_root"] == 7 and second.extra["attachments"] == "ramp.png"
    csv_file = tmp_path / "cms.shiftlog.csv"
    csv_file.write_text(
        "logbook,id,time,author,subject,text,Run,Subsystem\n"
        'CMS-DAQ,101,2024-06-01 08:00,D. Shifter,"Run 380001 started",'
        '"Run started,\nall subsystems in",380001,DAQ\n'
        "CMS-DAQ,,2024-06-01 09:00,E,missing id,x,,\n"
    )
    [doc] = list(parse_shiftlog(csv_file))
    assert doc.doc_id == "shiftlog:CMS-DAQ/101" and doc.blocks[0].text == "Run started,\nall subsystems in"
    assert doc.extra["run"] == "380001" and doc.extra["subsystem"] == "DAQ" and doc.authors == ["D. Shifter"]
