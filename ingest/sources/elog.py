"""Logbooks: PSI ELOG native `.log` files and directories, and JSONL/CSV "shift log" exports.

**ELOG native storage** (one file per day, `logbooks/<Logbook>/[<YYYY>/]YYMMDDa.log`)::

    $@MID@$: 412
    Date: Fri, 03 May 2024 14:20:11 +0200
    Reply to: 413, 415          <- ids of the replies to this entry
    In reply to: 398            <- the entry this one answers
    Author: A. Physicist
    Type: Routine
    Category: DAQ
    Subject: Run 1234 started
    Attachment: 240503_142011_trigger.png
    Encoding: HTML              <- plain | HTML | ELCode
    ========================================
    <body until the next "$@MID@$:" line>

Each entry becomes one Document `elog:<Logbook>/<MID>` (the logbook name is the directory above the
optional year folder). Its `extra` holds `logbook`, `entry_id`, `time` ("YYYY-MM-DD HH:MM", the
entry's own clock), `author`, `reply_to` (parent id), `replies`, `thread_root`, `attachments`, and
every other non-empty attribute under a snake_case key (`Run` -> `run`, `Time|Position` ->
`time_position`). A malformed entry is logged with file and line and skipped.

**Shift-log exports** from other systems (`*.shiftlog.jsonl`, `*.shiftlog.csv`): one entry per JSON
line or CSV row with the fields `logbook`, `id`, `time` (ISO 8601), `author`, `subject`, `text`,
and optionally `encoding` (plain | html | elcode), `reply_to`, `attachments` and `attributes`
(a JSON object of scalars; in CSV every extra column is an attribute). They become Documents
`shiftlog:<logbook>/<id>` with the same `extra` keys. See docs/logbook-formats.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from heprag.index.errors import LimitExceededError, ParseError
from heprag.index.types import Block, Document
from heprag.ingest.sources.base import FileParser, ParseLimits, check_file_size, register

log = logging.getLogger(__name__)

MID_LINE = re.compile(rb"^\$@MID@\$:", re.MULTILINE)
SEPARATOR = "=" * 40
ELOG_FILE_NAME = re.compile(r"^\d{6}[a-z]\.log$")
YEAR_DIR = re.compile(r"^\d{4}$")
SECTION_ATTRIBUTES = ("Type", "Category")
# Header fields mapped onto Document fields / fixed extra keys rather than kept as attributes.
CORE_FIELDS = {"date", "reply to", "in reply to", "author", "subject", "attachment", "encoding"}
RESERVED_KEYS = {
    "logbook", "entry_id", "time", "author", "reply_to", "replies", "thread_root", "attachments",
    "encoding", "line", "format",
}  # fmt: skip
ELCODE_TAGS = re.compile(
    r"\[/?(b|i|u|s|sub|sup|center|left|right|quote|code|list|table|h[1-6]|color|size|font|email|anchor|"
    r"line|hr|\*)(=[^\]\n]*)?\]",
    re.IGNORECASE,
)
ELCODE_URL = re.compile(r"\[url=([^\]\n]+)\](.*?)\[/url\]", re.IGNORECASE | re.DOTALL)
ELCODE_PLAIN_URL = re.compile(r"\[url\](.*?)\[/url\]", re.IGNORECASE | re.DOTALL)
ELCODE_IMG = re.compile(r"\[img\].*?\[/img\]", re.IGNORECASE | re.DOTALL)


@dataclass
class LogEntry:
    """One logbook entry before it becomes a Document (shared by the ELOG and shift-log readers)."""

    logbook: str
    entry_id: int | str
    when: dt.datetime | None
    author: str
    subject: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)
    reply_to: int | str | None = None
    replies: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    encoding: str = "plain"
    path: str = ""
    line: int = 0


class _MalformedEntry(ValueError):
    """An entry that cannot be read; the reader logs it and moves on."""


# --------------------------------------------------------------------------- body cleaning


class _HTMLText(HTMLParser):
    BLOCK: ClassVar[frozenset[str]] = frozenset(
        {"p", "div", "br", "tr", "li", "ul", "ol", "table", "pre", "blockquote", "hr", "h1", "h2", "h3", "h4"}
    )
    SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n- " if tag == "li" else "\n")
        elif tag in {"td", "th"}:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK and tag != "li":  # the next <li> starts its own line
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _tidy(text: str) -> str:
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """Visible text of an HTML body: tags dropped, entities decoded, block elements on new lines."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return _tidy("".join(parser.parts))


def elcode_to_text(text: str) -> str:
    """Plain text of an ELCode body: `[B]`, `[QUOTE]`, `[LIST]`... removed, URLs kept, images dropped."""
    text = ELCODE_IMG.sub("", text)
    text = ELCODE_URL.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = ELCODE_PLAIN_URL.sub(r"\1", text)
    text = re.sub(r"\[\*\]", "\n- ", text)
    return _tidy(ELCODE_TAGS.sub("", text))


def body_text(raw: str, encoding: str) -> str:
    """Clean an entry body according to its `Encoding` (HTML, ELCode, anything else is plain)."""
    kind = encoding.strip().lower()
    if kind == "html":
        return html_to_text(raw)
    if kind == "elcode":
        return elcode_to_text(raw)
    return _tidy(raw)


# --------------------------------------------------------------------------- ELOG native files


def is_elog_file(path: Path) -> bool:
    """ELOG day files: `YYMMDDa.log`, or any `.log` file that starts with an `$@MID@$:` line."""
    if not path.name.lower().endswith(".log"):
        return False
    if ELOG_FILE_NAME.match(path.name):
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(8) == b"$@MID@$:"
    except OSError:
        return False


def logbook_name(path: Path) -> str:
    """The logbook a day file belongs to: `logbooks/ISOLDE/2024/240503a.log` -> 'ISOLDE'."""
    parent = path.parent
    if YEAR_DIR.match(parent.name) and parent.parent.name:
        parent = parent.parent
    return parent.name or "elog"


def _decode(raw: bytes) -> str:
    """ELOG files mix UTF-8 and ISO-8859-1 entries: decode each entry on its own."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _split_header(text: str, limits: ParseLimits) -> tuple[dict[str, str], str]:
    header, sep, body = text.partition("\n" + SEPARATOR + "\n")
    if not sep:
        if not text.rstrip("\n").endswith("\n" + SEPARATOR):
            raise _MalformedEntry(f"no '{SEPARATOR[:8]}...' line between header and body")
        header, body = text.rstrip("\n")[: -len(SEPARATOR) - 1], ""
    fields: dict[str, str] = {}
    for number, line in enumerate(header.splitlines()):
        if len(line) > limits.max_line_chars:
            raise _MalformedEntry(f"header line {number + 1} is longer than ingest.max_line_chars")
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise _MalformedEntry(f"header line {line[:60]!r} is not 'Name: value'")
        fields[name.strip()] = value.strip()
    return fields, body


def _elog_entry(text: str, logbook: str, path: Path, line: int, limits: ParseLimits) -> LogEntry:
    fields, raw_body = _split_header(text, limits)
    mid = fields.pop("$@MID@$", "")
    if not mid.isdigit():
        raise _MalformedEntry(f"message id {mid[:20]!r} is not a number")
    lowered = {k.lower(): v for k, v in fields.items()}
    try:
        when = email.utils.parsedate_to_datetime(lowered["date"])
    except (KeyError, TypeError, ValueError) as exc:
        date = lowered.get("date", "missing")
        raise _MalformedEntry(f"entry {mid} has no readable Date ({date!r})") from exc
    parent = lowered.get("in reply to", "").strip()
    if parent and not parent.isdigit():
        raise _MalformedEntry(f"entry {mid} has a non-numeric 'In reply to: {parent[:20]}'")
    encoding = lowered.get("encoding", "plain") or "plain"
    return LogEntry(
        logbook=logbook,
        entry_id=int(mid),
        when=when,
        author=lowered.get("author", ""),
        subject=lowered.get("subject", ""),
        body=body_text(raw_body, encoding),
        attributes={k: v for k, v in fields.items() if k.lower() not in CORE_FIELDS and v},
        reply_to=int(parent) if parent else None,
        replies=_split_list(lowered.get("reply to", "")),
        attachments=_split_list(lowered.get("attachment", "")),
        encoding=encoding,
        path=str(path),
        line=line,
    )


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def read_elog_file(
    path: Path, limits: ParseLimits = ParseLimits(), logbook: str | None = None
) -> list[LogEntry]:
    """All well-formed entries of one ELOG day file; malformed ones are logged (file:line) and skipped."""
    check_file_size(path, limits)
    data = path.read_bytes()
    starts = [m.start() for m in MID_LINE.finditer(data)]
    if not starts:
        raise ParseError(str(path), "no '$@MID@$:' entry header found; is this an ELOG logbook file?")
    if len(starts) > limits.max_records_per_file:
        raise LimitExceededError(
            f"{path}: {len(starts):,} entries exceeds the limit of {limits.max_records_per_file:,} "
            "(ingest.max_records_per_file)"
        )
    if data[: starts[0]].strip():
        log.warning("%s:1: text before the first entry ignored", path)
    name = logbook or logbook_name(path)
    entries: list[LogEntry] = []
    for start, end in zip(starts, [*starts[1:], len(data)], strict=True):
        line = data.count(b"\n", 0, start) + 1
        try:
            entries.append(_elog_entry(_decode(data[start:end]), name, path, line, limits))
        except _MalformedEntry as exc:
            log.warning("%s:%d: malformed ELOG entry skipped: %s", path, line, exc)
    return entries


def _thread_roots(entries: Iterable[LogEntry]) -> dict[str, int | str]:
    """Root entry id of every entry's reply thread (within the entries given)."""
    parents = {str(e.entry_id): e.reply_to for e in entries}
    roots: dict[str, int | str] = {}
    for entry_id in parents:
        current: int | str = entry_id
        seen = {entry_id}
        while (parent := parents.get(str(current))) is not None and str(parent) not in seen:
            seen.add(str(parent))
            current = parent
        roots[entry_id] = int(current) if str(current).isdigit() else current
    return roots


def parse_elog(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """Parse an ELOG day file, or every `*.log` day file under a logbook directory, one Document per entry."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.log") if is_elog_file(p))
        if not files:
            raise ParseError(str(path), "no ELOG day files (YYMMDDa.log) found below this directory")
    else:
        files = [path]
    entries: list[LogEntry] = []
    for file in files:
        try:
            entries.extend(read_elog_file(file, limits))
        except ParseError as exc:
            if len(files) == 1:
                raise
            log.warning("skipped %s", exc)
    yield from _documents(entries)


def _documents(entries: Iterable[LogEntry], source: str = "elog") -> Iterator[Document]:
    """Documents of entries in order, with reply threads resolved within each logbook."""
    by_logbook: dict[str, dict[str, LogEntry]] = {}
    duplicates: dict[tuple[str, str], int] = {}
    for entry in entries:
        seen = by_logbook.setdefault(entry.logbook, {})
        if str(entry.entry_id) in seen:
            key = (entry.path, seen[str(entry.entry_id)].path)
            duplicates[key] = duplicates.get(key, 0) + 1
            continue
        seen[str(entry.entry_id)] = entry
    for (path, first), count in duplicates.items():
        log.warning("%s: %d entries skipped, their ids were already read from %s", path, count, first)
    for by_id in by_logbook.values():
        logbook_entries = list(by_id.values())
        roots = _thread_roots(logbook_entries)
        for entry in logbook_entries:
            yield entry_document(entry, source=source, thread_root=roots.get(str(entry.entry_id)))


# --------------------------------------------------------------------------- entries -> Documents


def attribute_key(name: str) -> str:
    """Snake-case key of an attribute name: 'Time|Position' -> 'time_position', 'Run' -> 'run'."""
    key = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "attribute"
    return f"attr_{key}" if key in RESERVED_KEYS else key


def entry_document(entry: LogEntry, source: str = "elog", thread_root: int | str | None = None) -> Document:
    """The Document of one logbook entry: one `logbook` block, citation fields in `extra`."""
    lowered = {k.lower(): v for k, v in entry.attributes.items()}
    section = [lowered[a.lower()] for a in SECTION_ATTRIBUTES if lowered.get(a.lower())]
    text = entry.body or "\n".join(f"{k}: {v}" for k, v in entry.attributes.items())
    extra: dict[str, str | int | float | bool | None] = {
        attribute_key(k): v for k, v in entry.attributes.items() if isinstance(v, str | int | float | bool)
    }
    extra |= {
        "logbook": entry.logbook,
        "entry_id": entry.entry_id,
        "time": entry.when.strftime("%Y-%m-%d %H:%M") if entry.when else None,
        "author": entry.author,
        "encoding": entry.encoding,
    }
    if entry.reply_to is not None:
        extra["reply_to"] = entry.reply_to
    if entry.replies:
        extra["replies"] = ",".join(entry.replies)
    if thread_root is not None:
        extra["thread_root"] = thread_root
    if entry.attachments:
        extra["attachments"] = ", ".join(entry.attachments)
    title = entry.subject or (text.strip().splitlines()[0][:100] if text.strip() else "")
    prefix = "elog" if source == "elog" else "shiftlog"
    return Document(
        doc_id=f"{prefix}:{entry.logbook}/{entry.entry_id}",
        title=title,
        authors=[entry.author] if entry.author else [],
        date=entry.when.date() if entry.when else None,
        source=source,
        source_type="logbook",
        path=entry.path or None,
        blocks=[Block(text=text, section=section, kind="logbook")] if text.strip() else [],
        extra=extra,
    )


# --------------------------------------------------------------------------- shift-log exports

SHIFTLOG_REQUIRED = ("logbook", "id", "time", "author", "subject", "text")


def _shiftlog_entry(row: Mapping[str, object], path: Path, line: int) -> LogEntry:
    missing = [k for k in SHIFTLOG_REQUIRED if row.get(k) in (None, "")]
    if missing and missing != ["text"]:
        raise _MalformedEntry(f"missing required field(s) {', '.join(missing)}")
    try:
        when = dt.datetime.fromisoformat(str(row["time"]).strip().replace("Z", "+00:00"))
    except ValueError as exc:
        bad = str(row["time"])[:40]
        raise _MalformedEntry(f"time {bad!r} is not ISO 8601 (YYYY-MM-DD HH:MM[:SS])") from exc
    attributes = row.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise _MalformedEntry("'attributes' must be an object of scalar values")
    known = {*SHIFTLOG_REQUIRED, "attributes", "encoding", "reply_to", "attachments"}
    attributes = {**{k: v for k, v in row.items() if k not in known}, **attributes}
    listed = row.get("attachments") or []
    attachments = _split_list(listed) if isinstance(listed, str) else listed
    if not isinstance(attachments, list):
        raise _MalformedEntry("'attachments' must be a list or a comma-separated string")
    entry_id, reply_to = str(row["id"]).strip(), str(row.get("reply_to") or "").strip()
    encoding = str(row.get("encoding") or "plain")
    return LogEntry(
        logbook=str(row["logbook"]).strip(),
        entry_id=int(entry_id) if entry_id.isdigit() else entry_id,
        when=when,
        author=str(row["author"]).strip(),
        subject=str(row["subject"]).strip(),
        body=body_text(str(row.get("text") or ""), encoding),
        attributes={str(k): str(v) for k, v in attributes.items() if v not in (None, "") and k},
        reply_to=(int(reply_to) if reply_to.isdigit() else reply_to) or None,
        attachments=[str(a) for a in attachments],
        encoding=encoding,
        path=str(path),
        line=line,
    )


def _shiftlog_rows(path: Path, limits: ParseLimits) -> Iterator[tuple[int, Mapping[str, object] | str]]:
    """(line, row) pairs of a shift-log file; a row that is not even a record comes as an error string."""
    if path.name.lower().endswith(".csv"):
        previous = csv.field_size_limit()
        csv.field_size_limit(limits.max_line_chars)
        try:
            with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
                reader = csv.DictReader(handle)
                for row in reader:
                    yield reader.line_num, {k: v for k, v in row.items() if k is not None}
        except csv.Error as exc:
            reason = f"unreadable CSV ({exc}); check the quoting, or raise ingest.max_line_chars"
            raise ParseError(str(path), reason) from exc
        finally:
            csv.field_size_limit(previous)
        return
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if len(line) > limits.max_line_chars:
                yield number, "line longer than ingest.max_line_chars"
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, f"not JSON ({exc.msg})"
                continue
            yield number, row if isinstance(row, dict) else "not a JSON object"


def parse_shiftlog(path: Path, limits: ParseLimits = ParseLimits()) -> Iterator[Document]:
    """Parse a `*.shiftlog.jsonl` / `*.shiftlog.csv` export; bad rows are logged (file:line) and skipped."""
    check_file_size(path, limits)
    entries: list[LogEntry] = []
    for line, row in _shiftlog_rows(path, limits):
        if len(entries) >= limits.max_records_per_file:
            raise LimitExceededError(
                f"{path}: more than {limits.max_records_per_file:,} entries (ingest.max_records_per_file)"
            )
        try:
            if isinstance(row, str):
                raise _MalformedEntry(row)
            entries.append(_shiftlog_entry(row, path, line))
        except _MalformedEntry as exc:
            log.warning("%s:%d: malformed shift-log entry skipped: %s", path, line, exc)
    yield from _documents(entries, source="shiftlog")


def _is_shiftlog(path: Path) -> bool:
    return path.name.lower().endswith((".shiftlog.jsonl", ".shiftlog.csv"))


register(FileParser("elog", is_elog_file, parse_elog))
register(FileParser("shiftlog", _is_shiftlog, parse_shiftlog))
